// Helpers shared by the pool and arena tests: RSS, an error-handler recorder, a callback ledger.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include "common/test_util.hpp"
#include "rayalloc.h"

// ray_stats_get belongs to the statistics face; referenced weakly so these tests still build
// while it is missing (the tests that need it then fail, saying why).
extern "C" __attribute__((weak)) int ray_stats_get(ray_arena *a, ray_stats *out);

namespace pooltest {

using test_util::rss_bytes;

inline ray_stats arena_stats(ray_arena *a) {
  ray_stats s{};
  EXPECT_NE(ray_stats_get, nullptr) << "ray_stats_get is not linked into the library";
  if (ray_stats_get) EXPECT_EQ(ray_stats_get(a, &s), 0);
  return s;
}

// Records what the error handler saw; installed for the lifetime of the object.
struct ErrorRecorder {
  int calls = 0, last_err = 0;
  void *last_ptr = nullptr;
  ErrorRecorder() { ray_set_error_handler(&record, this); }
  ~ErrorRecorder() { ray_set_error_handler(nullptr, nullptr); }
  static void record(int err, const char *, void *ptr, void *ctx) {
    auto *r = static_cast<ErrorRecorder *>(ctx);
    r->calls++;
    r->last_err = err;
    r->last_ptr = ptr;
  }
};

// The on_commit/on_decommit view of an arena: live committed ranges and byte totals.
struct Ledger {
  std::mutex m;
  std::map<uintptr_t, size_t> ranges;  // committed [addr, addr+bytes) by the arena's reports
  size_t committed = 0, total_commit = 0, total_decommit = 0, peak = 0;
  int bad_decommits = 0;  // a decommit of bytes that were not reported committed
  int oom_calls = 0;

  static void on_commit(void *ctx, void *addr, size_t bytes) {
    auto *l = static_cast<Ledger *>(ctx);
    std::lock_guard g(l->m);
    uintptr_t a = uintptr_t(addr);
    auto it = l->ranges.emplace(a, bytes).first;
    if (auto next = std::next(it); next != l->ranges.end() && a + bytes == next->first) {
      it->second += next->second;  // merge with a range that follows (an extend)
      l->ranges.erase(next);
    }
    if (it != l->ranges.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == a) {
        prev->second += it->second;
        l->ranges.erase(it);
      }
    }
    l->committed += bytes;
    l->total_commit += bytes;
    if (l->committed > l->peak) l->peak = l->committed;
  }
  static void on_decommit(void *ctx, void *addr, size_t bytes) {
    auto *l = static_cast<Ledger *>(ctx);
    std::lock_guard g(l->m);
    uintptr_t a = uintptr_t(addr), end = a + bytes;
    // The range may be a suffix of one commit report, or cover several: trim them.
    size_t covered = 0;
    auto it = l->ranges.upper_bound(a);
    if (it != l->ranges.begin()) --it;
    while (it != l->ranges.end() && it->first < end) {
      uintptr_t ra = it->first, re = ra + it->second;
      if (re <= a) {
        ++it;
        continue;
      }
      uintptr_t lo = ra > a ? ra : a, hi = re < end ? re : end;
      covered += hi - lo;
      it = l->ranges.erase(it);
      if (ra < lo) l->ranges[ra] = lo - ra;
      if (hi < re) it = l->ranges.emplace(hi, re - hi).first, ++it;
    }
    if (covered != bytes) l->bad_decommits++;
    l->committed -= bytes;
    l->total_decommit += bytes;
  }
  // Is [p, p+n) inside one committed range?
  bool covers(const void *p, size_t n) {
    std::lock_guard g(m);
    uintptr_t a = uintptr_t(p);
    auto it = ranges.upper_bound(a);
    if (it == ranges.begin()) return false;
    --it;
    return a >= it->first && a + n <= it->first + it->second;
  }
  ray_arena_opts opts(size_t limit = 0, unsigned flags = 0) {
    ray_arena_opts o{};
    o.limit = limit;
    o.flags = flags;
    o.ctx = this;
    o.on_commit = on_commit;
    o.on_decommit = on_decommit;
    return o;
  }
};

}  // namespace pooltest
