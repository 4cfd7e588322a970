// The string workload shared by face_bench_array_strings and probe_strings_buddy: 1e5 strings
// built by 1e7 random appends of 1-64 bytes, taken from a fixed source so every table sees the
// same appends. Only the appends are timed; the table is made (and, when `presize`, every
// string reserved to its final length) before the clock starts.
#pragma once
#include <stdint.h>

#include <vector>

#include "face_common.hpp"

namespace strings_workload {

constexpr size_t kStrings = 100000;
constexpr size_t kAppends = 10000000;

// One random append: which string, how many bytes, from where in the source.
struct Append {
  size_t which, len, from;
  explicit Append(uint64_t r)
      : which(r % kStrings), len(1 + (r >> 20) % 64), from((r >> 32) % (4096 - 64)) {}
};

// CPU seconds of the appends into a `Table` of kStrings strings (any type with append(p, n),
// reserve(n) and size()), or -1 if the strings do not add up.
template <class Table>
double run(bool presize = false) {
  static char source[4096];
  face::Rng rng(42);
  for (char &c : source) c = char('a' + rng.next() % 26);
  Table table(kStrings);
  if (presize) {  // each string reserved to its final length: the appends without any growth
    face::Rng dry = rng;
    std::vector<size_t> final_len(kStrings);
    for (size_t i = 0; i < kAppends; i++) {
      Append a(dry.next());
      final_len[a.which] += a.len;
    }
    for (size_t i = 0; i < kStrings; i++) table[i].reserve(final_len[i]);
  }
  double t0 = face::cpu_now();
  for (size_t i = 0; i < kAppends; i++) {
    Append a(rng.next());
    table[a.which].append(source + a.from, a.len);
  }
  double t = face::cpu_now() - t0;
  size_t total = 0;
  for (auto &s : table) total += s.size();
  face::keep(total);
  return total > kAppends ? t : -1;
}

}  // namespace strings_workload
