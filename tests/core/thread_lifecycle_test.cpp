// Threads created and exiting in a loop: memory of exited threads (their abandoned slabs, and
// blocks other threads free after they exit) is reused, so neither RSS nor rayalloc's committed
// bytes grow with the number of threads that ever ran. Linked against the static library so
// the engine's committed-byte counter can be read directly.
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "arena/span_heap.hpp"
#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

using core_test::check_pattern;
using core_test::check_sample;
using core_test::fill_pattern;
using core_test::fill_sample;

struct Handoff {
  std::mutex lock;
  std::vector<std::pair<void *, uint32_t>> blocks;  // freed by main after the thread exits
};

size_t size_of_tag(uint32_t tag) {
  uint32_t r = tag * 2654435761u;
  return (r % 16 == 0) ? 70000 + r % 100000 : 1 + r % 2000;
}

void worker(Handoff *h, uint32_t base) {
  std::vector<void *> mine;
  for (uint32_t i = 0; i < 1500; i++) {
    uint32_t tag = base + i;
    size_t n = size_of_tag(tag);
    void *p = malloc(n);
    if (!p) abort();
    fill_sample(p, n, tag);
    if (i % 2) {
      std::lock_guard<std::mutex> g(h->lock);
      h->blocks.push_back({p, tag});
    } else {
      mine.push_back(p);
    }
  }
  for (void *p : mine) free(p);  // the rest outlives the thread
}

TEST(ThreadLifecycle, ThreadChurnDoesNotGrowMemory) {
  const int kRounds = 200, kThreadsPerRound = 4;
  Handoff h;
  size_t corrupt = 0;
  size_t rss_warm = 0, committed_warm = 0, rss_max = 0, committed_max = 0;
  for (int round = 0; round < kRounds; round++) {
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreadsPerRound; t++)
      ts.emplace_back(worker, &h, uint32_t(round * kThreadsPerRound + t) << 12);
    for (auto &t : ts) t.join();
    // Their owners are gone: these frees land on abandoned slabs.
    for (auto &[p, tag] : h.blocks) {
      size_t n = size_of_tag(tag);
      if (!check_sample(p, n, tag)) corrupt++;
      free(p);
    }
    h.blocks.clear();
    h.blocks.shrink_to_fit();
    if (round == 25) {
      rss_warm = core_test::rss_bytes();
      committed_warm = ray::span_heap_committed();
    } else if (round > 25) {
      size_t rss = core_test::rss_bytes(), committed = ray::span_heap_committed();
      if (rss > rss_max) rss_max = rss;
      if (committed > committed_max) committed_max = committed;
    }
  }
  EXPECT_EQ(corrupt, 0u);
  const size_t slack = size_t(24) << 20;
  EXPECT_LE(rss_max, rss_warm + slack)
      << "RSS grew from " << (rss_warm >> 20) << " MiB to " << (rss_max >> 20) << " MiB over "
      << kRounds * kThreadsPerRound << " threads";
  EXPECT_LE(committed_max, committed_warm + slack)
      << "committed grew from " << (committed_warm >> 20) << " MiB to " << (committed_max >> 20)
      << " MiB";
  printf("[ info ] after warm-up: RSS %zu -> max %zu MiB, committed %zu -> max %zu MiB\n",
         rss_warm >> 20, rss_max >> 20, committed_warm >> 20, committed_max >> 20);
}

// Many short threads that each allocate once: thread set-up and exit must not leak heaps.
TEST(ThreadLifecycle, ShortLivedThreadsReuseTheirHeaps) {
  std::atomic<size_t> ok{0};
  size_t committed_before = 0;
  for (int i = 0; i < 3000; i++) {
    std::thread t([&ok] {
      void *p = malloc(100);
      void *q = malloc(100000);
      if (p && q && ray_owns(p) && ray_owns(q)) ok++;
      free(p);
      free(q);
    });
    t.join();
    if (i == 100) committed_before = ray::span_heap_committed();
  }
  EXPECT_EQ(ok.load(), 3000u);
  EXPECT_LE(ray::span_heap_committed(), committed_before + (size_t(8) << 20));
}

// A detached thread that exits while its blocks are still in use elsewhere.
TEST(ThreadLifecycle, BlocksOutliveTheirThread) {
  std::vector<void *> blocks(5000);
  std::thread t([&blocks] {
    for (size_t i = 0; i < blocks.size(); i++) {
      blocks[i] = malloc(8 + i % 300);
      fill_pattern(blocks[i], 8 + i % 300, uint32_t(i));
    }
  });
  t.join();
  // Reuse: the main thread now allocates; it may adopt the exited thread's slabs.
  std::vector<void *> mine;
  for (int i = 0; i < 5000; i++) {
    size_t n = 8 + size_t(i) % 300;
    mine.push_back(malloc(n));
    memset(mine.back(), 0xEE, n);  // would overwrite a block handed out twice
  }
  for (size_t i = 0; i < blocks.size(); i++) {
    ASSERT_EQ(check_pattern(blocks[i], 8 + i % 300, uint32_t(i)), 8 + i % 300) << i;
    free(blocks[i]);
  }
  for (void *p : mine) free(p);
}

// Allocation after rayalloc's own thread-exit hook has run: a pthread key destructor of
// another library (created later, so it runs after rayalloc's) and a C++ thread_local object.
// The thread's heaps are set up again and must be released again, not leaked per thread.
pthread_key_t g_late_key;
struct LateAllocator {
  ~LateAllocator() { free(malloc(300)); }
};
thread_local LateAllocator t_late;

TEST(ThreadLifecycle, AllocationInLateThreadDestructorsDoesNotLeak) {
  free(malloc(1));  // rayalloc's key exists before ours
  ASSERT_EQ(pthread_key_create(&g_late_key,
                               [](void *v) {
                                 free(v);
                                 void *again = malloc(5000);
                                 memset(again, 1, 5000);
                                 free(again);
                               }),
            0);
  size_t rss_warm = 0, committed_warm = 0;
  for (int i = 0; i < 4000; i++) {
    std::thread t([] {
      (void)&t_late;  // construct the thread_local
      pthread_setspecific(g_late_key, malloc(100));
    });
    t.join();
    if (i == 200) {
      rss_warm = core_test::rss_bytes();
      committed_warm = ray::span_heap_committed();
    }
  }
  // A leaked pair of thread heaps is several KiB: 3800 of them would be well over 8 MiB.
  EXPECT_LE(core_test::rss_bytes(), rss_warm + (size_t(8) << 20));
  EXPECT_LE(ray::span_heap_committed(), committed_warm + (size_t(8) << 20));
  pthread_key_delete(g_late_key);
}

}  // namespace
