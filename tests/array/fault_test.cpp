// Failures from below (the OS refusing to commit memory) leave every array intact, with NULL and
// ENOMEM (API.md section 7). Linked with the static library to install a failing page source
// (os_set_page_source, the engine's test hook).
#include <gtest/gtest.h>
#include <stdint.h>

#include <atomic>

#include "array_support.hpp"
#include "os/os.hpp"
#include "rayalloc.h"

using namespace array_test;

namespace {

std::atomic<bool> g_fail{false};
const ray::os::PageSource *g_real;

bool failing_commit(void *p, size_t n) {
  return g_fail.load() ? false : g_real->commit(p, n);
}

struct FailingCommits {
  ray::os::PageSource src;
  FailingCommits() {
    g_real = &ray::os::page_source();
    src = *g_real;
    src.commit = failing_commit;
    ray::os::os_set_page_source(&src);
    g_fail = true;
  }
  ~FailingCommits() {
    g_fail = false;
    ray::os::os_set_page_source(nullptr);
  }
};

TEST(ArrayFaults, GrowthFailureLeavesTheArrayIntact) {
  // A large array, full; its growth needs memory the OS refuses.
  auto *a = static_cast<uint8_t *>(ray_array_new(1, 1 << 20, nullptr));
  ASSERT_NE(a, nullptr);
  a = static_cast<uint8_t *>(ray_array_resize(a, ray_array_cap(a)));
  size_t len = ray_array_len(a), cap = ray_array_cap(a);
  fill_pattern(a, len, 42);
  {
    FailingCommits f;
    errno = 0;
    EXPECT_EQ(ray_array_reserve(a, cap * 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    uint8_t v = 1;
    EXPECT_EQ(ray_array_push(a, &v), nullptr);
    EXPECT_EQ(ray_array_append(a, a, 10), nullptr);
    EXPECT_EQ(ray_array_resize(a, cap + 1), nullptr);
    EXPECT_EQ(ray_array_grow_in_place(a, cap + 1), ENOMEM);
    errno = 0;
    EXPECT_EQ(ray_array_new(1, 64 << 20, nullptr), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    ray_array_opts st{0, RAY_HINT_STABLE, size_t(1) << 30, nullptr};
    void *s = ray_array_new(1, 0, &st);  // reserving costs no commit, but the first page does
    if (s) {
      EXPECT_EQ(ray_array_reserve(s, 64 << 20), nullptr);
      ray_array_free(s);
    }
  }
  EXPECT_EQ(ray_array_len(a), len);
  EXPECT_EQ(ray_array_cap(a), cap);
  EXPECT_EQ(check_pattern(a, len, 42), len);
  // With memory back, the same growth works.
  a = static_cast<uint8_t *>(ray_array_reserve(a, cap * 4));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(check_pattern(a, len, 42), len);
  ray_array_free(a);
}

TEST(ArrayFaults, ArenaLimitFailsGrowthCleanly) {
  ray_arena_opts ao{};
  ao.limit = 8 << 20;
  ray_arena *arena = ray_arena_new(&ao);
  ASSERT_NE(arena, nullptr);
  ray_array_opts o{0, 0, 0, arena};
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 0, &o));
  ASSERT_NE(a, nullptr);
  uint32_t i = 0;
  for (;; i++) {
    auto *n = static_cast<uint32_t *>(ray_array_push(a, &i));
    if (!n) break;
    a = n;
  }
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ray_array_len(a), i);
  EXPECT_GT(i, 100000u);  // it got most of the way to the limit
  EXPECT_LE(size_t(i) * 4, size_t(8) << 20);
  for (uint32_t k = 0; k < i; k += 101) ASSERT_EQ(a[k], k);
  ray_stats st{};
  ASSERT_EQ(ray_stats_get(arena, &st), 0);
  EXPECT_LE(st.committed, size_t(8) << 20);
  ray_array_free(a);
  ray_arena_destroy(arena);
}

// The arena is a lasting property: growth (slab -> span -> moved span), clone and
// shrink_to_fit all stay in it, so its statistics see them and destroying it frees them.
TEST(ArrayArenas, ArraysStayInTheirArena) {
  ray_arena *arena = ray_arena_new(nullptr);
  ASSERT_NE(arena, nullptr);
  auto allocated = [&] {
    ray_stats st{};
    EXPECT_EQ(ray_stats_get(arena, &st), 0);
    return st.allocated;
  };
  size_t a0 = allocated();
  ray_array_opts o{0, 0, 0, arena};
  auto *a = static_cast<uint64_t *>(ray_array_new(8, 10, &o));
  for (uint64_t i = 0; i < 500000; i++) a = static_cast<uint64_t *>(ray_array_push(a, &i));
  size_t a1 = allocated();
  EXPECT_GE(a1 - a0, size_t(500000) * 8);
  void *c = ray_array_clone(a);
  EXPECT_GE(allocated() - a1, size_t(500000) * 8);
  ASSERT_EQ(ray_array_set_len(a, 10), 0);
  a = static_cast<uint64_t *>(ray_array_shrink_to_fit(a));
  EXPECT_EQ(a[9], 9u);
  ray_array_free(c);
  ray_array_free(a);
  EXPECT_LE(allocated(), a1);
  ray_arena_destroy(arena);
}

}  // namespace

// At the limit, on_oom runs (with no rayalloc lock held), may free memory in the same arena,
// and the array's growth is retried: API.md section 7 applies to arrays as to every face.
struct OomState {
  void *ballast;
  int calls;
  size_t last_bytes;
};

int free_ballast(void *ctx, size_t bytes) {
  auto *st = static_cast<OomState *>(ctx);
  st->calls++;
  st->last_bytes = bytes;
  if (!st->ballast) return 0;
  free(st->ballast);  // an arena block, returned to its arena
  st->ballast = nullptr;
  return 1;
}

TEST(ArrayFaults, ArenaOomCallbackFreesAndGrowthIsRetried) {
  OomState st{nullptr, 0, 0};
  ray_arena_opts ao{};
  ao.limit = 8 << 20;
  ao.ctx = &st;
  ao.on_oom = free_ballast;
  ray_arena *arena = ray_arena_new(&ao);
  ASSERT_NE(arena, nullptr);
  st.ballast = ray_arena_malloc(arena, 5 << 20);  // most of the budget
  ASSERT_NE(st.ballast, nullptr);
  ray_array_opts o{0, 0, 0, arena};
  auto *a = static_cast<uint8_t *>(ray_array_new(1, 0, &o));
  ASSERT_NE(a, nullptr);
  // 4 MiB does not fit beside the ballast: on_oom frees it and the growth succeeds.
  auto *b = static_cast<uint8_t *>(ray_array_reserve(a, 4 << 20));
  ASSERT_NE(b, nullptr) << "errno " << errno;
  a = b;
  EXPECT_GE(ray_array_cap(a), size_t(4) << 20);
  EXPECT_GE(st.calls, 1);
  EXPECT_GT(st.last_bytes, 0u);
  EXPECT_EQ(st.ballast, nullptr);
  // Past the limit with nothing left to free: on_oom answers 0 and the call fails cleanly.
  int calls_before = st.calls;
  errno = 0;
  EXPECT_EQ(ray_array_reserve(a, 16 << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(st.calls, calls_before + 1);
  EXPECT_GE(ray_array_cap(a), size_t(4) << 20);  // the array is intact
  ray_array_free(a);
  ray_arena_destroy(arena);
}
