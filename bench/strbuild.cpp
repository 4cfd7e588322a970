// Workload: realloc-heavy string building.
//
// Models C string code (string libraries, formatters, parsers, JSON/HTML writers) that grows a
// buffer with realloc to the exact new length on every append. Part 1 appends pieces of 1-64
// bytes to strings of 100 B - 1 MiB, keeping a set of finished strings alive with random
// lifetimes. Part 2 is the worst case: growing by one byte per realloc. An allocator that never
// grows in place (or has no slack in its size classes) copies the whole string each time.
#include <cstring>
#include "common.hpp"

namespace {

constexpr int kKeep = 64;

uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ static_cast<unsigned char>(s[i])) * 1099511628211ull;
  return h;
}

struct Str {
  char *p = nullptr;
  size_t len = 0;
};

// Builds a string of about `target` bytes by appending pieces of 1..max_piece bytes.
Str build(bench::Rng &rng, size_t target, size_t max_piece) {
  Str s;
  char piece[64];
  while (s.len < target) {
    size_t n = rng.range(1, max_piece);
    for (size_t i = 0; i < n; i++) piece[i] = static_cast<char>('a' + (s.len + i) % 26);
    s.p = static_cast<char *>(std::realloc(s.p, s.len + n + 1));
    std::memcpy(s.p + s.len, piece, n);
    s.len += n;
    s.p[s.len] = 0;
  }
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  double sc = bench::scale(argc, argv);
  bench::Rng rng(31337);
  uint64_t h = 0;
  Str keep[kKeep];
  auto drop = [&](Str &s) {
    if (s.p) h += bench::mix(fnv(s.p, s.len) + s.len), std::free(s.p);
    s = Str{};
  };
  long strings = bench::scaled(1500, sc);
  for (long i = 0; i < strings; i++) {  // part 1: pieces of 1..64 bytes
    Str s = build(rng, rng.log_range(100, 1 << 20), 64);
    Str &slot = keep[rng.next() % kKeep];
    drop(slot);
    slot = s;
  }
  long one_byte = bench::scaled(120, sc);
  for (long i = 0; i < one_byte; i++) {  // part 2: one byte per realloc
    Str s = build(rng, rng.log_range(1000, 256 * 1024), 1);
    Str &slot = keep[rng.next() % kKeep];
    drop(slot);
    slot = s;
  }
  for (Str &s : keep) drop(s);
  bench::result("strbuild", h);
}
