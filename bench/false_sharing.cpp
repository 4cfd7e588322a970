// Workload: false sharing, built twice: bench_cache_thrash (active) and bench_cache_scratch
// (passive, -DPASSIVE).
//
// Active: threads each allocate their own small objects and write them hard. If the allocator
// hands neighbouring bytes of one cache line to different threads, every write bounces the line
// between cores, though the program shares nothing.
// Passive: the main thread allocates small objects back to back and hands each worker one of two
// that share a cache line (if the allocator put any two on one line); each worker frees it and
// then allocates and writes its own objects. An allocator
// that recycles the remotely freed block into the worker's cache gives each worker a line that
// another worker also writes. A good allocator keeps each thread's small objects on its own lines.
#include <thread>
#include <vector>
#include "common.hpp"

namespace {

constexpr int kThreads = 2, kWrites = 2000, kObjSize = 8;
long objects_per_thread;

void worker(int t, char *given, uint64_t *out) {
  std::free(given);  // passive: a block that shares a line with the other worker's block
  uint64_t h = 0;
  for (long i = 0; i < objects_per_thread; i++) {
    volatile char *p = static_cast<volatile char *>(std::malloc(kObjSize));
    for (int k = 0; k < kObjSize; k++) p[k] = static_cast<char>(t);
    for (int w = 0; w < kWrites; w++) p[w % kObjSize] = static_cast<char>(p[w % kObjSize] + 1);
    for (int k = 0; k < kObjSize; k++) h += static_cast<unsigned char>(p[k]);
    std::free(const_cast<char *>(p));
  }
  *out = h;
}

}  // namespace

int main(int argc, char **argv) {
  objects_per_thread = bench::scaled(600000, bench::scale(argc, argv));
  char *given[kThreads] = {};
#ifdef PASSIVE
  // Pick neighbours on one 64-byte line, so the result does not hang on where the heap starts.
  char *run[16];
  for (char *&p : run) p = static_cast<char *>(std::malloc(kObjSize));
  for (int i = 0; i + 1 < 16 && !given[0]; i++) {
    if (reinterpret_cast<uintptr_t>(run[i]) / 64 == reinterpret_cast<uintptr_t>(run[i + 1]) / 64) {
      given[0] = run[i], given[1] = run[i + 1];
      run[i] = run[i + 1] = nullptr;
    }
  }
  for (char *p : run) std::free(p);
#endif
  uint64_t sums[kThreads] = {};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t, given[t], &sums[t]);
  for (auto &th : threads) th.join();
  uint64_t h = 0;
  for (int t = 0; t < kThreads; t++) h += bench::mix(sums[t] + t);
#ifdef PASSIVE
  bench::result("cache_scratch", h);
#else
  bench::result("cache_thrash", h);
#endif
}
