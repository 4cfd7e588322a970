// Shared helpers for the rayalloc benchmark workloads.
//
// Every workload is a plain program that allocates only through malloc/calloc/realloc/free and
// new/delete, so any allocator can be swapped in with LD_PRELOAD. This header gives the workloads
// a fixed-seed random generator, a scale factor (argv[1], default 1.0, used by the runner's
// --quick mode), a checksum helper and /proc/self/statm access. It never allocates itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace bench {

// splitmix64: tiny, fast and identical on every run and every allocator.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (inclusive).
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }
  // Log-uniform in [lo, hi]: as many 16..32 B requests as 32..64 KiB ones, like real programs.
  uint64_t log_range(uint64_t lo, uint64_t hi) {
    int lo_bits = 63 - __builtin_clzll(lo), hi_bits = 63 - __builtin_clzll(hi);
    int b = static_cast<int>(range(lo_bits, hi_bits));
    uint64_t v = (1ull << b) + next() % (1ull << b);
    return v < lo ? lo : (v > hi ? hi : v);
  }
};

// Order-independent mixing so threaded workloads give the same checksum however they interleave:
// combine per-item hashes with +, never with an order-dependent fold.
inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// argv[1] scales the amount of work (the runner passes 0.25 for --quick). Checksums depend on it.
inline double scale(int argc, char **argv) {
  double s = argc > 1 ? std::atof(argv[1]) : 1.0;
  return s > 0 ? s : 1.0;
}
inline long scaled(long n, double s) {
  return n * s < 1 ? 1 : static_cast<long>(n * s);
}

inline void result(const char *name, uint64_t checksum) {
  std::printf("RESULT %s %016llx\n", name, static_cast<unsigned long long>(checksum));
  std::fflush(stdout);
}

// Resident set size now, in KiB, from /proc/self/statm (second field, in pages).
inline long rss_kb() {
  FILE *f = std::fopen("/proc/self/statm", "r");  // stdio may malloc a buffer: fine, it's tiny
  long size = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace bench
