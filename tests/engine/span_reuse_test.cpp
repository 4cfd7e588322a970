// The span heap reuses free memory that is still committed before memory it gave back: a
// program whose blocks move between sizes (growing strings and vectors) then refills what it
// just freed instead of faulting in fresh pages while the old ones are purged.
#include <gtest/gtest.h>

#include "arena/span_heap.hpp"
#include "heap/heap.hpp"

namespace {

constexpr size_t kSlices = 40;  // 2.5 MiB: no slab or small block takes a span this long

struct Spans {
  ray::Span *s[5];
  Spans() {
    for (auto &x : s) {
      bool zeroed;
      x = ray::span_alloc(kSlices, 0, true, &zeroed);
    }
  }
};

TEST(SpanReuse, TakesACommittedFreeSpanBeforeAGivenBackOne) {
  ASSERT_TRUE(ray::engine_init());
  ray::span_purge(true);  // no other free span holds committed memory
  // Held spans between the two that are freed, so neither coalesces with anything.
  Spans sp;
  for (auto *x : sp.s) ASSERT_NE(x, nullptr);
  uintptr_t committed_at = sp.s[1]->start, given_back_at = sp.s[3]->start;
  ray::span_free(sp.s[1], false);  // stays committed (cached)
  ray::span_free(sp.s[3], true);   // given back; freed last, so it heads its size bin
  bool zeroed = true;
  ray::Span *again = ray::span_alloc(kSlices, 0, true, &zeroed);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->start, committed_at) << "took the given-back span";
  EXPECT_FALSE(zeroed);  // its pages were reused, not faulted in afresh
  EXPECT_NE(again->start, given_back_at);
  for (ray::Span *x : {sp.s[0], sp.s[2], sp.s[4], again}) ray::span_free(x, true);
}

}  // namespace
