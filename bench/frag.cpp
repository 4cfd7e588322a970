// Workload: fragmentation and peak memory.
//
// Models a long-running program that moves through phases (load data, build an index, render,
// reload...), each with its own size mix. Every phase builds a large population of blocks and
// tears most of it down again, but a few scattered blocks from each phase survive (caches,
// interned strings, results), pinning the pages they sit on. The runner records peak RSS; at the
// end the program prints the RSS left after teardown and the bytes still live, so an allocator
// that cannot reuse or give back memory shows it. Lower is better for both RSS numbers.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#include "common.hpp"

namespace {

bench::Rng rng(2718281);
std::vector<void *> survivors;
std::vector<size_t> survivor_sizes;
uint64_t live_bytes = 0, h = 0;

// Builds `count` blocks of sizes in [lo, hi], keeps one in `keep_every`, frees the rest in random
// order.
void phase(long count, size_t lo, size_t hi, long keep_every) {
  std::vector<char *> blocks(count);
  std::vector<size_t> sizes(count);
  for (long i = 0; i < count; i++) {
    sizes[i] = rng.log_range(lo, hi);
    blocks[i] = static_cast<char *>(std::malloc(sizes[i]));
    std::memset(blocks[i], static_cast<int>(i), sizes[i]);
  }
  for (long i = count - 1; i > 0; i--) {  // shuffle, then free in that order
    long j = static_cast<long>(rng.next() % (i + 1));
    std::swap(blocks[i], blocks[j]);
    std::swap(sizes[i], sizes[j]);
  }
  for (long i = 0; i < count; i++) {
    h += bench::mix(static_cast<unsigned char>(blocks[i][sizes[i] - 1]) + sizes[i]);
    if (rng.next() % keep_every == 0) {
      survivors.push_back(blocks[i]);
      survivor_sizes.push_back(sizes[i]);
      live_bytes += sizes[i];
    } else {
      std::free(blocks[i]);
    }
  }
}

}  // namespace

int main(int argc, char **argv) {
  double sc = bench::scale(argc, argv);
  // Survivors are rare enough that most pages empty out: whether they are reused by the next
  // phase (lower peak) and given back at the end (lower RSS after teardown) is up to the allocator.
  phase(bench::scaled(1500000, sc), 16, 128, 400);       // small objects: ~90 MB
  phase(bench::scaled(80000, sc), 256, 4096, 100);       // medium: ~110 MB
  phase(bench::scaled(1500, sc), 8192, 512 * 1024, 20);  // large: ~180 MB
  phase(bench::scaled(800000, sc), 16, 1024, 400);       // small again, wider mix: ~110 MB
  phase(bench::scaled(20000, sc), 1024, 16384, 100);     // medium again: ~100 MB
  // The pages the survivors touch: RSS after teardown cannot go below this (plus the program's
  // own few MiB) for an allocator that does not move live blocks. Survivors are picked at
  // random when blocks are freed, so no placement can know them in advance.
  std::vector<uintptr_t> pages;
  for (size_t k = 0; k < survivors.size(); k++) {
    uintptr_t first = uintptr_t(survivors[k]) >> 12;
    uintptr_t last = (uintptr_t(survivors[k]) + survivor_sizes[k] - 1) >> 12;
    for (uintptr_t pg = first; pg <= last; pg++) pages.push_back(pg);
  }
  std::sort(pages.begin(), pages.end());
  size_t pinned = size_t(std::unique(pages.begin(), pages.end()) - pages.begin());
  std::printf("RSS_AFTER_TEARDOWN_KB %ld\n", bench::rss_kb());
  std::printf("SURVIVOR_PAGES_KB %zu\n", pinned * 4);
  std::printf("LIVE_BYTES %llu\n", static_cast<unsigned long long>(live_bytes));
  for (void *p : survivors) std::free(p);
  bench::result("frag", h + live_bytes);
}
