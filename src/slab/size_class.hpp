// Size classes: 16-byte steps up to 128 bytes, then 8 classes per doubling up to 64 KiB, so a
// request above 128 bytes wastes at most 12.5% of itself. Every class size is a multiple of 16,
// and a block of class size S that is a multiple of a power of two A (<= 64 KiB) is A-aligned,
// because slabs start on a slice boundary. Above kSlabMax, blocks are Large spans.
#pragma once
#include "arena/layout.hpp"

namespace ray {

constexpr size_t kSlabMax = 64 * 1024;
constexpr size_t kDirectMax = 1024;   // sizes served by the heap's direct table
constexpr unsigned kNumClasses = 81;  // class 0 is unused

RAY_INLINE unsigned size_class_of(size_t n) {
  if (n <= 128) return n == 0 ? 1 : unsigned((n + 15) >> 4);
  size_t m = n - 1;
  unsigned k = 63u - unsigned(__builtin_clzll(m));  // 2^k <= m < 2^(k+1)
  unsigned j = unsigned(m >> (k - 3)) & 7u;
  return (k - 6) * 8 + j + 1;
}

constexpr size_t class_size(unsigned c) {
  if (c <= 8) return size_t(c) * 16;
  unsigned k = (c - 1) / 8 + 6, j = (c - 1) % 8;
  return (size_t(1) << k) + size_t(j + 1) * (size_t(1) << (k - 3));
}

// Slices per slab for class c: at least 8 blocks per slab, and a tail waste under 1/16.
constexpr unsigned slab_slices(unsigned c) {
  size_t size = class_size(c);
  size_t n = (size * 8 + kSliceSize - 1) / kSliceSize;
  if (n == 0) n = 1;
  while (((n * kSliceSize) % size) * 16 > n * kSliceSize) n++;
  return unsigned(n);
}

static_assert(class_size(80) == kSlabMax);
static_assert(class_size(9) == 144 && class_size(8) == 128 && class_size(16) == 256);

}  // namespace ray
