// Array hints (each changes behaviour measurably) and the growth statistics: RAY_HINT_ZERO on
// every growing call, STABLE arrays that never move, GROWS arrays that never copy, HUGE_PAGES,
// lifetime segregation, and the counters (grown in place / moved / remapped / bytes copied /
// slack).
#include <gtest/gtest.h>
#include <stdint.h>
#include <stdlib.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "array_support.hpp"
#include "rayalloc.h"

using namespace array_test;

namespace {

ray_array_opts opts_with(unsigned hints, size_t max_cap = 0) {
  return ray_array_opts{0, hints, max_cap, nullptr};
}

// [len, cap) of `a` reads as zero.
bool tail_is_zero(const void *a) {
  size_t es = ray_array_elem_size(a);
  return all_zero(static_cast<const char *>(a) + ray_array_len(a) * es,
                  (ray_array_cap(a) - ray_array_len(a)) * es);
}
// Make [len, cap) dirty, as a user writing past len (then lowering it) would.
void dirty_tail(void *a) {
  size_t len = ray_array_len(a), es = ray_array_elem_size(a);
  memset(static_cast<char *>(a) + len * es, 0xee, (ray_array_cap(a) - len) * es);
}

TEST(ZeroHint, EveryGrowingCallLeavesUnusedCapacityZero) {
  for (size_t start : {size_t(4), size_t(30000)}) {  // a slab block, and a span
    ray_array_opts o = opts_with(RAY_HINT_ZERO);
    void *a = ray_array_new(4, start, &o);
    ASSERT_TRUE(tail_is_zero(a));
    uint32_t v = 0xffffffff;
    // push that grows
    a = ray_array_resize(a, ray_array_cap(a));
    memset(a, 0xff, ray_array_len(a) * 4);
    a = ray_array_push(a, &v);
    ASSERT_TRUE(tail_is_zero(a)) << "push";
    // append that grows, after the tail was dirtied and len lowered
    dirty_tail(a);
    size_t len = ray_array_len(a);
    std::vector<uint32_t> more(ray_array_cap(a) - len + 5, 0xffffffff);
    a = ray_array_append(a, more.data(), more.size());
    ASSERT_TRUE(tail_is_zero(a)) << "append";
    // reserve
    dirty_tail(a);
    a = ray_array_reserve(a, ray_array_cap(a) * 3);
    ASSERT_TRUE(tail_is_zero(a)) << "reserve";
    // resize that grows
    dirty_tail(a);
    a = ray_array_resize(a, ray_array_cap(a) + 1);
    ASSERT_TRUE(tail_is_zero(a)) << "resize";
    // set_len lower, dirty, then grow again
    ASSERT_EQ(ray_array_set_len(a, 10), 0);
    dirty_tail(a);
    a = ray_array_reserve(a, ray_array_cap(a) + 1);
    ASSERT_TRUE(tail_is_zero(a)) << "reserve after set_len";
    // grow_in_place, when it can (a large array at the top of the address space)
    dirty_tail(a);
    if (ray_array_grow_in_place(a, ray_array_cap(a) + 100000) == 0) {
      ASSERT_TRUE(tail_is_zero(a)) << "grow_in_place";
    }
    // clone keeps the hint
    dirty_tail(a);
    void *c = ray_array_clone(a);
    ASSERT_TRUE(tail_is_zero(c)) << "clone";
    dirty_tail(c);
    c = ray_array_reserve(c, ray_array_cap(c) + 1);
    ASSERT_TRUE(tail_is_zero(c)) << "clone's growth";
    ray_array_free(c);
    ray_array_free(a);
  }
}

TEST(StableHint, GrowsTo1e8ElementsWithoutMoving) {
  const size_t n = 100000000;
  ray_array_opts o = opts_with(RAY_HINT_STABLE, n);
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 0, &o));
  ASSERT_NE(a, nullptr);
  uint32_t *const first = a;
  size_t cap = ray_array_cap(a), cap_changes = 0;
  for (uint32_t i = 0; i < n; i++) {
    a = static_cast<uint32_t *>(ray_array_push(a, &i));
    if (a != first) FAIL() << "moved at " << i;
    if (ray_array_cap(a) != cap) cap_changes++, cap = ray_array_cap(a);
  }
  EXPECT_GT(cap_changes, 3u);  // committed as it grew, not all at once
  EXPECT_LE(ray_array_cap(a), n);
  for (uint32_t i = 0; i < n; i += 9973) ASSERT_EQ(a[i], i);
  // Past max_cap: ENOMEM and the array intact.
  uint32_t v = 1;
  errno = 0;
  EXPECT_EQ(ray_array_push(a, &v), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ray_array_reserve(a, n + 1), nullptr);
  EXPECT_EQ(ray_array_len(a), n);
  EXPECT_EQ(a[n - 1], uint32_t(n - 1));
  // Shrinking gives the pages back.
  size_t resident = resident_bytes(a, n * 4);
  EXPECT_GT(resident, n * 4 / 2);
  a = static_cast<uint32_t *>(ray_array_resize(a, 1000));
  EXPECT_EQ(a, first);
  a = static_cast<uint32_t *>(ray_array_shrink_to_fit(a));
  EXPECT_EQ(a, first);
  EXPECT_LT(resident_bytes(a, n * 4), size_t(1) << 20);
  EXPECT_EQ(a[999], 999u);
  // and it can grow back, still in place.
  a = static_cast<uint32_t *>(ray_array_resize(a, n / 2));
  EXPECT_EQ(a, first);
  ray_array_free(a);
}

TEST(StableHint, CloneAndMaxCapRules) {
  ray_array_opts o = opts_with(RAY_HINT_STABLE, 5000);
  void *a = ray_array_new(8, 10, &o);
  void *c = ray_array_clone(a);
  void *const cfirst = c;
  c = ray_array_resize(c, 5000);  // the clone is stable too: same max_cap, never moves
  EXPECT_EQ(c, cfirst);
  EXPECT_EQ(ray_array_resize(c, 5001), nullptr);
  ray_array_free(a);
  ray_array_free(c);
  // max_cap without the hint is ignored.
  ray_array_opts plain = opts_with(0, 3);
  void *b = ray_array_new(8, 10, &plain);
  ASSERT_NE(b, nullptr);
  b = ray_array_resize(b, 100000);
  EXPECT_NE(b, nullptr);
  ray_array_free(b);
}

// GROWS: room to grow in place is reserved up front, so growing from empty to 4 MiB copies
// nothing; the same growth without the hint moves (and copies) while the array is small.
TEST(GrowsHint, GrowingCopiesNothing) {
  for (unsigned hints : {0u, unsigned(RAY_HINT_GROWS)}) {
    ray_array_opts o = opts_with(hints);
    auto *a = static_cast<uint32_t *>(ray_array_new(4, 0, &o));
    ray_stats before = stats();
    for (uint32_t i = 0; i < (1u << 20); i++) a = static_cast<uint32_t *>(ray_array_push(a, &i));
    ray_stats after = stats();
    size_t moves = after.arrays_moved - before.arrays_moved;
    size_t copied = after.bytes_copied_by_growth - before.bytes_copied_by_growth;
    if (hints) {
      EXPECT_EQ(moves, 0u);
      EXPECT_EQ(copied, 0u);
      EXPECT_GT(after.arrays_grown_in_place, before.arrays_grown_in_place);
    } else {
      EXPECT_GT(moves, 3u);
      EXPECT_GT(copied, 0u);
    }
    for (uint32_t i = 0; i < (1u << 20); i += 101) ASSERT_EQ(a[i], i);
    ray_array_free(a);
  }
}

// AnonHugePages of the mappings that overlap [p, p+n), in KiB (smaps).
size_t huge_kb(const void *p, size_t n) {
  std::ifstream f("/proc/self/smaps");
  std::string line;
  uintptr_t lo = uintptr_t(p), hi = lo + n;
  bool in = false;
  size_t kb = 0;
  while (std::getline(f, line)) {
    unsigned long a, b;
    if (sscanf(line.c_str(), "%lx-%lx ", &a, &b) == 2 && line.find(':') > line.find('-')) {
      in = a < hi && b > lo;
    } else if (in && line.rfind("AnonHugePages:", 0) == 0) {
      kb += strtoul(line.c_str() + 14, nullptr, 10);
    }
  }
  return kb;
}

TEST(HugePagesHint, BacksLargeArraysWithHugePages) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(thp, mode);
  if (mode.find("[never]") != std::string::npos || mode.empty())
    GTEST_SKIP() << "transparent huge pages are off on this machine";
  const size_t bytes = size_t(64) << 20;
  ray_array_opts o = opts_with(RAY_HINT_HUGE_PAGES);
  void *a = ray_array_new(1, bytes, &o);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(uintptr_t(a) & ((size_t(2) << 20) - 1), 32u);  // 2 MiB-aligned block
  a = ray_array_resize(a, bytes);
  memset(a, 1, bytes);
  // The mapping is the whole reservation, so compare with the same array without the hint.
  size_t with = huge_kb(a, bytes);
  ray_array_free(a);
  EXPECT_GT(with, 0u) << "THP mode: " << mode;
}

// Lifetime hints: short-lived and long-lived arrays never share a slab (64 KiB slice), so
// freeing the short-lived ones empties whole slabs.
TEST(LifetimeHints, ShortAndLongLivedArraysDoNotShareSlabs) {
  ray_array_opts s = opts_with(RAY_HINT_SHORT_LIVED), l = opts_with(RAY_HINT_LONG_LIVED);
  std::vector<void *> shorts, longs;
  for (int i = 0; i < 4000; i++) {
    shorts.push_back(ray_array_new(8, 10, &s));
    longs.push_back(ray_array_new(8, 10, &l));
  }
  std::set<uintptr_t> short_slices, long_slices;
  for (void *p : shorts) short_slices.insert(uintptr_t(p) >> 16);
  for (void *p : longs) long_slices.insert(uintptr_t(p) >> 16);
  for (uintptr_t sl : long_slices) EXPECT_EQ(short_slices.count(sl), 0u);
  // Without hints the same interleaving shares slabs.
  std::vector<void *> a, b;
  for (int i = 0; i < 4000; i++) {
    a.push_back(ray_array_new(8, 10, nullptr));
    b.push_back(ray_array_new(8, 10, nullptr));
  }
  std::set<uintptr_t> a_slices;
  size_t shared = 0;
  for (void *p : a) a_slices.insert(uintptr_t(p) >> 16);
  for (void *p : b) shared += a_slices.count(uintptr_t(p) >> 16);
  EXPECT_GT(shared, 0u);
  for (auto *v : {&shorts, &longs, &a, &b})
    for (void *p : *v) ray_array_free(p);
}

TEST(GrowthStats, SmallMovesCopyOnlyLiveBytes) {
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 1000, nullptr));
  a = static_cast<uint32_t *>(ray_array_resize(a, 10));
  ray_stats before = stats();
  a = static_cast<uint32_t *>(ray_array_reserve(a, 5000));
  ray_stats after = stats();
  EXPECT_EQ(after.arrays_moved - before.arrays_moved, 1u);
  EXPECT_EQ(after.bytes_copied_by_growth - before.bytes_copied_by_growth, 40u);
  ray_array_free(a);
}

// Large arrays grow in place, or move their pages (mremap): no byte is copied.
TEST(GrowthStats, LargeArraysGrowWithoutCopying) {
  auto *a = static_cast<uint8_t *>(ray_array_new(1, 4 << 20, nullptr));
  a = static_cast<uint8_t *>(ray_array_resize(a, 4 << 20));
  fill_pattern(a, 4 << 20, 9);
  std::vector<void *> blockers;
  // Block growth in place (a span right after it), then grow: the pages must move.
  for (int tries = 0; tries < 50; tries++) {
    blockers.push_back(ray_array_new(1, 1 << 20, nullptr));
    if (ray_array_grow_in_place(a, ray_array_cap(a) + (64 << 20)) == ENOMEM) break;
  }
  ray_stats before = stats();
  void *old = a;
  a = static_cast<uint8_t *>(ray_array_reserve(a, ray_array_cap(a) + (64 << 20)));
  ray_stats after = stats();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(static_cast<void *>(a), old);
  EXPECT_EQ(after.arrays_remapped - before.arrays_remapped, 1u);
  EXPECT_EQ(after.bytes_copied_by_growth, before.bytes_copied_by_growth);
  EXPECT_EQ(check_pattern(a, 4 << 20, 9), size_t(4) << 20);
  ray_array_free(a);
  for (void *b : blockers) ray_array_free(b);
}

TEST(GrowthStats, OneGiBToTwoGiBCopiesNothing) {
  const size_t gib = size_t(1) << 30;
  auto *a = static_cast<uint8_t *>(ray_array_new(1, gib, nullptr));
  ASSERT_NE(a, nullptr);
  a = static_cast<uint8_t *>(ray_array_resize(a, gib));
  for (size_t i = 0; i < gib; i += 4096) a[i] = uint8_t(i >> 12);
  ray_stats before = stats();
  a = static_cast<uint8_t *>(ray_array_reserve(a, 2 * gib));
  ray_stats after = stats();
  ASSERT_NE(a, nullptr);
  EXPECT_GE(ray_array_cap(a), 2 * gib);
  EXPECT_EQ(after.bytes_copied_by_growth, before.bytes_copied_by_growth);
  EXPECT_EQ(after.arrays_moved, before.arrays_moved);
  for (size_t i = 0; i < gib; i += 4096) ASSERT_EQ(a[i], uint8_t(i >> 12));
  ray_array_free(a);
}

TEST(GrowthStats, SlackIsCapacityNotInUse) {
  ray_stats s0 = stats();
  void *a = ray_array_new(8, 100, nullptr);
  size_t cap = ray_array_cap(a);
  EXPECT_EQ(stats().array_slack - s0.array_slack, cap * 8);
  ASSERT_EQ(ray_array_set_len(a, 40), 0);
  EXPECT_EQ(stats().array_slack - s0.array_slack, (cap - 40) * 8);
  a = ray_array_reserve(a, 1000);
  EXPECT_EQ(stats().array_slack - s0.array_slack, (ray_array_cap(a) - 40) * 8);
  ray_array_free(a);
  EXPECT_EQ(stats().array_slack, s0.array_slack);
}

}  // namespace
