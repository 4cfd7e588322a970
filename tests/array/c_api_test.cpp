// The array face's C API (API.md section 2) and its edge rules (section 7): every function,
// NULL handling, errors, alignment, capacity reporting, growth in place / by move, sources
// inside the array, free()/ray_usable_size() on arrays.
#include <gtest/gtest.h>
#include <stdint.h>
#include <malloc.h>
#include <stdlib.h>

#include <vector>

#include "array_support.hpp"
#include "rayalloc.h"

using namespace array_test;

// free() and malloc_usable_size() take arrays when rayalloc replaces malloc; with the prefixed
// library (the system malloc stays) the ray_ twins do.
#ifdef ARRAY_TEST_PREFIXED
#define FREE ray_free
#define USABLE_SIZE ray_usable_size
#else
#define FREE free
#define USABLE_SIZE malloc_usable_size
#endif

namespace {

ray_array_opts opts_with(unsigned hints, size_t align = 0, size_t max_cap = 0) {
  return ray_array_opts{align, hints, max_cap, nullptr};
}

TEST(ArrayApi, NewGivesEmptyRealArray) {
  for (size_t cap : {size_t(0), size_t(1), size_t(7), size_t(1000), size_t(100000)}) {
    void *a = ray_array_new(4, cap, nullptr);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(ray_array_len(a), 0u);
    EXPECT_GE(ray_array_cap(a), cap);
    EXPECT_EQ(ray_array_elem_size(a), 4u);
    ray_array_free(a);
  }
}

TEST(ArrayApi, BadArgumentsAreEinval) {
  errno = 0;
  EXPECT_EQ(ray_array_new(0, 10, nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ray_array_opts o = opts_with(0, 24);  // not a power of two
  errno = 0;
  EXPECT_EQ(ray_array_new(4, 10, &o), nullptr);
  EXPECT_EQ(errno, EINVAL);
  o = opts_with(0, size_t(2) << 30);  // above 1 GiB
  errno = 0;
  EXPECT_EQ(ray_array_new(4, 10, &o), nullptr);
  EXPECT_EQ(errno, EINVAL);
  o = opts_with(RAY_HINT_STABLE, 0, 0);  // STABLE needs max_cap > 0
  errno = 0;
  EXPECT_EQ(ray_array_new(4, 0, &o), nullptr);
  EXPECT_EQ(errno, EINVAL);
  o = opts_with(RAY_HINT_STABLE, 0, 10);  // and max_cap >= cap
  errno = 0;
  EXPECT_EQ(ray_array_new(4, 11, &o), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

TEST(ArrayApi, ImpossibleSizesAreEnomem) {
  errno = 0;
  EXPECT_EQ(ray_array_new(8, SIZE_MAX / 4, nullptr), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ray_array_new(SIZE_MAX, 1, nullptr), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void *a = ray_array_new(8, 4, nullptr);
  for (int i = 0; i < 3; i++) {
    uint64_t v = 100 + i;
    a = ray_array_push(a, &v);
  }
  errno = 0;
  EXPECT_EQ(ray_array_reserve(a, SIZE_MAX / 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ray_array_resize(a, SIZE_MAX / 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ray_array_append(a, a, SIZE_MAX - 1), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ray_array_grow_in_place(a, SIZE_MAX / 2), ENOMEM);
  // The array is intact after every failure.
  ASSERT_EQ(ray_array_len(a), 3u);
  for (int i = 0; i < 3; i++) EXPECT_EQ(static_cast<uint64_t *>(a)[i], uint64_t(100 + i));
  ray_array_free(a);
}

TEST(ArrayApi, NullIsTheEmptyNoArray) {
  EXPECT_EQ(ray_array_len(nullptr), 0u);
  EXPECT_EQ(ray_array_cap(nullptr), 0u);
  EXPECT_EQ(ray_array_elem_size(nullptr), 0u);
  ray_array_free(nullptr);
  EXPECT_EQ(ray_array_clone(nullptr), nullptr);
  EXPECT_EQ(ray_array_set_len(nullptr, 0), 0);
  errno = 0;
  EXPECT_EQ(ray_array_set_len(nullptr, 1), EINVAL);
  EXPECT_EQ(errno, EINVAL);
  int v = 1;
  errno = 0;
  EXPECT_EQ(ray_array_push(nullptr, &v), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ray_array_reserve(nullptr, 4), nullptr);
  EXPECT_EQ(ray_array_resize(nullptr, 4), nullptr);
  EXPECT_EQ(ray_array_append(nullptr, &v, 1), nullptr);
  EXPECT_EQ(ray_array_grow_in_place(nullptr, 4), EINVAL);
}

TEST(ArrayApi, DefaultAlignment) {
  struct Case {
    size_t elem_size, align;
  } cases[] = {{1, 16},  {4, 16},      {24, 16},     {32, 32},        {64, 64},
               {96, 32}, {4096, 4096}, {8192, 4096}, {3 * 4096, 4096}};
  for (const Case &c : cases) {
    for (size_t cap : {size_t(1), size_t(100), size_t(100000)}) {
      void *a = ray_array_new(c.elem_size, cap, nullptr);
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(uintptr_t(a) % c.align, 0u) << c.elem_size << " " << cap;
      ray_array_free(a);
    }
  }
  // A smaller explicit alignment than the default is raised to it.
  ray_array_opts o = opts_with(0, 2);
  void *a = ray_array_new(64, 3, &o);
  EXPECT_EQ(uintptr_t(a) % 64, 0u);
  ray_array_free(a);
}

// Alignment is a lasting property: kept by growth (slab -> span -> moved span), clone and
// shrink_to_fit.
TEST(ArrayApi, ExplicitAlignmentIsKeptForLife) {
  for (size_t align : {size_t(16), size_t(64), size_t(4096), size_t(2) << 20}) {
    ray_array_opts o = opts_with(0, align);
    auto *a = static_cast<uint32_t *>(ray_array_new(4, 3, &o));
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(uintptr_t(a) % align, 0u);
    void *blocker = nullptr;
    for (uint32_t i = 0; i < 300000; i++) {
      auto *n = static_cast<uint32_t *>(ray_array_push(a, &i));
      ASSERT_NE(n, nullptr);
      a = n;
      ASSERT_EQ(uintptr_t(a) % align, 0u) << align << " at " << i;
      if (i == 100000 && !blocker) blocker = ray_array_new(1, 1 << 20, nullptr);  // forces moves
    }
    for (uint32_t i = 0; i < 300000; i += 997) ASSERT_EQ(a[i], i);
    auto *c = static_cast<uint32_t *>(ray_array_clone(a));
    EXPECT_EQ(uintptr_t(c) % align, 0u);
    EXPECT_EQ(ray_array_set_len(a, 10), 0);
    a = static_cast<uint32_t *>(ray_array_shrink_to_fit(a));
    EXPECT_EQ(uintptr_t(a) % align, 0u);
    for (uint32_t i = 0; i < 10; i++) EXPECT_EQ(a[i], i);
    ray_array_free(a);
    ray_array_free(c);
    ray_array_free(blocker);
  }
}

TEST(ArrayApi, OneGiBAlignmentIsAllowed) {
  ray_array_opts o = opts_with(0, size_t(1) << 30);
  void *a = ray_array_new(8, 16, &o);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(uintptr_t(a) % (size_t(1) << 30), 0u);
  uint64_t v = 42;
  a = ray_array_push(a, &v);
  EXPECT_EQ(static_cast<uint64_t *>(a)[0], 42u);
  ray_array_free(a);
}

// cap is the real capacity: the block's room, no hidden slack, and ray_usable_size agrees.
TEST(ArrayApi, CapacityIsExact) {
  for (size_t es : {size_t(1), size_t(3), size_t(8), size_t(40), size_t(1000)}) {
    for (size_t cap : {size_t(1), size_t(5), size_t(100), size_t(20000), size_t(200000)}) {
      void *a = ray_array_new(es, cap, nullptr);
      ASSERT_NE(a, nullptr);
      size_t c = ray_array_cap(a);
      EXPECT_GE(c, cap);
      EXPECT_EQ(ray_usable_size(a), c * es);
      // Filling to exactly cap never moves the array.
      EXPECT_EQ(ray_array_resize(a, c), a);
      EXPECT_EQ(ray_array_cap(a), c);
      std::vector<char> elem(es, 'x');
      EXPECT_EQ(ray_array_set_len(a, c - 1), 0);
      void *n = ray_array_push(a, elem.data());
      EXPECT_EQ(n, a);
      ray_array_free(n);
    }
  }
}

TEST(ArrayApi, SetLen) {
  void *a = ray_array_new(2, 10, nullptr);
  size_t cap = ray_array_cap(a);
  EXPECT_EQ(ray_array_set_len(a, cap), 0);
  EXPECT_EQ(ray_array_len(a), cap);
  errno = 0;
  EXPECT_EQ(ray_array_set_len(a, cap + 1), EINVAL);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ray_array_len(a), cap);
  EXPECT_EQ(ray_array_set_len(a, 0), 0);
  EXPECT_EQ(ray_array_cap(a), cap);
  ray_array_free(a);
}

TEST(ArrayApi, ReserveIsGeometricAndKeepsContents) {
  auto *a = static_cast<uint16_t *>(ray_array_new(2, 0, nullptr));
  size_t grows = 0, last_cap = ray_array_cap(a);
  for (uint16_t i = 0; i < 20000; i++) {
    a = static_cast<uint16_t *>(ray_array_reserve(a, ray_array_len(a) + 1));
    ASSERT_NE(a, nullptr);
    a[ray_array_len(a)] = i;
    ASSERT_EQ(ray_array_set_len(a, ray_array_len(a) + 1), 0);
    if (ray_array_cap(a) != last_cap) grows++, last_cap = ray_array_cap(a);
  }
  EXPECT_LT(grows, 40u);  // geometric, not one step per element
  for (uint16_t i = 0; i < 20000; i++) ASSERT_EQ(a[i], i);
  ray_array_free(a);
}

TEST(ArrayApi, ResizeZeroesNewElements) {
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 100, nullptr));
  a = static_cast<uint32_t *>(ray_array_resize(a, 100));
  for (int i = 0; i < 100; i++) ASSERT_EQ(a[i], 0u);
  memset(a, 0xab, 100 * 4);
  a = static_cast<uint32_t *>(ray_array_resize(a, 10));
  EXPECT_EQ(ray_array_len(a), 10u);
  a = static_cast<uint32_t *>(ray_array_resize(a, 50));  // within cap: dirty bytes are zeroed
  for (int i = 10; i < 50; i++) ASSERT_EQ(a[i], 0u);
  a = static_cast<uint32_t *>(ray_array_resize(a, 1000000));  // grows: zero too
  for (int i = 10; i < 1000000; i++) ASSERT_EQ(a[i], 0u) << i;
  void *z = ray_array_resize(a, 0);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(ray_array_len(z), 0u);
  ray_array_free(z);
}

TEST(ArrayApi, PushAndAppendFromInsideTheArrayWhileItMoves) {
  auto *a = static_cast<uint64_t *>(ray_array_new(8, 1, nullptr));
  uint64_t v = 7;
  a = static_cast<uint64_t *>(ray_array_push(a, &v));
  for (int round = 0; round < 20; round++) {
    // Fill up; then the push must grow, and its source is the array's own first element.
    while (ray_array_len(a) < ray_array_cap(a))
      a = static_cast<uint64_t *>(ray_array_push(a, &a[0]));
    a = static_cast<uint64_t *>(ray_array_push(a, &a[0]));
    ASSERT_NE(a, nullptr);
  }
  for (size_t i = 0; i < ray_array_len(a); i++) ASSERT_EQ(a[i], 7u);
  // Append the whole array to itself, several times (each needs a move).
  size_t n = ray_array_len(a);
  for (int round = 0; round < 5; round++) {
    a[0] = 1000 + round;
    size_t len = ray_array_len(a);
    a = static_cast<uint64_t *>(ray_array_append(a, a, len));
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(ray_array_len(a), 2 * len);
    EXPECT_EQ(a[len], uint64_t(1000 + round));
  }
  EXPECT_EQ(ray_array_len(a), n << 5);
  ray_array_free(a);
}

TEST(ArrayApi, AppendAndPushElementSizes) {
  for (size_t es :
       {size_t(1), size_t(2), size_t(4), size_t(8), size_t(16), size_t(12), size_t(100)}) {
    void *a = ray_array_new(es, 0, nullptr);
    std::vector<unsigned char> elem(es);
    for (uint32_t i = 0; i < 5000; i++) {
      fill_pattern(elem.data(), es, i);
      a = (i & 1) ? ray_array_push(a, elem.data()) : ray_array_append(a, elem.data(), 1);
      ASSERT_NE(a, nullptr);
    }
    EXPECT_EQ(ray_array_append(a, nullptr, 0), a);
    for (uint32_t i = 0; i < 5000; i++)
      ASSERT_EQ(check_pattern(static_cast<char *>(a) + i * es, es, i), es) << es << " " << i;
    ray_array_free(a);
  }
}

TEST(ArrayApi, ShrinkToFitLowersCap) {
  auto *a = static_cast<uint8_t *>(ray_array_new(1, 100000, nullptr));
  a = static_cast<uint8_t *>(ray_array_resize(a, 100000));
  fill_pattern(a, 100000, 3);
  ASSERT_EQ(ray_array_set_len(a, 100), 0);
  a = static_cast<uint8_t *>(ray_array_shrink_to_fit(a));
  ASSERT_NE(a, nullptr);
  EXPECT_LT(ray_array_cap(a), 200u);
  EXPECT_EQ(check_pattern(a, 100, 3), 100u);
  ASSERT_EQ(ray_array_set_len(a, 0), 0);
  void *e = ray_array_shrink_to_fit(a);
  ASSERT_NE(e, nullptr);  // an empty array stays a real array
  EXPECT_EQ(ray_array_len(e), 0u);
  ray_array_free(e);
}

TEST(ArrayApi, CloneCopiesLiveElements) {
  auto *a = static_cast<uint32_t *>(ray_array_new(4, 50, nullptr));
  for (uint32_t i = 0; i < 40; i++) a = static_cast<uint32_t *>(ray_array_push(a, &i));
  auto *c = static_cast<uint32_t *>(ray_array_clone(a));
  ASSERT_NE(c, nullptr);
  ASSERT_NE(c, a);
  EXPECT_EQ(ray_array_len(c), 40u);
  EXPECT_EQ(ray_array_elem_size(c), 4u);
  EXPECT_GE(ray_array_cap(c), 40u);
  for (uint32_t i = 0; i < 40; i++) EXPECT_EQ(c[i], i);
  ray_array_free(a);
  ray_array_free(c);
  void *e = ray_array_new(4, 0, nullptr);
  void *ec = ray_array_clone(e);
  ASSERT_NE(ec, nullptr);
  EXPECT_EQ(ray_array_len(ec), 0u);
  ray_array_free(e);
  ray_array_free(ec);
}

TEST(ArrayApi, GrowInPlaceNeverMoves) {
  // A slab block has no room beyond its cap: ENOMEM, untouched.
  void *a = ray_array_new(4, 10, nullptr);
  size_t cap = ray_array_cap(a);
  EXPECT_EQ(ray_array_grow_in_place(a, cap), 0);
  EXPECT_EQ(ray_array_grow_in_place(a, cap + 1), ENOMEM);
  EXPECT_EQ(ray_array_cap(a), cap);
  ray_array_free(a);
  // A large array takes the free slices after it. (Whether the slices after a new array are
  // free depends on what the process did before: try a few.)
  std::vector<void *> tried;
  bool grew = false;
  for (int attempt = 0; attempt < 20 && !grew; attempt++) {
    void *b = ray_array_new(1, 1 << 20, nullptr);
    ASSERT_NE(b, nullptr);
    ray_stats before = stats();
    size_t cap0 = ray_array_cap(b);
    int rc = ray_array_grow_in_place(b, 8 << 20);
    if (rc == 0) {
      grew = true;
      EXPECT_GE(ray_array_cap(b), size_t(8) << 20);
      EXPECT_EQ(stats().arrays_grown_in_place, before.arrays_grown_in_place + 1);
      static_cast<char *>(b)[(8 << 20) - 1] = 1;  // the new capacity is usable
    } else {
      EXPECT_EQ(rc, ENOMEM);
      EXPECT_EQ(ray_array_cap(b), cap0);  // untouched
    }
    tried.push_back(b);
  }
  EXPECT_TRUE(grew);
  for (void *b : tried) ray_array_free(b);
}

TEST(ArrayApi, FreeAndUsableSizeAcceptArrays) {
  for (size_t cap : {size_t(3), size_t(5000), size_t(1) << 20}) {
    void *a = ray_array_new(8, cap, nullptr);
    EXPECT_EQ(ray_usable_size(a), ray_array_cap(a) * 8);
    EXPECT_EQ(USABLE_SIZE(a), ray_array_cap(a) * 8);
    FREE(a);
  }
}

TEST(ArrayApi, InvalidAndDoubleFreesGoToTheHandler) {
  ErrorLog log;
  void *a = ray_array_new(4, 10, nullptr);
  ray_array_free(a);
  ray_array_free(a);  // double free
  EXPECT_EQ(log.calls, 1);
  EXPECT_EQ(log.last_ptr, a);
  void *m = malloc(64);
  ray_array_free(m);  // not an array
  EXPECT_EQ(log.calls, 2);
  EXPECT_EQ(log.last_err, EINVAL);
  free(m);
  void *big = ray_array_new(1, 1 << 20, nullptr);
  FREE(big);
  FREE(big);  // through the malloc face: the engine reports it
  EXPECT_EQ(log.calls, 3);
  char stack[64];
  ray_array_free(stack + 32);
  EXPECT_EQ(log.calls, 4);
}

}  // namespace
