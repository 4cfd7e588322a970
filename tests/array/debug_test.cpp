// The debug variant and arrays: unused capacity [len, cap) is poisoned, so a write past the
// length is reported (at the next growth or at free), while every legitimate use, including
// ray::array / ray::string (built with RAYALLOC_DEBUG from the debug target, so their length
// changes go through the library) and RAY_HINT_ZERO arrays, reports nothing.
#include <gtest/gtest.h>
#include <stdint.h>

#include <string>

#include "array_support.hpp"
#include "rayalloc.hpp"

using namespace array_test;

namespace {

#ifndef RAYALLOC_DEBUG
#error "this test is built against the debug library, whose target defines RAYALLOC_DEBUG"
#endif

TEST(ArrayDebug, LegitimateUseReportsNothing) {
  ErrorLog log;
  {
    ray::array<uint32_t> a;
    for (uint32_t i = 0; i < 100000; i++) a.push_back(i);
    a.erase(a.begin(), a.begin() + 10);
    a.insert(a.begin() + 5, 7u);
    a.resize(50);
    a.shrink_to_fit();
    a.resize(1000);
    ray::array<std::string> s;
    for (int i = 0; i < 1000; i++) s.push_back(std::to_string(i));
    ray::string str;
    for (int i = 0; i < 10000; i++) str += "abc";
    str.resize(10);
    str.shrink_to_fit();
    str += "more";
    int *c = nullptr;
    for (int i = 0; i < 1000; i++) RAY_ARR_PUSH(c, i);
    RAY_ARR_FREE(c);
    ray_array_opts z{0, RAY_HINT_ZERO, 0, nullptr};
    void *za = ray_array_new(8, 10, &z);
    za = ray_array_resize(za, 5000);
    ASSERT_EQ(ray_array_set_len(za, 3), 0);
    za = ray_array_reserve(za, 100000);
    ray_array_free(za);
    // The idiom: reserve, write into the capacity after raising the length, done.
    auto *b = static_cast<uint8_t *>(ray_array_new(1, 0, nullptr));
    b = static_cast<uint8_t *>(ray_array_reserve(b, 100));
    ASSERT_EQ(ray_array_set_len(b, 100), 0);
    memset(b, 1, 100);
    ray_array_free(b);
  }
  EXPECT_EQ(log.calls, 0);
}

TEST(ArrayDebug, WritePastLengthIsReported) {
  ErrorLog log;
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 100, nullptr));
  a = static_cast<uint32_t *>(ray_array_resize(a, 10));
  a[50] = 1;  // past len: into poisoned capacity
  ray_array_free(a);
  EXPECT_GE(log.calls, 1);
  auto *b = static_cast<uint32_t *>(ray_array_new(4, 100, nullptr));
  b = static_cast<uint32_t *>(ray_array_resize(b, 100));
  ASSERT_EQ(ray_array_set_len(b, 20), 0);  // lowering the length poisons [20, 100)
  int before = log.calls;
  b[60] = 2;
  ray_array_free(b);
  EXPECT_GT(log.calls, before);
}

}  // namespace
