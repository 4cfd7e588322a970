// face_bench_array_push: push_back of 1e8 uint32_t, ray::array against std::vector on glibc and
// on mimalloc (each in a fresh process). Bar: ray::array >= 1.5x faster than both.
//
// Why it can be: the fits case is the same compare-store-increment in both; the difference is
// growth. std::vector copies every element at each doubling and touches fresh pages for each new
// block (about 2x the final size in page faults); ray::array grows in place at the end of the
// address space, or moves pages with mremap, so no element is copied once it is large.
#include <stdint.h>

#include <vector>

#include "face_common.hpp"
#include "rayalloc.hpp"

constexpr uint32_t kCount = 100000000;

template <class V>
double run() {
  double t0 = face::cpu_now();
  V v;
  for (uint32_t i = 0; i < kCount; i++) v.push_back(i);
  double t = face::cpu_now() - t0;
  face::keep(v);
  if (v.size() != kCount || v[kCount / 3] != kCount / 3) return -1;
  return t;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    double t =
        strcmp(argv[1], "ray") == 0 ? run<ray::array<uint32_t>>() : run<std::vector<uint32_t>>();
    printf("%.6f\n", t);
    return t < 0;
  }
  std::vector<face::Contender> cs = {{"ray::array", "ray", nullptr, {}},
                                     {"std::vector (glibc)", "std", nullptr, {}},
                                     {"std::vector (mimalloc)", "std", face::kMimalloc, {}}};
  face::measure(argv[0], cs, 3);
  printf("push_back of 1e8 uint32_t (CPU seconds, median of 3 runs, each in a fresh process)\n");
  face::report_speedup(cs, "ray::array", 1.5);
  return 0;
}
