// Out of memory inside a user arena with a limit: allocation fails with NULL + ENOMEM exactly
// when the limit would be passed (the arena's commit callbacks never report more than the
// limit), live blocks are untouched, and freeing, resetting or the on_oom callback bring the
// memory back. Arrays and pools in a limited arena fail the same clean way.
//
// The arena, array and pool faces are referenced weakly: until they are linked in, these
// tests skip (and say so) instead of failing to build.
#include <errno.h>
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "rayalloc.h"
#include "robust/robust_util.hpp"

extern "C" {
__attribute__((weak)) ray_arena *ray_arena_new(const ray_arena_opts *opts);
__attribute__((weak)) void *ray_arena_malloc(ray_arena *a, size_t size);
__attribute__((weak)) void ray_arena_reset(ray_arena *a);
__attribute__((weak)) void ray_arena_destroy(ray_arena *a);
__attribute__((weak)) void *ray_array_new(size_t elem_size, size_t cap, const ray_array_opts *o);
__attribute__((weak)) void *ray_array_reserve(void *a, size_t min_cap);
__attribute__((weak)) size_t ray_array_len(const void *a);
__attribute__((weak)) size_t ray_array_cap(const void *a);
__attribute__((weak)) void ray_array_free(void *a);
__attribute__((weak)) ray_pool *ray_pool_new(size_t obj_size, size_t align, ray_arena *arena);
__attribute__((weak)) void *ray_pool_alloc(ray_pool *p);
__attribute__((weak)) void ray_pool_destroy(ray_pool *p);
}

namespace {

constexpr size_t kLimit = size_t(8) << 20;

struct Ledger {
  std::atomic<size_t> committed{0}, peak{0}, total_commit{0}, total_decommit{0};
  std::atomic<int> over_limit{0}, oom_calls{0};
  std::vector<void *> *give_back = nullptr;  // on_oom frees one of these, if set
};

void on_commit(void *ctx, void *, size_t bytes) {
  auto *l = static_cast<Ledger *>(ctx);
  size_t now = l->committed += bytes;
  l->total_commit += bytes;
  if (now > l->peak) l->peak = now;
  if (now > kLimit) l->over_limit++;
}
void on_decommit(void *ctx, void *, size_t bytes) {
  auto *l = static_cast<Ledger *>(ctx);
  l->committed -= bytes;
  l->total_decommit += bytes;
}
int on_oom(void *ctx, size_t) {
  auto *l = static_cast<Ledger *>(ctx);
  l->oom_calls++;
  if (!l->give_back || l->give_back->empty()) return 1;  // "try again", having freed nothing
  ray_free(l->give_back->back());
  l->give_back->pop_back();
  return 1;
}

bool have_arenas() {
  return ray_arena_new && ray_arena_malloc && ray_arena_reset && ray_arena_destroy;
}

ray_arena *limited_arena(Ledger *l, bool with_oom) {
  ray_arena_opts o = {};
  o.limit = kLimit;
  o.ctx = l;
  o.on_commit = on_commit;
  o.on_decommit = on_decommit;
  o.on_oom = with_oom ? on_oom : nullptr;
  return ray_arena_new(&o);
}

// Allocates blocks of varied sizes until the arena refuses; returns the bytes obtained.
size_t fill(ray_arena *a, std::vector<std::pair<void *, size_t>> *out, uint64_t seed) {
  robust::Rng rng(seed);
  size_t total = 0;
  for (int i = 0; i < 1000000; i++) {
    size_t n = rng.below(4) == 0 ? 65536 + rng.below(300000) : 16 + rng.below(4000);
    errno = 0;
    void *p = ray_arena_malloc(a, n);
    if (!p) {
      EXPECT_EQ(errno, ENOMEM);
      break;
    }
    EXPECT_EQ(uintptr_t(p) % 16, 0u);
    robust::fill(p, n, uintptr_t(p));
    out->push_back({p, n});
    total += n;
  }
  return total;
}

void expect_intact(const std::vector<std::pair<void *, size_t>> &blocks) {
  for (auto [p, n] : blocks)
    ASSERT_EQ(robust::first_mismatch(p, n, uintptr_t(p)), SIZE_MAX) << "block " << p;
}

TEST(ArenaOom, LimitGivesEnomemAndFreeResetRecover) {
  if (!have_arenas()) GTEST_SKIP() << "arena face not linked in yet";
  Ledger l;
  ray_arena *a = limited_arena(&l, false);
  ASSERT_NE(a, nullptr);
  std::vector<std::pair<void *, size_t>> blocks;
  size_t first = fill(a, &blocks, 1);
  EXPECT_GT(first, kLimit / 4) << "the limit was reached far too early";
  EXPECT_LE(first, kLimit);
  EXPECT_EQ(l.over_limit.load(), 0) << "committed past the limit (peak " << l.peak << ")";
  expect_intact(blocks);

  // Freeing (ray_free, which is free() in the malloc-replacing build) makes room again.
  size_t freed = 0;
  for (size_t i = 0; i < blocks.size(); i += 2) {
    ray_free(blocks[i].first);
    freed += blocks[i].second;
    blocks[i].first = nullptr;
  }
  std::vector<std::pair<void *, size_t>> kept;
  for (auto b : blocks)
    if (b.first) kept.push_back(b);
  EXPECT_NE(ray_arena_malloc(a, 1000), nullptr) << "freed " << freed << " bytes, still full";
  expect_intact(kept);

  // Reset: everything goes, and about as much fits again.
  ray_arena_reset(a);
  blocks.clear();
  size_t again = fill(a, &blocks, 2);
  EXPECT_GE(again, first / 2);
  EXPECT_EQ(l.over_limit.load(), 0);
  ray_arena_destroy(a);
  EXPECT_EQ(l.total_decommit.load(), l.total_commit.load()) << "destroy must report every byte";
}

TEST(ArenaOom, OnOomCanFreeAndRetriesAreBounded) {
  if (!have_arenas()) GTEST_SKIP() << "arena face not linked in yet";
  Ledger l;
  ray_arena *a = limited_arena(&l, true);
  ASSERT_NE(a, nullptr);
  std::vector<void *> bigs;
  for (;;) {
    void *p = ray_arena_malloc(a, size_t(1) << 20);
    if (!p) break;
    bigs.push_back(p);
    if (bigs.size() > 64) break;
  }
  ASSERT_LE(bigs.size(), 8u);
  ASSERT_FALSE(bigs.empty());
  // A callback that frees nothing: at most 8 retries, then NULL + ENOMEM.
  l.oom_calls = 0;
  errno = 0;
  EXPECT_EQ(ray_arena_malloc(a, size_t(1) << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_GE(l.oom_calls.load(), 1);
  EXPECT_LE(l.oom_calls.load(), 8);
  // A callback that frees a block: the allocation succeeds.
  l.give_back = &bigs;
  l.oom_calls = 0;
  void *p = ray_arena_malloc(a, size_t(1) << 20);
  EXPECT_NE(p, nullptr);
  EXPECT_GE(l.oom_calls.load(), 1);
  l.give_back = nullptr;
  ray_arena_destroy(a);
  EXPECT_EQ(l.over_limit.load(), 0);
}

TEST(ArenaOom, ArraysAndPoolsInALimitedArenaFailCleanly) {
  if (!have_arenas() || !ray_array_new || !ray_array_reserve || !ray_pool_new || !ray_pool_alloc)
    GTEST_SKIP() << "array/pool faces not linked in yet";
  Ledger l;
  ray_arena *a = limited_arena(&l, false);
  ASSERT_NE(a, nullptr);
  ray_array_opts o = {};
  o.arena = a;
  auto *arr = static_cast<uint64_t *>(ray_array_new(8, 1024, &o));
  ASSERT_NE(arr, nullptr);
  for (size_t i = 0; i < 1024; i++) arr[i] = i * 3;
  errno = 0;
  EXPECT_EQ(ray_array_reserve(arr, kLimit / 4), nullptr);  // 16 MiB > 8 MiB limit
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_GE(ray_array_cap(arr), 1024u);
  for (size_t i = 0; i < 1024; i++) ASSERT_EQ(arr[i], i * 3);
  ray_array_free(arr);

  ray_pool *pool = ray_pool_new(48, 0, a);
  ASSERT_NE(pool, nullptr);
  size_t objs = 0;
  errno = 0;
  while (ray_pool_alloc(pool) != nullptr) {
    if (++objs > kLimit / 48 + 1) break;
  }
  EXPECT_LE(objs, kLimit / 48);
  EXPECT_EQ(errno, ENOMEM);
  ray_pool_destroy(pool);
  EXPECT_NE(ray_arena_malloc(a, size_t(1) << 20), nullptr) << "pool memory did not come back";
  ray_arena_destroy(a);
  EXPECT_EQ(l.over_limit.load(), 0);
}

}  // namespace
