// Multi-threaded stress: threads allocate blocks, tag their contents, and pass them to other
// threads, which check every byte before freeing (or reallocating) them. Sizes cover small
// classes, the direct-table limit, large blocks and mremap-sized ones.
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

#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

using core_test::check_pattern;
using core_test::fill_pattern;

struct Record {
  void *p;
  size_t n;
  uint32_t tag;
};

struct Mailbox {
  std::mutex lock;
  std::vector<Record> items;
};

// Deterministic per-thread sizes: mostly small, some mid, a few large.
struct SizeGen {
  uint64_t state;
  size_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = uint32_t(state >> 33);
    switch (r % 64) {
      case 0:
        return 65537 + (r >> 8) % 400000;  // large, some above the mremap limit
      case 1:
      case 2:
      case 3:
        return 1025 + (r >> 8) % 64000;
      default:
        return 1 + (r >> 8) % 1024;
    }
  }
};

struct Stress {
  int threads;
  int ops_per_thread;
  std::vector<Mailbox> boxes;
  std::atomic<size_t> verified{0}, corrupt{0}, failed{0}, foreign{0};
  std::atomic<int> producing;

  Stress(int t, int ops) : threads(t), ops_per_thread(ops), boxes(size_t(t)), producing(t) {}

  // Check and release everything in this thread's mailbox.
  void drain(int me, uint32_t *realloc_tick) {
    std::vector<Record> got;
    {
      std::lock_guard<std::mutex> g(boxes[size_t(me)].lock);
      got.swap(boxes[size_t(me)].items);
    }
    for (Record &r : got) {
      if (!ray_owns(r.p)) foreign++;
      if (check_pattern(r.p, r.n, r.tag) != r.n) corrupt++;
      if ((++*realloc_tick & 15) == 0) {
        // Reallocate a block another thread allocated: contents must move with it.
        size_t n2 = r.n * 2 + 10;
        void *q = realloc(r.p, n2);
        if (!q) {
          failed++;
          free(r.p);
          continue;
        }
        if (check_pattern(q, r.n, r.tag) != r.n) corrupt++;
        r.p = q;
      }
      free(r.p);
      verified++;
    }
  }

  void run_thread(int me) {
    SizeGen gen{uint64_t(me) * 977 + 1};
    uint32_t tick = 0;
    for (int i = 0; i < ops_per_thread; i++) {
      size_t n = gen.next();
      void *p = (i % 11 == 0) ? calloc(1, n) : malloc(n);
      if (!p) {
        failed++;
        continue;
      }
      uint32_t tag = (uint32_t(me) << 24) | uint32_t(i);
      fill_pattern(p, n, tag);
      int to = (me + 1 + i % (threads - 1)) % threads;  // never itself
      {
        std::lock_guard<std::mutex> g(boxes[size_t(to)].lock);
        boxes[size_t(to)].items.push_back({p, n, tag});
      }
      if (i % 8 == 0) drain(me, &tick);
    }
    producing--;
    while (producing.load() > 0) drain(me, &tick);
    drain(me, &tick);
  }
};

TEST(CrossThread, BlocksFreedOnOtherThreadsKeepTheirContents) {
  const int kThreads = 6, kOps = 60000;
  Stress st(kThreads, kOps);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) ts.emplace_back([&st, t] { st.run_thread(t); });
  for (auto &t : ts) t.join();
  EXPECT_EQ(st.failed.load(), 0u);
  EXPECT_EQ(st.corrupt.load(), 0u);
  EXPECT_EQ(st.foreign.load(), 0u);
  EXPECT_EQ(st.verified.load(), size_t(kThreads) * kOps);
}

// One producer, many consumers: the producer's slabs fill up and empty entirely through remote
// frees, the case where full slabs must be found again (remote_hint) rather than leaked.
TEST(CrossThread, ProducerSlabsRefillFromRemoteFrees) {
  const int kRounds = 200, kBlocks = 2000;
  std::vector<void *> blocks(kBlocks);
  std::atomic<size_t> corrupt{0};
  size_t rss_after_warmup = 0;
  for (int round = 0; round < kRounds; round++) {
    for (int i = 0; i < kBlocks; i++) {
      size_t n = 16 + size_t(i % 13) * 40;
      blocks[size_t(i)] = malloc(n);
      ASSERT_NE(blocks[size_t(i)], nullptr);
      fill_pattern(blocks[size_t(i)], n, uint32_t(round * kBlocks + i));
    }
    std::vector<std::thread> consumers;
    for (int c = 0; c < 4; c++) {
      consumers.emplace_back([&, c] {
        for (int i = c; i < kBlocks; i += 4) {
          size_t n = 16 + size_t(i % 13) * 40;
          if (check_pattern(blocks[size_t(i)], n, uint32_t(round * kBlocks + i)) != n) corrupt++;
          free(blocks[size_t(i)]);
        }
      });
    }
    for (auto &t : consumers) t.join();
    if (round == 20) rss_after_warmup = core_test::rss_bytes();
  }
  EXPECT_EQ(corrupt.load(), 0u);
  // Memory freed remotely is reused: 180 more rounds must not keep adding slabs.
  EXPECT_LE(core_test::rss_bytes(), rss_after_warmup + (size_t(16) << 20));
}

}  // namespace
