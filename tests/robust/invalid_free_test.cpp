// Invalid frees: a pointer rayalloc never handed out is always detected (an O(1) range and
// chunk-map check) and reported to the error handler with the pointer, never followed; when
// the handler returns, the call does nothing and the heap keeps working. The default handler
// names the pointer on stderr and aborts.
//
// Linked to the prefixed library (statically, to read the reservation bounds), so the system
// malloc's blocks are at hand as genuinely foreign heap pointers.
#include <errno.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "arena/reservation.hpp"
#include "rayalloc.h"
#include "robust/robust_util.hpp"

namespace {

struct Report {
  int err;
  void *ptr;
  const char *msg;
};
std::atomic<int> g_calls{0};
Report g_last;

void recording_handler(int err, const char *msg, void *ptr, void *) {
  g_last = Report{err, ptr, msg};
  g_calls++;
}

class InvalidFree : public ::testing::Test {
 protected:
  void SetUp() override {
    ray_free(ray_malloc(1));  // start the engine so the reservation bounds are known
    g_calls = 0;
    ray_set_error_handler(recording_handler, nullptr);
  }
  void TearDown() override { ray_set_error_handler(nullptr, nullptr); }

  // One report naming `p`, with EINVAL.
  void expect_reported(void *p, const char *what) {
    EXPECT_EQ(g_calls.exchange(0), 1) << what;
    EXPECT_EQ(g_last.ptr, p) << what;
    EXPECT_EQ(g_last.err, EINVAL) << what;
  }
};

int g_static_int;
void a_function() {}

std::vector<std::pair<void *, const char *>> foreign_pointers(void *stack, void *system_heap,
                                                              void *mapped) {
  uintptr_t base = ray::g_res.base, end = base + ray::g_res.size;
  return {
      {stack, "stack"},
      {&g_static_int, "static"},
      {reinterpret_cast<void *>(&a_function), "code"},
      {system_heap, "system malloc"},
      {mapped, "own mmap"},
      {reinterpret_cast<void *>(base - 16), "just below the reservation"},
      {reinterpret_cast<void *>(end), "just past the reservation"},
      {reinterpret_cast<void *>(uintptr_t(16)), "near null"},
      {reinterpret_cast<void *>(~uintptr_t(15)), "top of the address space"},
  };
}

TEST_F(InvalidFree, ForeignPointersAreReportedNeverFollowed) {
  int on_stack = 0;
  void *sys = malloc(64);
  void *mapped = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  for (auto [p, what] : foreign_pointers(&on_stack, sys, mapped)) {
    EXPECT_EQ(ray_owns(p), 0) << what;
    EXPECT_EQ(g_calls.load(), 0) << "ray_owns must never report: " << what;
    ray_free(p);
    expect_reported(p, what);
    errno = 0;
    EXPECT_EQ(ray_realloc(p, 100), nullptr) << what;
    EXPECT_EQ(errno, EINVAL) << what;
    expect_reported(p, what);
    EXPECT_EQ(ray_usable_size(p), 0u) << what;
    expect_reported(p, what);
  }
  free(sys);
  munmap(mapped, 4096);
}

TEST_F(InvalidFree, PointersInsideTheReservationThatAreNotBlocks) {
  char *small = static_cast<char *>(ray_malloc(100));
  char *large = static_cast<char *>(ray_malloc(size_t(1) << 20));
  ASSERT_TRUE(small && large);
  robust::fill(small, 100, 1);
  robust::fill(large, size_t(1) << 20, 2);
  void *unused = reinterpret_cast<void *>(ray::g_res.base + ray::g_res.size - 4096);
  for (auto [p, what] : std::vector<std::pair<void *, const char *>>{
           {small + 16, "interior of a small block"},
           {small + 1, "misaligned interior"},
           {large + 4096, "interior of a large block"},
           {large + 16, "just past a large block's start"},
           {unused, "never handed out"},
           {reinterpret_cast<void *>(ray::g_res.base), "the reservation's first slice"}}) {
    ray_free(p);
    expect_reported(p, what);
  }
  // Nothing was touched: both blocks are intact and free normally.
  EXPECT_EQ(robust::first_mismatch(small, 100, 1), SIZE_MAX);
  EXPECT_EQ(robust::first_mismatch(large, size_t(1) << 20, 2), SIZE_MAX);
  ray_free(small);
  ray_free(large);
  EXPECT_EQ(g_calls.load(), 0);
}

TEST_F(InvalidFree, DoubleFreeOfALargeBlockIsReported) {
  void *p = ray_malloc(size_t(2) << 20);
  ASSERT_NE(p, nullptr);
  ray_free(p);
  ray_free(p);
  expect_reported(p, "double free");
  // The span heap was not corrupted: the space is handed out again, once.
  void *a = ray_malloc(size_t(2) << 20), *b = ray_malloc(size_t(2) << 20);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a, b);
  ray_free(a);
  ray_free(b);
  EXPECT_EQ(g_calls.load(), 0);
}

TEST_F(InvalidFree, HeapKeepsWorkingAfterManyReportsFromManyThreads) {
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; t++)
    ts.emplace_back([&, t] {
      int local = 0;
      robust::Rng rng(uint64_t(t) + 1);
      std::vector<void *> live;
      for (int i = 0; i < 2000; i++) {
        ray_free(&local);  // reported, ignored
        size_t n = 1 + rng.below(5000);
        void *p = ray_malloc(n);
        if (!p) {
          bad++;
          continue;
        }
        robust::fill(p, n, n);
        if (robust::first_mismatch(p, n, n) != SIZE_MAX) bad++;
        ray_free(p);
      }
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(g_calls.load(), 4 * 2000);
}

TEST(InvalidFreeDefault, DefaultHandlerNamesThePointerAndAborts) {
  ray_set_error_handler(nullptr, nullptr);
  static int target;
  char expect[64];
  snprintf(expect, sizeof expect, "rayalloc: .*%p", static_cast<void *>(&target));
  EXPECT_DEATH(ray_free(&target), expect);
  char *p = static_cast<char *>(ray_malloc(64));
  snprintf(expect, sizeof expect, "rayalloc: .*middle.*%p", static_cast<void *>(p + 32));
  EXPECT_DEATH(ray_free(p + 32), expect);
  ray_free(p);
}

TEST(InvalidFreeDefault, HandlerResetRestoresTheDefault) {
  ray_set_error_handler(recording_handler, nullptr);
  ray_set_error_handler(nullptr, nullptr);
  static int target;
  EXPECT_DEATH(ray_free(&target), "rayalloc");
}

}  // namespace
