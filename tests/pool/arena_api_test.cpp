// ray_arena_*: API.md section 4 and the arena rules of section 7 (limit, on_oom, exact
// commit/decommit reports, reset/destroy, single-thread arenas, per-arena statistics).
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "pool/pool_test_util.hpp"

using pooltest::arena_stats;
using pooltest::ErrorRecorder;
using pooltest::Ledger;

namespace {

// Checks the ledger against the arena: reports add up to its committed statistic, stay under
// its limit, and every live block lies in a reported range.
void expect_consistent(ray_arena *a, Ledger &l, const std::vector<std::pair<void *, size_t>> &live,
                       size_t limit = 0) {
  ray_stats s = arena_stats(a);
  EXPECT_EQ(l.committed, s.committed);
  EXPECT_EQ(l.total_commit - l.total_decommit, s.committed);
  EXPECT_EQ(l.bad_decommits, 0);
  EXPECT_GE(s.reserved, s.committed);
  EXPECT_GE(s.committed, s.allocated);
  EXPECT_GE(s.peak_allocated, s.allocated);
  if (limit) EXPECT_LE(s.committed, limit);
  for (auto [p, n] : live) ASSERT_TRUE(l.covers(p, n)) << p << " + " << n;
}

TEST(ArenaNew, DefaultsAndBadFlags) {
  ray_arena *a = ray_arena_new(nullptr);
  ASSERT_NE(a, nullptr);
  void *p = ray_arena_malloc(a, 100);
  ASSERT_NE(p, nullptr);
  ray_arena_destroy(a);
  ray_arena_opts o{};
  o.flags = 0x80;
  errno = 0;
  EXPECT_EQ(ray_arena_new(&o), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ray_arena_destroy(nullptr);  // does nothing
  ray_arena_reset(nullptr);
}

TEST(ArenaMalloc, AlignedBlocksThatFreeAccepts) {
  for (unsigned flags : {0u, unsigned(RAY_ARENA_SINGLE_THREAD)}) {
    Ledger l;
    ray_arena_opts o = l.opts(0, flags);
    ray_arena *a = ray_arena_new(&o);
    std::vector<std::pair<void *, size_t>> live;
    for (size_t n : {0, 1, 15, 16, 17, 100, 1000, 4096, 60000, 70000, 1 << 20, 5 << 20}) {
      void *p = ray_arena_malloc(a, n);
      ASSERT_NE(p, nullptr) << n;
      EXPECT_EQ(uintptr_t(p) % 16, 0u) << n;
      EXPECT_GE(ray_usable_size(p), n);
      memset(p, 0x5a, n);
      live.push_back({p, n});
    }
    expect_consistent(a, l, live);
    ray_stats s = arena_stats(a);
    size_t usable = 0;
    for (auto [p, n] : live) usable += ray_usable_size(p);
    EXPECT_EQ(s.allocated, usable);
    for (auto [p, n] : live) free(p);  // back to their arena
    EXPECT_EQ(arena_stats(a).allocated, 0u);
    ray_arena_destroy(a);
    EXPECT_EQ(l.committed, 0u) << "destroy reports every committed byte";
  }
  void *p = ray_arena_malloc(nullptr, 64);  // NULL: the default arena
  ASSERT_NE(p, nullptr);
  free(p);
}

TEST(ArenaMalloc, ReallocOfArenaBlocksStaysInTheArena) {
  Ledger l;
  ray_arena_opts o = l.opts();
  ray_arena *a = ray_arena_new(&o);
  void *p = ray_arena_malloc(a, 100000);
  memset(p, 7, 100000);
  for (size_t n : {200000, 3000000, 12000000, 1000000, 50000, 500}) {
    p = realloc(p, n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(static_cast<unsigned char *>(p)[0], 7);
    expect_consistent(a, l, {{p, n}});
  }
  free(p);
  expect_consistent(a, l, {});
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
}

TEST(ArenaLimit, AllocationPastTheLimitFailsCleanly) {
  constexpr size_t kLimit = size_t(4) << 20;
  Ledger l;
  ray_arena_opts o = l.opts(kLimit);
  ray_arena *a = ray_arena_new(&o);
  std::vector<std::pair<void *, size_t>> live;
  for (;;) {
    errno = 0;
    void *p = ray_arena_malloc(a, 3000);
    if (!p) {
      EXPECT_EQ(errno, ENOMEM);
      break;
    }
    memset(p, 1, 3000);
    live.push_back({p, 3000});
    ASSERT_LT(live.size(), 10000u);
  }
  EXPECT_GT(live.size() * 3000, kLimit / 2);
  EXPECT_LE(l.peak, kLimit);
  errno = 0;
  EXPECT_EQ(ray_arena_malloc(a, 1 << 20), nullptr);  // large blocks too
  EXPECT_EQ(errno, ENOMEM);
  expect_consistent(a, l, live, kLimit);
  // Pools in the arena obey the same limit.
  ray_pool *p = ray_pool_new(32, 0, a);
  EXPECT_TRUE(p == nullptr || ray_pool_alloc(p) == nullptr);
  // Freeing makes room again.
  for (size_t i = 0; i < 400; i++) free(live[live.size() - 1 - i].first);
  live.resize(live.size() - 400);
  EXPECT_NE(ray_arena_malloc(a, 3000), nullptr);
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
}

struct OomCtx {
  Ledger *ledger;
  std::vector<void *> *victims;  // blocks of the arena on_oom may free
  int answer;                    // what on_oom returns
  int calls = 0;
  size_t last_bytes = 0;
};
int on_oom(void *ctx, size_t bytes) {
  auto *c = static_cast<OomCtx *>(ctx);
  c->calls++;
  c->last_bytes = bytes;
  if (c->victims && !c->victims->empty()) {
    free(c->victims->back());  // may free in this arena: no lock is held
    c->victims->pop_back();
  }
  return c->answer;
}
void ledger_commit(void *ctx, void *a, size_t n) {
  Ledger::on_commit(static_cast<OomCtx *>(ctx)->ledger, a, n);
}
void ledger_decommit(void *ctx, void *a, size_t n) {
  Ledger::on_decommit(static_cast<OomCtx *>(ctx)->ledger, a, n);
}

ray_arena *oom_arena(OomCtx *c, size_t limit, unsigned flags) {
  ray_arena_opts o{};
  o.limit = limit;
  o.flags = flags;
  o.ctx = c;
  o.on_commit = ledger_commit;
  o.on_decommit = ledger_decommit;
  o.on_oom = on_oom;
  return ray_arena_new(&o);
}

TEST(ArenaOnOom, FreesMemoryAndTheAllocationIsRetried) {
  for (unsigned flags : {0u, unsigned(RAY_ARENA_SINGLE_THREAD)}) {
    Ledger l;
    std::vector<void *> victims;
    OomCtx c{&l, nullptr, 0};  // first fill the arena, with an on_oom that gives up
    ray_arena *a = oom_arena(&c, size_t(4) << 20, flags);
    for (;;) {
      void *p = ray_arena_malloc(a, 1 << 20);
      if (!p) break;
      victims.push_back(p);
    }
    ASSERT_GE(victims.size(), 2u);
    c.victims = &victims;
    c.answer = 1;
    c.calls = 0;
    size_t had = victims.size();
    void *p = ray_arena_malloc(a, 1 << 20);  // on_oom frees one block, the retry succeeds
    EXPECT_NE(p, nullptr);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(victims.size(), had - 1);
    EXPECT_LE(l.peak, size_t(4) << 20);
    ray_arena_destroy(a);
    EXPECT_EQ(l.committed, 0u);
  }
}

TEST(ArenaOnOom, RetriesAtMostEightTimesAndZeroStops) {
  Ledger l;
  OomCtx c{&l, nullptr, 1};  // claims to have freed something, never does
  ray_arena *a = oom_arena(&c, size_t(1) << 20, 0);
  errno = 0;
  EXPECT_EQ(ray_arena_malloc(a, 2 << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(c.calls, 8);
  EXPECT_EQ(c.last_bytes, size_t(2) << 20) << "on_oom gets the size the arena failed to commit";
  c.calls = 0;
  c.answer = 0;
  errno = 0;
  EXPECT_EQ(ray_arena_malloc(a, 2 << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(c.calls, 1);
  // Pools of the arena go through on_oom as well.
  ray_pool *p = ray_pool_new(1000, 0, a);
  ASSERT_NE(p, nullptr);
  c.calls = 0;
  c.answer = 1;
  size_t n = 0;
  while (ray_pool_alloc(p)) n++;
  EXPECT_GT(n, 100u);
  EXPECT_EQ(c.calls, 8);
  ray_arena_destroy(a);
}

TEST(ArenaPools, PagesThatEmptyOutGoBackToTheArena) {
  Ledger l;
  ray_arena_opts o = l.opts();
  ray_arena *a = ray_arena_new(&o);
  ray_pool *p = ray_pool_new(40, 8, a);
  std::vector<void *> objs(1000000);
  for (auto &obj : objs) memset(obj = ray_pool_alloc(p), 1, 40);
  size_t full = l.committed;
  EXPECT_GT(full, size_t(38) << 20);
  std::mt19937_64 rng(1);
  std::shuffle(objs.begin(), objs.end(), rng);
  for (size_t i = 0; i + 1 < objs.size(); i++) ray_pool_free(p, objs[i]);
  // One object left: only its slab (at most 2 MiB), the current one and the handle's remain.
  EXPECT_LE(l.committed, size_t(5) << 20) << "of " << full;
  EXPECT_EQ(l.committed, arena_stats(a).committed);
  ray_pool_destroy(p);  // gives its slabs back to the arena; the arena lives on
  EXPECT_LE(l.committed, size_t(1) << 20);
  EXPECT_NE(ray_arena_malloc(a, 100), nullptr);
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
}

TEST(ArenaReset, FreesEverythingAndRssDoesNotGrowAcrossCycles) {
  Ledger l;
  ray_arena_opts o = l.opts();
  ray_arena *a = ray_arena_new(&o);
  size_t base = pooltest::rss_bytes(), after_first = 0;
  for (int cycle = 0; cycle < 20; cycle++) {
    ray_pool *p = ray_pool_new(48, 0, a);
    for (int i = 0; i < 100000; i++) memset(ray_pool_alloc(p), 3, 48);
    for (int i = 0; i < 300; i++) memset(ray_arena_malloc(a, 10000), 4, 10000);
    memset(ray_arena_malloc(a, 8 << 20), 5, 8 << 20);
    EXPECT_GT(pooltest::rss_bytes(), base + (size_t(8) << 20));
    ray_arena_reset(a);  // the pool, its handle and every block go at once
    EXPECT_EQ(l.committed, 0u);
    ray_stats s = arena_stats(a);
    EXPECT_EQ(s.committed, 0u);
    EXPECT_EQ(s.allocated, 0u);
    EXPECT_GT(s.peak_allocated, size_t(8) << 20);
    size_t rss = pooltest::rss_bytes();
    if (cycle == 0) after_first = rss;
    EXPECT_LE(rss, after_first + (size_t(2) << 20)) << "cycle " << cycle;
  }
  EXPECT_LE(after_first, base + (size_t(4) << 20));
  ray_arena_destroy(a);
}

TEST(ArenaDestroy, ReportsEveryByteAndReturnsRss) {
  Ledger l;
  ray_arena_opts o = l.opts();
  size_t base = pooltest::rss_bytes();
  ray_arena *a = ray_arena_new(&o);
  std::vector<std::pair<void *, size_t>> live;
  for (int i = 0; i < 20000; i++) {
    size_t n = 16 + (i * 7919) % 20000;
    void *p = ray_arena_malloc(a, n);
    memset(p, 1, n);
    live.push_back({p, n});
  }
  for (int i = 0; i < 8; i++) {
    void *p = ray_arena_malloc(a, 4 << 20);
    memset(p, 1, 4 << 20);
    live.push_back({p, 4 << 20});
  }
  expect_consistent(a, l, live);
  EXPECT_GT(pooltest::rss_bytes(), base + (size_t(200) << 20));
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
  EXPECT_EQ(l.total_commit, l.total_decommit);
  EXPECT_EQ(l.bad_decommits, 0);
  EXPECT_TRUE(l.ranges.empty());
  EXPECT_LT(pooltest::rss_bytes(), base + (size_t(8) << 20));
}

TEST(ArenaDestroy, LaterFreeOfAnArenaBlockIsReported) {
  ray_arena *a = ray_arena_new(nullptr);
  void *small = ray_arena_malloc(a, 64), *big = ray_arena_malloc(a, 1 << 20);
  ray_arena_destroy(a);
  ErrorRecorder rec;
  free(small);
  EXPECT_EQ(rec.calls, 1);
  EXPECT_EQ(rec.last_ptr, small);
  free(big);
  EXPECT_EQ(rec.calls, 2);
}

TEST(ArenaThreads, SharedArenaUnderConcurrentUse) {
  Ledger l;
  ray_arena_opts o = l.opts();
  ray_arena *a = ray_arena_new(&o);
  ray_pool *pool = ray_pool_new(40, 8, a);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::vector<void *> held;
      for (int i = 0; i < 100000; i++) {
        if (held.empty() || rng() % 3) {
          void *p = (i % 2) ? ray_arena_malloc(a, 16 + rng() % 3000) : ray_pool_alloc(pool);
          ASSERT_NE(p, nullptr);
          held.push_back(p);
        } else {
          size_t k = rng() % held.size();
          free(held[k]);  // arena blocks and pool objects alike
          held[k] = held.back();
          held.pop_back();
        }
      }
      for (void *p : held) free(p);
    });
  }
  for (auto &t : ts) t.join();
  ray_stats s = arena_stats(a);
  EXPECT_EQ(l.total_commit - l.total_decommit, s.committed);
  ray_pool_destroy(pool);
  ray_arena_destroy(a);
  EXPECT_EQ(l.committed, 0u);
}

TEST(ArenaThreads, SingleThreadArenaHandedOverWithUserSynchronisation) {
  ray_arena_opts o{};
  o.flags = RAY_ARENA_SINGLE_THREAD;
  ray_arena *a = ray_arena_new(&o);
  ray_pool *p = ray_pool_new(32, 0, a);
  std::vector<void *> objs;
  for (int i = 0; i < 10000; i++) objs.push_back(ray_pool_alloc(p));
  std::thread([&] {  // join() is the synchronisation
    for (size_t i = 0; i < objs.size(); i += 2) free(objs[i]);
    for (int i = 0; i < 100; i++) ASSERT_NE(ray_arena_malloc(a, 100), nullptr);
  })
      .join();
  size_t n = 0;
  ray_pool_visit(
      p, [](void *, void *c) { ++*static_cast<size_t *>(c); }, &n);
  EXPECT_EQ(n, objs.size() / 2);
  ray_arena_destroy(a);
}

TEST(ArenaFork, ChildCanUseAnArenaOtherThreadsWereUsing) {
  ray_arena *a = ray_arena_new(nullptr);
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; t++)
    ts.emplace_back([&] {
      while (!stop) free(ray_arena_malloc(a, 200));
    });
  for (int i = 0; i < 20; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int k = 0; k < 1000; k++) free(ray_arena_malloc(a, 200));
      ray_arena_destroy(a);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  stop = true;
  for (auto &t : ts) t.join();
  ray_arena_destroy(a);
}

}  // namespace
