// ray_pool_*: API.md section 3 and the pool rules of section 7.
#include <errno.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "pool/pool_test_util.hpp"
#include "rayalloc/pool.hpp"

using pooltest::ErrorRecorder;

namespace {

std::vector<void *> alloc_n(ray_pool *p, size_t n) {
  std::vector<void *> v(n);
  for (auto &o : v) {
    o = ray_pool_alloc(p);
    EXPECT_NE(o, nullptr);
  }
  return v;
}

void count_visit(void *, void *ctx) {
  ++*static_cast<size_t *>(ctx);
}
void collect_visit(void *obj, void *ctx) {
  static_cast<std::set<void *> *>(ctx)->insert(obj);
}

TEST(PoolNew, BadArgumentsAreEinval) {
  errno = 0;
  EXPECT_EQ(ray_pool_new(0, 0, nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(ray_pool_new(32, 24, nullptr), nullptr);  // not a power of two
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(ray_pool_new(size_t(1) << 40, 0, nullptr), nullptr);  // impossible size
  EXPECT_EQ(errno, ENOMEM);
}

TEST(PoolAlloc, ObjectsArePackedAtTheirExactSize) {
  struct Case {
    size_t size, align, stride;
  } cases[] = {{40, 8, 40}, {40, 0, 40}, {24, 64, 64}, {12, 4, 16}, {100, 0, 104}, {1, 1, 8}};
  // (a free slot holds a link: blocks are at least 8 bytes and 8-aligned)
  for (auto c : cases) {
    ray_pool *p = ray_pool_new(c.size, c.align, nullptr);
    ASSERT_NE(p, nullptr);
    auto v = alloc_n(p, 1000);
    size_t want_align = c.align ? c.align : (c.size & (~c.size + 1));
    for (size_t i = 0; i < v.size(); i++) {
      EXPECT_EQ(uintptr_t(v[i]) % want_align, 0u) << c.size << "/" << c.align;
      EXPECT_EQ(ray_usable_size(v[i]), c.stride);
      memset(v[i], 0xab, c.size);
    }
    // Objects follow one another at the stride within a slab: no header between them.
    size_t adjacent = 0;
    std::vector<uintptr_t> a(v.size());
    for (size_t i = 0; i < v.size(); i++) a[i] = uintptr_t(v[i]);
    std::sort(a.begin(), a.end());
    for (size_t i = 1; i < a.size(); i++) adjacent += a[i] - a[i - 1] == c.stride;
    EXPECT_GE(adjacent, a.size() * 9 / 10) << c.size << "/" << c.align;
    ray_pool_destroy(p);
  }
}

TEST(PoolFree, FreedSlotIsReusedFirst) {
  ray_pool *p = ray_pool_new(48, 0, nullptr);
  auto v = alloc_n(p, 100);
  ray_pool_free(p, v[37]);
  EXPECT_EQ(ray_pool_alloc(p), v[37]);
  free(v[5]);  // free() accepts pool objects
  EXPECT_EQ(ray_pool_alloc(p), v[5]);
  ray_pool_free(p, nullptr);  // does nothing
  ray_pool_destroy(p);
}

TEST(PoolFree, ForeignObjectGoesToTheErrorHandler) {
  ray_pool *p = ray_pool_new(32, 0, nullptr), *q = ray_pool_new(32, 0, nullptr);
  void *mine = ray_pool_alloc(p), *theirs = ray_pool_alloc(q);
  void *m = ray_malloc(32);
  char stack_obj[32];
  ErrorRecorder rec;
  ray_pool_free(p, theirs);
  EXPECT_EQ(rec.calls, 1);
  EXPECT_EQ(rec.last_ptr, theirs);
  EXPECT_EQ(rec.last_err, EINVAL);
  ray_pool_free(p, m);
  EXPECT_EQ(rec.calls, 2);
  ray_pool_free(p, stack_obj);
  EXPECT_EQ(rec.calls, 3);
  ray_pool_free(p, static_cast<char *>(mine) + 8);  // interior
  EXPECT_EQ(rec.calls, 4);
  // The handler returned: nothing was freed, every object is still live.
  size_t n = 0;
  ray_pool_visit(p, count_visit, &n);
  EXPECT_EQ(n, 1u);
  n = 0;
  ray_pool_visit(q, count_visit, &n);
  EXPECT_EQ(n, 1u);
  ray_free(m);
  ray_pool_destroy(p);
  ray_pool_destroy(q);
}

// One-word objects sit 8 bytes apart: freeing one with free() must write nothing past its 8
// bytes (a free mark in a second word would land on the next object; found by the fuzzer).
TEST(PoolFree, FreeOfAOneWordObjectLeavesItsNeighboursAlone) {
  for (size_t size : {1, 8}) {
    ray_pool *p = ray_pool_new(size, 0, nullptr);
    auto v = alloc_n(p, 64);
    for (size_t i = 0; i < v.size(); i++) memset(v[i], int(i + 1), size);
    for (size_t i = 0; i < v.size(); i += 2) free(v[i]);
    for (size_t i = 1; i < v.size(); i += 2)
      for (size_t k = 0; k < size; k++)
        ASSERT_EQ(static_cast<unsigned char *>(v[i])[k], i + 1) << size << " " << i << " " << k;
    for (size_t i = 1; i < v.size(); i += 2) ray_pool_free(p, v[i]);
    ray_pool_destroy(p);
  }
}

TEST(PoolFree, ImmediateDoubleFreeIsReported) {
  ray_pool *p = ray_pool_new(32, 0, nullptr);
  void *a = ray_pool_alloc(p), *b = ray_pool_alloc(p);
  ray_pool_free(p, a);
  {
    ErrorRecorder rec;
    ray_pool_free(p, a);
    EXPECT_EQ(rec.calls, 1);
    EXPECT_EQ(rec.last_ptr, a);
  }
  // The pool is intact: a is handed out once, then b's slot after b is freed.
  EXPECT_EQ(ray_pool_alloc(p), a);
  ray_pool_free(p, b);
  EXPECT_EQ(ray_pool_alloc(p), b);
  ray_pool_destroy(p);
}

TEST(PoolVisit, SeesExactlyTheLiveObjectsAfterRandomOrderFrees) {
  ray_pool *p = ray_pool_new(40, 8, nullptr);
  auto v = alloc_n(p, 200000);
  std::mt19937_64 rng(7);
  std::shuffle(v.begin(), v.end(), rng);
  size_t freed = 130000;
  for (size_t i = 0; i < freed; i++) ray_pool_free(p, v[i]);
  std::set<void *> seen;
  ray_pool_visit(p, collect_visit, &seen);
  std::set<void *> live(v.begin() + freed, v.end());
  EXPECT_EQ(seen.size(), live.size());
  EXPECT_TRUE(seen == live);
  // Reallocating fills the freed slots: visit counts them again.
  for (size_t i = 0; i < 1000; i++) ASSERT_NE(ray_pool_alloc(p), nullptr);
  size_t n = 0;
  ray_pool_visit(p, count_visit, &n);
  EXPECT_EQ(n, live.size() + 1000);
  ray_pool_destroy(p);
}

TEST(PoolVisit, CallbackMayFreeTheObjectItIsGiven) {
  ray_pool *p = ray_pool_new(64, 0, nullptr);
  auto v = alloc_n(p, 50000);
  struct Ctx {
    ray_pool *p;
    size_t n;
  } ctx{p, 0};
  ray_pool_visit(
      p,
      [](void *obj, void *c) {
        auto *x = static_cast<Ctx *>(c);
        x->n++;
        if (x->n % 2)
          ray_pool_free(x->p, obj);
        else
          free(obj);
      },
      &ctx);
  EXPECT_EQ(ctx.n, v.size());
  size_t n = 0;
  ray_pool_visit(p, count_visit, &n);
  EXPECT_EQ(n, 0u);
  ray_pool_visit(p, nullptr, nullptr);  // no callback: nothing happens
  ray_pool_destroy(p);
}

TEST(PoolDestroy, GivesTheMemoryBack) {
  size_t before = pooltest::rss_bytes();
  ray_pool *p = ray_pool_new(64, 0, nullptr);
  for (int i = 0; i < 2000000; i++) memset(ray_pool_alloc(p), 1, 64);  // 128 MiB
  size_t full = pooltest::rss_bytes();
  EXPECT_GT(full, before + (size_t(100) << 20));
  ray_pool_destroy(p);
  EXPECT_LT(pooltest::rss_bytes(), before + (size_t(16) << 20));
  ray_pool_destroy(nullptr);  // does nothing
}

TEST(PoolFree, RandomFreesThenReallocationReuseSlotsBeforeNewPages) {
  ray_pool *p = ray_pool_new(40, 8, nullptr);
  size_t base = pooltest::rss_bytes();
  auto v = alloc_n(p, 1000000);
  for (void *o : v) memset(o, 1, 40);
  size_t peak = pooltest::rss_bytes() - base;
  std::mt19937_64 rng(3);
  std::shuffle(v.begin(), v.end(), rng);
  for (size_t i = 0; i < 900000; i++) ray_pool_free(p, v[i]);
  for (size_t i = 0; i < 900000; i++) memset(v[i] = ray_pool_alloc(p), 2, 40);
  size_t again = pooltest::rss_bytes() - base;
  EXPECT_LE(again, peak + peak / 20) << "peak " << peak << " after reuse " << again;
  // Free everything: empty slabs go back (all but the current one).
  for (void *o : v) ray_pool_free(p, o);
  EXPECT_LT(pooltest::rss_bytes(), base + (size_t(16) << 20));
  ray_pool_destroy(p);
}

TEST(PoolThreads, ObjectsFreedFromOtherThreads) {
  ray_pool *p = ray_pool_new(56, 8, nullptr);
  constexpr int kThreads = 4, kEach = 50000;
  std::vector<void *> objs = alloc_n(p, kThreads * kEach);
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      while (!go) {
      }
      for (int i = 0; i < kEach; i++) {
        void *o = objs[size_t(t) * kEach + i];
        if (i % 2)
          free(o);
        else
          ray_pool_free(p, o);
        if (i % 4 == 0) ray_pool_free(p, ray_pool_alloc(p));  // and allocate meanwhile
      }
    });
  }
  go = true;
  // The owner keeps allocating while the others free.
  std::vector<void *> mine = alloc_n(p, 100000);
  for (auto &t : ts) t.join();
  size_t n = 0;
  ray_pool_visit(p, count_visit, &n);
  EXPECT_EQ(n, mine.size());
  std::set<void *> unique(mine.begin(), mine.end());
  EXPECT_EQ(unique.size(), mine.size());
  ray_pool_destroy(p);
}

TEST(PoolThreads, SharedPoolUnderConcurrentAllocAndFree) {
  ray_pool *p = ray_pool_new(24, 8, nullptr);
  std::vector<std::thread> ts;
  std::atomic<size_t> live{0};
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::vector<uint64_t *> held;
      for (int i = 0; i < 200000; i++) {
        if (held.empty() || rng() % 3) {
          auto *o = static_cast<uint64_t *>(ray_pool_alloc(p));
          ASSERT_NE(o, nullptr);
          *o = uintptr_t(o) ^ t;
          held.push_back(o);
        } else {
          size_t k = rng() % held.size();
          ASSERT_EQ(*held[k], uintptr_t(held[k]) ^ t) << "object overwritten";
          ray_pool_free(p, held[k]);
          held[k] = held.back();
          held.pop_back();
        }
      }
      live += held.size();
    });
  }
  for (auto &t : ts) t.join();
  size_t n = 0;
  ray_pool_visit(p, count_visit, &n);
  EXPECT_EQ(n, live.load());
  ray_pool_destroy(p);
}

TEST(PoolThreads, ThreadLocalPoolsOutliveTheirThreads) {
  std::vector<void *> objs;
  ray_pool *first = nullptr;
  std::thread([&] {
    first = ray_pool_thread_local(40, 8);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(ray_pool_thread_local(40, 8), first);
    EXPECT_NE(ray_pool_thread_local(48, 8), first);
    for (int i = 0; i < 1000; i++) objs.push_back(ray_pool_alloc(first));
  }).join();
  // Its objects stay valid and can be freed here; a later thread adopts the orphaned pool.
  for (size_t i = 0; i < objs.size(); i += 2) ray_free(objs[i]);
  ray_pool *adopted = nullptr;
  std::thread([&] { adopted = ray_pool_thread_local(40, 8); }).join();
  EXPECT_EQ(adopted, first);
  for (size_t i = 1; i < objs.size(); i += 2) ray_free(objs[i]);
}

}  // namespace
