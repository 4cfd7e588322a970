// Shared helpers of the robustness tests: a small deterministic PRNG, the block fill pattern
// derived from a block's id, and optional (weak) access to faces that may not be linked in.
//
// The pattern is a pure function of (id, offset), so any thread can check a block it did not
// write, and a block that is overwritten by a neighbour or handed out twice shows up as a
// mismatch naming the first bad byte.
#pragma once
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace robust {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {  // xorshift64*
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

inline uint8_t pattern_byte(uint64_t id, size_t i) {
  return uint8_t((id * 0x9E3779B1u) >> 7 ^ (i * 31) ^ (i >> 8));
}

// Large blocks are written sparsely (so a 4 MiB block does not cost 4 MiB of RSS): the first
// and last kDense bytes, then one kProbe-byte probe every kStride bytes.
constexpr size_t kDense = 512, kStride = 16384, kProbe = 16;

template <typename F>
inline void for_each_checked_range(size_t n, F f) {
  if (n <= 2 * kDense) {
    f(size_t(0), n);
    return;
  }
  f(size_t(0), kDense);
  for (size_t off = kStride; off + kProbe < n - kDense; off += kStride) f(off, kProbe);
  f(n - kDense, kDense);
}

inline void fill(void *p, size_t n, uint64_t id) {
  uint8_t *b = static_cast<uint8_t *>(p);
  for_each_checked_range(n, [&](size_t off, size_t len) {
    for (size_t i = off; i < off + len; i++) b[i] = pattern_byte(id, i);
  });
}

// Offset of the first byte that fill(p, n, id) wrote below `limit` and that no longer holds
// the pattern, or SIZE_MAX if all do. (`limit` < n checks what realloc kept of a block.)
inline size_t first_mismatch(const void *p, size_t n, uint64_t id, size_t limit = SIZE_MAX) {
  const uint8_t *b = static_cast<const uint8_t *>(p);
  size_t bad = SIZE_MAX;
  for_each_checked_range(n, [&](size_t off, size_t len) {
    if (bad != SIZE_MAX) return;
    for (size_t i = off; i < off + len && i < limit; i++)
      if (b[i] != pattern_byte(id, i)) {
        bad = i;
        return;
      }
  });
  return bad;
}

inline bool all_zero(const void *p, size_t n) {
  const uint8_t *b = static_cast<const uint8_t *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i]) return false;
  return true;
}

// Environment knob for test sizes (sanitizer runs shrink them): RAYALLOC_STRESS_OPS etc.
inline uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  double d = strtod(v, &end);  // accepts 1e7
  return *end == '\0' && d > 0 ? uint64_t(d) : dflt;
}

}  // namespace robust
