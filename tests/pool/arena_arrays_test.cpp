// Arrays made in a user arena: they obey its limit and its commit reports, and reset/destroy
// invalidate them: a later use of a stale array is reported (free in every variant; the tests
// run on the debug variant, which also checks the growing calls).
#include <errno.h>

#include <vector>

#include "pool/pool_test_util.hpp"

using pooltest::ErrorRecorder;
using pooltest::Ledger;

namespace {

ray_array_opts in_arena(ray_arena *a, unsigned hints = 0) {
  ray_array_opts o{};
  o.arena = a;
  o.hints = hints;
  return o;
}

TEST(ArenaArrays, CountedInTheArenaAndItsReports) {
  Ledger l;
  ray_arena_opts ao = l.opts();
  ray_arena *a = ray_arena_new(&ao);
  ray_array_opts o = in_arena(a);
  std::vector<void *> arrays;
  for (int i = 0; i < 100; i++) {
    void *arr = ray_array_new(8, 16, &o);
    ASSERT_NE(arr, nullptr);
    for (uint64_t k = 0; k < uint64_t(1000 * i); k++) {
      void *n = ray_array_push(arr, &k);
      ASSERT_NE(n, nullptr);
      arr = n;
    }
    arrays.push_back(arr);
  }
  ray_stats s = pooltest::arena_stats(a);
  EXPECT_EQ(s.committed, l.committed);
  EXPECT_GE(s.allocated, size_t(8) * 1000 * 99 * 100 / 2);
  for (void *arr : arrays)
    ASSERT_TRUE(l.covers(arr, ray_array_len(arr) * 8)) << "array outside the reported ranges";
  for (void *arr : arrays) ray_array_free(arr);
  EXPECT_EQ(pooltest::arena_stats(a).allocated, 0u);
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
}

TEST(ArenaArrays, LimitedArenaRefusesGrowthAndKeepsTheArray) {
  ray_arena_opts ao{};
  ao.limit = size_t(2) << 20;
  ray_arena *a = ray_arena_new(&ao);
  ray_array_opts o = in_arena(a);
  void *arr = ray_array_new(1, 1000, &o);
  ASSERT_NE(arr, nullptr);
  arr = ray_array_resize(arr, 1000);
  memset(arr, 9, 1000);
  errno = 0;
  EXPECT_EQ(ray_array_reserve(arr, size_t(8) << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ray_array_len(arr), 1000u);
  EXPECT_EQ(static_cast<unsigned char *>(arr)[999], 9);
  ray_arena_destroy(a);
}

TEST(ArenaArrays, UseAfterResetOrDestroyIsReported) {
  for (bool destroy : {false, true}) {
    ray_arena *a = ray_arena_new(nullptr);
    ray_array_opts o = in_arena(a);
    void *small = ray_array_new(4, 10, &o), *big = ray_array_new(1, size_t(4) << 20, &o);
    ASSERT_NE(small, nullptr);
    ASSERT_NE(big, nullptr);
    if (destroy)
      ray_arena_destroy(a);
    else
      ray_arena_reset(a);
    ErrorRecorder rec;
    ray_array_free(small);
    EXPECT_EQ(rec.calls, 1);
    EXPECT_EQ(rec.last_ptr, small);
    int x = 1;
    EXPECT_EQ(ray_array_reserve(small, 1000), nullptr);
    EXPECT_EQ(rec.calls, 2);
    EXPECT_EQ(ray_array_push(big, &x), nullptr);
    EXPECT_EQ(rec.calls, 3);
    if (!destroy) ray_arena_destroy(a);
  }
}

}  // namespace
