// Workload: random sizes 16 B - 64 KiB with random lifetimes, built twice: bench_random_1t
// (one thread) and bench_random_2t (-DTHREADS=2).
//
// Models a general-purpose program with no pattern the allocator can exploit: each thread keeps
// a table of live blocks and replaces entries chosen with a skewed distribution, so low slots
// are replaced constantly (short lifetimes) and high slots rarely (long lifetimes). Sizes are
// log-uniform, so small requests dominate by count and large ones by bytes, and every block is
// written. This stresses size-class coverage, the small/large boundary and memory reuse.
#include <cstring>
#include <thread>
#include <vector>
#include "common.hpp"

#ifndef THREADS
#define THREADS 1
#endif

namespace {

constexpr int kSlots = 4096;
long steps;

void worker(int t, uint64_t *out) {
  bench::Rng rng(424242 + t);
  std::vector<char *> slot(kSlots, nullptr);
  std::vector<size_t> len(kSlots, 0);
  uint64_t h = 0;
  auto release = [&](int i) {
    if (!slot[i]) return;
    h += bench::mix(static_cast<unsigned char>(slot[i][0]) + len[i] * 31 +
                    static_cast<unsigned char>(slot[i][len[i] - 1]));
    std::free(slot[i]);
    slot[i] = nullptr;
  };
  for (long s = 0; s < steps; s++) {
    // Slot i is replaced with probability ~1/(its index), giving a wide spread of lifetimes.
    int i = static_cast<int>(rng.next() % (1u << rng.range(1, 12)));
    release(i);
    size_t n = rng.log_range(16, 64 * 1024);
    char *p = static_cast<char *>(std::malloc(n));
    std::memset(p, static_cast<int>(s), n < 256 ? n : 256);    // header-like write at the start
    for (size_t off = 4096; off < n; off += 4096) p[off] = 1;  // touch every page
    p[n - 1] = static_cast<char>(s >> 8);
    slot[i] = p;
    len[i] = n;
  }
  for (int i = 0; i < kSlots; i++) release(i);
  *out = h;
}

}  // namespace

int main(int argc, char **argv) {
  steps = bench::scaled(8000000 / THREADS, bench::scale(argc, argv));
  uint64_t sums[THREADS] = {};
  std::vector<std::thread> threads;
  for (int t = 0; t < THREADS; t++) threads.emplace_back(worker, t, &sums[t]);
  for (auto &th : threads) th.join();
  uint64_t h = 0;
  for (int t = 0; t < THREADS; t++) h += bench::mix(sums[t] + t);
  bench::result(THREADS == 1 ? "random_1t" : "random_2t", h);
}
