// face_bench_array_isolation: the array face's speed alone and while another thread runs a
// malloc-heavy workload on rayalloc's legacy face (ray_malloc/ray_free): small blocks, and
// blocks up to 64 KiB (slabs taken from and given back to the span heap all the time). The
// faces have their own heaps, so the bar is a drop of at most 10%. Timed in CPU seconds of the
// array thread (the machine is shared; the wall clock would measure the wait for a core), in
// interleaved rounds, each in a fresh process; medians of 5. A neighbour that computes without
// allocating is the reference for what shared caches and memory alone cost.
#include <stdint.h>

#include <atomic>
#include <thread>
#include <vector>

#include "face_common.hpp"
#include "rayalloc.hpp"

// The array workload: build 20000 arrays of random length by push_back, append to strings,
// free them all; repeated.
static double array_work() {
  face::Rng rng(3);
  double t0 = face::cpu_now();
  uint64_t sum = 0;
  for (int round = 0; round < 40; round++) {
    ray::array<ray::array<uint32_t>> arrays(20000);
    ray::array<ray::string> strings(2000);
    for (auto &a : arrays) {
      size_t len = rng.range(0, 300);
      for (uint32_t k = 0; k < len; k++) a.push_back(k);
      sum += a.size();
    }
    for (int i = 0; i < 100000; i++)
      strings[rng.next() % 2000].append("0123456789abcdef", 1 + i % 16);
    for (auto &s : strings) sum += s.size();
  }
  face::keep(sum);
  return face::cpu_now() - t0;
}

// malloc-heavy: a sliding window of live blocks, freed and replaced in random order. `big`:
// sizes up to 4 KiB with one in 64 of 64 KiB (8 MiB live, slabs taken and given back all the
// time); else 16-512 bytes with one in 256 of 16 KiB, the traffic of a typical C++ program's
// containers and strings.
static void malloc_work(std::atomic<bool> &stop, bool big) {
  face::Rng rng(11);
  std::vector<void *> live(big ? 4096 : 2048, nullptr);
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 1000; i++) {
      size_t slot = rng.next() % live.size();
      ray_free(live[slot]);
      size_t n = big ? ((rng.next() % 64 == 0) ? 65536 : 16 + rng.next() % 4096)
                     : ((rng.next() % 256 == 0) ? 16384 : 16 + rng.next() % 497);
      live[slot] = ray_malloc(n);
      static_cast<char *>(live[slot])[0] = 1;
    }
  }
  for (void *p : live) ray_free(p);
}

// The same loop shape without allocating: what a busy neighbour costs through the shared
// cache and memory alone (a reference, not the bar).
static void compute_work(std::atomic<bool> &stop) {
  face::Rng rng(11);
  std::vector<uint64_t> live(2048 * 32, 0);
  while (!stop.load(std::memory_order_relaxed))
    for (int i = 0; i < 1000; i++) live[rng.next() % live.size()] += rng.next();
  face::keep(live[7]);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    std::atomic<bool> stop{false};
    std::thread disturber;
    if (strcmp(argv[1], "alone") != 0) {
      if (strcmp(argv[1], "compute") == 0)
        disturber = std::thread(compute_work, std::ref(stop));
      else
        disturber = std::thread(malloc_work, std::ref(stop), strcmp(argv[1], "big") == 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it is running
    }
    double t = array_work();
    stop = true;
    if (disturber.joinable()) disturber.join();
    printf("%.6f\n", t);
    return 0;
  }
  std::vector<face::Contender> cs = {{"arrays alone", "alone", nullptr, {}},
                                     {"arrays + malloc thread", "malloc", nullptr, {}},
                                     {"arrays + big-block malloc", "big", nullptr, {}},
                                     {"arrays + compute thread", "compute", nullptr, {}}};
  face::measure(argv[0], cs, 5);
  double alone = cs[0].median(), busy = cs[1].median(), big = cs[2].median();
  double compute = cs[3].median();
  double drop = busy / alone - 1;
  printf(
      "array-face speed while another thread runs a malloc-heavy workload on rayalloc's\n"
      "legacy face (CPU seconds of the array thread, median of 5)\n");
  printf("  %-26s %8.3f s\n", cs[0].label, alone);
  printf("  %-26s %8.3f s   slowdown %+.1f%%  (bar <= 10%%: %s)\n", cs[1].label, busy, drop * 100,
         drop <= 0.10 ? "met" : "MISSED");
  printf("  %-26s %8.3f s   slowdown %+.1f%%  (bar <= 10%%: %s)\n", cs[2].label, big,
         (big / alone - 1) * 100, big / alone - 1 <= 0.10 ? "met" : "MISSED");
  printf("  %-26s %8.3f s   slowdown %+.1f%%  (reference: a neighbour that never allocates)\n",
         cs[3].label, compute, (compute / alone - 1) * 100);
  return 0;
}
