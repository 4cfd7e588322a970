// realloc: contents survive every move between size classes and into and out of large sizes,
// and growing a block in small steps moves it O(log n) times (not once per step), counted by
// the distinct addresses it takes rather than by timing.
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"
#include "slab/size_class.hpp"

namespace {

// Every slab class size, its neighbours, and large sizes on both sides of the mremap limit.
std::vector<size_t> class_sizes() {
  std::vector<size_t> v = {1};
  for (unsigned c = 1; c < ray::kNumClasses; c++) {
    size_t s = ray::class_size(c);
    v.push_back(s - 1);
    v.push_back(s);
  }
  for (size_t n : {size_t(65537), size_t(300000), (size_t(2) << 20) + 3}) v.push_back(n);
  return v;
}

// A reference buffer holding the pattern of one tag; blocks are filled and checked against it.
struct Reference {
  std::vector<uint8_t> bytes;
  Reference(size_t n, uint32_t tag) : bytes(n) { core_test::fill_pattern(bytes.data(), n, tag); }
};

TEST(Realloc, ContentsSurviveEveryClassPair) {
  std::vector<size_t> sizes = class_sizes();
  Reference ref(sizes.back(), 3);
  for (size_t from : sizes) {
    for (size_t to : sizes) {
      void *p = malloc(from);
      ASSERT_NE(p, nullptr);
      memcpy(p, ref.bytes.data(), from);
      void *q = realloc(p, to);
      ASSERT_NE(q, nullptr) << from << " -> " << to;
      ASSERT_GE(malloc_usable_size(q), to);
      size_t keep = from < to ? from : to;
      ASSERT_EQ(memcmp(q, ref.bytes.data(), keep), 0) << "realloc " << from << " -> " << to;
      free(q);
    }
  }
}

TEST(Realloc, ContentsSurviveAChainOfGrowthsAndShrinks) {
  const size_t steps[] = {10,     200,   1100, 5000, 40000, 70000,   300000, size_t(9) << 20,
                          500000, 65536, 3000, 100,  1,     2000000, 33,     1 << 20};
  Reference ref(size_t(9) << 20, 11);
  void *p = nullptr;
  size_t valid = 0;  // bytes that must still match
  for (size_t n : steps) {
    p = realloc(p, n);
    ASSERT_NE(p, nullptr);
    if (valid > n) valid = n;
    ASSERT_EQ(memcmp(p, ref.bytes.data(), valid), 0) << "at size " << n;
    memcpy(p, ref.bytes.data(), n);
    valid = n;
  }
  free(p);
}

// Grows `p` one byte at a time up to `limit`, writing each new byte; returns the number of
// distinct addresses it took and the bytes a copying allocator would have moved.
struct GrowthCount {
  size_t moves = 0;
  size_t bytes_moved = 0;
};

TEST(Realloc, GrowingOneByteAtATimeMovesLogarithmically) {
  const size_t limit = size_t(64) << 20;
  uint8_t *p = static_cast<uint8_t *>(malloc(1));
  ASSERT_NE(p, nullptr);
  p[0] = core_test::pattern_byte(5, 0);
  GrowthCount g;
  for (size_t n = 2; n <= limit; n++) {
    uint8_t *q = static_cast<uint8_t *>(realloc(p, n));
    ASSERT_NE(q, nullptr) << n;
    if (q != p) {
      g.moves++;
      g.bytes_moved += n - 1;
      // Spot-check the moved contents (start, middle, end) without re-reading everything.
      ASSERT_EQ(q[0], core_test::pattern_byte(5, 0));
      ASSERT_EQ(q[(n - 1) / 2], core_test::pattern_byte(5, (n - 1) / 2));
      ASSERT_EQ(q[n - 2], core_test::pattern_byte(5, n - 2));
      p = q;
    }
    p[n - 1] = core_test::pattern_byte(5, n - 1);
  }
  EXPECT_EQ(core_test::check_pattern(p, limit, 5), limit);
  free(p);
  double log_n = log2(double(limit));
  // Size classes step by 1/8 of a doubling, so ~8 moves per doubling is the most a geometric
  // policy takes; one move per step would be millions.
  EXPECT_LE(double(g.moves), 10 * log_n) << "moves: " << g.moves;
  // Geometric growth copies O(n) bytes in total; per-step moves would copy O(n^2).
  EXPECT_LE(g.bytes_moved, 10 * limit) << "bytes moved: " << g.bytes_moved;
  printf("[ info ] 1-byte growth to %zu MiB: %zu moves, %.2f x n bytes moved\n", limit >> 20,
         g.moves, double(g.bytes_moved) / double(limit));
}

// Two blocks growing in turn: neither can extend in place into the other's slices for long,
// so this exercises the moving path (headroom), which must still be geometric.
TEST(Realloc, InterleavedGrowthMovesLogarithmically) {
  const size_t limit = size_t(32) << 20, step = 1024;
  uint8_t *a = nullptr, *b = nullptr;
  GrowthCount ga, gb;
  for (size_t n = step; n <= limit; n += step) {
    for (int which = 0; which < 2; which++) {
      uint8_t *&p = which ? b : a;
      GrowthCount &g = which ? gb : ga;
      uint8_t *q = static_cast<uint8_t *>(realloc(p, n));
      ASSERT_NE(q, nullptr);
      if (p && q != p) {
        g.moves++;
        g.bytes_moved += n - step;
      }
      p = q;
      // Mark the new step so a lost copy is visible at the end.
      memset(p + n - step, int((n / step + which) & 0xFF), step);
    }
  }
  for (int which = 0; which < 2; which++) {
    uint8_t *p = which ? b : a;
    for (size_t n = step; n <= limit; n += step)
      ASSERT_EQ(p[n - 1], uint8_t((n / step + which) & 0xFF)) << n;
    free(p);
  }
  double log_n = log2(double(limit));
  EXPECT_LE(double(ga.moves + gb.moves), 2 * 10 * log_n) << ga.moves << " + " << gb.moves;
  EXPECT_LE(ga.bytes_moved + gb.bytes_moved, 2 * 10 * limit);
}

TEST(Realloc, ShrinkingInPlaceKeepsThePrefix) {
  const size_t big = size_t(16) << 20;
  Reference ref(big, 21);
  void *p = malloc(big);
  ASSERT_NE(p, nullptr);
  memcpy(p, ref.bytes.data(), big);
  for (size_t n = big; n >= 16; n /= 3) {
    p = realloc(p, n);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(memcmp(p, ref.bytes.data(), n), 0) << "shrunk to " << n;
  }
  free(p);
}

}  // namespace
