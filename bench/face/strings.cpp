// face_bench_array_strings: 1e5 strings built by 1e7 random appends of 1-64 bytes, ray::string
// against std::string on glibc and on mimalloc (each in a fresh process). Bar: >= 1.3x faster.
// The table of strings is sized up front in both (ray::array<ray::string> and
// std::vector<std::string>); only the appends are timed. A last line gives, for scale, the
// appends alone: every string reserved to its final length before the clock starts.
#include <string>
#include <vector>

#include "face_common.hpp"
#include "rayalloc.hpp"
#include "strings_workload.hpp"

using strings_workload::run;

int main(int argc, char **argv) {
  if (argc > 1) {
    double t = strcmp(argv[1], "ray") == 0        ? run<ray::array<ray::string>>()
               : strcmp(argv[1], "presized") == 0 ? run<ray::array<ray::string>>(true)
                                                  : run<std::vector<std::string>>();
    printf("%.6f\n", t);
    return t < 0;
  }
  std::vector<face::Contender> cs = {{"ray::string", "ray", nullptr, {}},
                                     {"std::string (glibc)", "std", nullptr, {}},
                                     {"std::string (mimalloc)", "std", face::kMimalloc, {}}};
  face::measure(argv[0], cs, 3);
  printf("1e5 strings built by 1e7 random appends of 1-64 bytes (CPU seconds, median of 3)\n");
  face::report_speedup(cs, "ray::string", 1.3);
  // For scale, not a contender: the same appends into strings reserved to their final lengths
  // (no growth at all; it takes knowing every final length in advance). Growth's share of the
  // time is the difference.
  std::vector<face::Contender> floor = {{"ray::string, presized", "presized", nullptr, {}}};
  face::measure(argv[0], floor, 3);
  printf("  %-24s %8.3f s   (for scale: every string reserved to its final length first)\n",
         floor[0].label, floor[0].median());
  return 0;
}
