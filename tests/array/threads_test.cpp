// Arrays and threads: any thread may free any array (ray_array_free and free()), arrays outlive
// the thread that made them, and threads growing their own arrays at once do not interfere.
#include <gtest/gtest.h>
#include <stdint.h>
#include <stdlib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "array_support.hpp"
#include "rayalloc.h"

using namespace array_test;

// free() takes arrays when rayalloc replaces malloc; with the prefixed library (the system
// malloc stays, as under the sanitizers) ray_free does.
#ifdef ARRAY_TEST_PREFIXED
#define FREE ray_free
#else
#define FREE free
#endif

namespace {

// Arrays of mixed sizes (slab blocks and spans), tagged so a mix-up is caught.
std::vector<void *> make_arrays(int n, uint32_t tag) {
  std::vector<void *> v;
  for (int i = 0; i < n; i++) {
    size_t len = (i % 50 == 0) ? 200000 : size_t(i % 300);
    void *a = ray_array_new(1, len, nullptr);
    a = ray_array_resize(a, len);
    fill_pattern(a, len, tag + i);
    v.push_back(a);
  }
  return v;
}

TEST(ArrayThreads, FreedOnAnotherThread) {
  for (int round = 0; round < 5; round++) {
    std::vector<void *> arrays = make_arrays(5000, 77);
    std::thread t([&] {
      for (size_t i = 0; i < arrays.size(); i++) {
        ASSERT_EQ(check_pattern(arrays[i], ray_array_len(arrays[i]), 77 + uint32_t(i)),
                  ray_array_len(arrays[i]));
        if (i & 1)
          ray_array_free(arrays[i]);
        else
          FREE(arrays[i]);
      }
    });
    t.join();
  }
  // The memory those frees gave back is used again by this thread.
  std::vector<void *> again = make_arrays(5000, 5);
  for (void *a : again) ray_array_free(a);
}

TEST(ArrayThreads, ArraysOutliveTheirThread) {
  std::vector<void *> arrays;
  std::thread t([&] { arrays = make_arrays(3000, 1234); });
  t.join();
  // Grow them here (the old blocks belong to an exited thread's heap), then free.
  for (size_t i = 0; i < arrays.size(); i++) {
    size_t len = ray_array_len(arrays[i]);
    arrays[i] = ray_array_reserve(arrays[i], len * 2 + 10);
    ASSERT_NE(arrays[i], nullptr);
    ASSERT_EQ(check_pattern(arrays[i], len, 1234 + uint32_t(i)), len);
    ray_array_free(arrays[i]);
  }
}

TEST(ArrayThreads, ConcurrentGrowthAndCrossFrees) {
  const int kThreads = 4;
  std::vector<std::thread> ts;
  std::vector<std::vector<void *>> handoff(kThreads);
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      std::vector<void *> mine;
      for (int i = 0; i < 2000; i++) {
        auto *a = static_cast<uint32_t *>(ray_array_new(4, 0, nullptr));
        for (uint32_t k = 0; k < uint32_t(i % 500); k++)
          a = static_cast<uint32_t *>(ray_array_push(a, &k));
        for (uint32_t k = 0; k < uint32_t(i % 500); k++) ASSERT_EQ(a[k], k);
        mine.push_back(a);
      }
      handoff[t] = mine;
      ready++;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (void *a : handoff[(t + 1) % kThreads]) ray_array_free(a);  // a neighbour's arrays
    });
  }
  for (auto &t : ts) t.join();
}

}  // namespace
