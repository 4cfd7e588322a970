// face_bench_array_small: resident memory of 1e6 small arrays of random length 0-64 (uint32_t,
// built by push_back), ray::array against std::vector on glibc and on mimalloc (each in a fresh
// process; RSS growth from just before the arrays are made). The arrays are held in a table of
// handles, as a program would: 8 bytes per ray::array, 24 per std::vector. Bar: <= 1.0x.
#include <stdint.h>

#include <vector>

#include "face_common.hpp"
#include "rayalloc.hpp"

constexpr size_t kArrays = 1000000;

template <class Table>
double run() {
  face::Rng rng(7);
  size_t before = face::rss();
  Table table(kArrays);
  for (auto &a : table) {
    size_t len = rng.range(0, 64);
    for (uint32_t k = 0; k < len; k++) a.push_back(k);
  }
  size_t used = face::rss() - before;
  uint64_t sum = 0;
  for (auto &a : table) sum += a.size();
  face::keep(sum);
  return sum > 0 ? double(used) : -1;
}

int main(int argc, char **argv) {
  if (argc > 1) {
    double b = strcmp(argv[1], "ray") == 0 ? run<ray::array<ray::array<uint32_t>>>()
                                           : run<std::vector<std::vector<uint32_t>>>();
    printf("%.0f\n", b);
    return b < 0;
  }
  std::vector<face::Contender> cs = {{"ray::array", "ray", nullptr, {}},
                                     {"std::vector (glibc)", "std", nullptr, {}},
                                     {"std::vector (mimalloc)", "std", face::kMimalloc, {}}};
  face::measure(argv[0], cs, 1);
  double ray = cs[0].median();
  printf("resident memory of 1e6 arrays of random length 0-64 uint32_t (built by push_back)\n");
  printf("  %-24s %8.1f MiB\n", cs[0].label, ray / 1048576);
  bool ok = ray > 0;
  for (size_t i = 1; i < cs.size(); i++) {
    double b = cs[i].median();
    if (b < 0) {
      printf("  %-24s (not available)\n", cs[i].label);
      continue;
    }
    double ratio = ray / b;
    ok &= ratio <= 1.0;
    printf("  %-24s %8.1f MiB   ray::array uses %.2fx  (bar <= 1.0x: %s)\n", cs[i].label,
           b / 1048576, ratio, ratio <= 1.0 ? "met" : "MISSED");
  }
  printf("  bar %s\n", ok ? "met" : "MISSED");
  return 0;
}
