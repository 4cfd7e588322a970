// Aligned allocation: memalign, posix_memalign, aligned_alloc, valloc, pvalloc (and their ray_
// twins) for every power-of-two alignment from 1 byte to 1 MiB, the 256..1024-byte alignments
// that other allocators have got wrong, and invalid alignments (EINVAL) and sizes (ENOMEM).
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

using core_test::check_pattern;
using core_test::fill_pattern;

constexpr size_t kMaxTestedAlign = size_t(1) << 20;

// Sizes around `a` and the slab/large limit.
std::vector<size_t> sizes_for(size_t a) {
  return {0, 1, a / 2 + 1, a - 1 > 0 ? a - 1 : 1, a, a + 1, 3 * a, 1000, 70000};
}

// One aligned allocation function under test, with a uniform signature.
struct AlignedFn {
  const char *name;
  void *(*alloc)(size_t align, size_t n);
  size_t min_align;  // posix_memalign needs a multiple of sizeof(void *)
};

void *via_posix_memalign(size_t a, size_t n) {
  void *p = nullptr;
  return posix_memalign(&p, a, n) == 0 ? p : nullptr;
}
void *via_ray_posix_memalign(size_t a, size_t n) {
  void *p = nullptr;
  return ray_posix_memalign(&p, a, n) == 0 ? p : nullptr;
}
void *via_memalign(size_t a, size_t n) {
  return memalign(a, n);
}
void *via_aligned_alloc(size_t a, size_t n) {
  return aligned_alloc(a, n);
}

const AlignedFn kFns[] = {
    {"memalign", via_memalign, 1},
    {"aligned_alloc", via_aligned_alloc, 1},
    {"posix_memalign", via_posix_memalign, sizeof(void *)},
    {"ray_memalign", ray_memalign, 1},
    {"ray_aligned_alloc", ray_aligned_alloc, 1},
    {"ray_posix_memalign", via_ray_posix_memalign, sizeof(void *)},
};

TEST(Aligned, EveryPowerOfTwoUpTo1MiB) {
  uint32_t tag = 1;
  for (const AlignedFn &fn : kFns) {
    for (size_t a = fn.min_align; a <= kMaxTestedAlign; a *= 2) {
      for (size_t n : sizes_for(a)) {
        void *p = fn.alloc(a, n);
        ASSERT_NE(p, nullptr) << fn.name << "(" << a << ", " << n << ")";
        EXPECT_EQ(uintptr_t(p) % a, 0u) << fn.name << "(" << a << ", " << n << ") = " << p;
        EXPECT_TRUE(ray_owns(p)) << fn.name;
        size_t usable = malloc_usable_size(p);
        EXPECT_GE(usable, n);
        fill_pattern(p, n, tag);
        EXPECT_EQ(check_pattern(p, n, tag), n);
        tag++;
        free(p);
      }
    }
  }
}

// Many live blocks at once, so they come from different positions in their slabs: every one
// must be aligned, not only the first block of a slab.
TEST(Aligned, MidSizeAlignmentsHoldForEveryBlockOfASlab) {
  for (size_t a : {size_t(256), size_t(512), size_t(1024)}) {
    std::vector<void *> live;
    for (size_t n = 1; n <= 3000; n += 7) {
      for (int rep = 0; rep < 3; rep++) {
        void *p = aligned_alloc(a, n);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(uintptr_t(p) % a, 0u) << "aligned_alloc(" << a << ", " << n << ") = " << p;
        memset(p, 0x5A, n);
        live.push_back(p);
        void *q = nullptr;
        ASSERT_EQ(posix_memalign(&q, a, n), 0);
        ASSERT_EQ(uintptr_t(q) % a, 0u) << "posix_memalign(" << a << ", " << n << ") = " << q;
        live.push_back(q);
      }
    }
    for (void *p : live) free(p);
  }
}

// Alignments beyond 1 MiB up to rayalloc's limit of 1 GiB: address space, not memory.
TEST(Aligned, HugeAlignmentsUpTo1GiB) {
  for (size_t a = size_t(2) << 20; a <= (size_t(1) << 30); a *= 4) {
    void *p = aligned_alloc(a, 100);
    ASSERT_NE(p, nullptr) << a;
    EXPECT_EQ(uintptr_t(p) % a, 0u) << a;
    memset(p, 1, 100);
    void *q = nullptr;
    ASSERT_EQ(posix_memalign(&q, a, a + 1), 0) << a;
    EXPECT_EQ(uintptr_t(q) % a, 0u) << a;
    free(p);
    free(q);
  }
}

TEST(Aligned, InvalidAlignmentsAreEinval) {
  for (size_t bad : {size_t(0), size_t(3), size_t(24), size_t(100), size_t(4097), SIZE_MAX}) {
    errno = 0;
    EXPECT_EQ(memalign(bad, 16), nullptr) << bad;
    EXPECT_EQ(errno, EINVAL) << "memalign " << bad;
    errno = 0;
    EXPECT_EQ(aligned_alloc(bad, 16), nullptr) << bad;
    EXPECT_EQ(errno, EINVAL) << "aligned_alloc " << bad;
    errno = 0;
    EXPECT_EQ(ray_aligned_alloc(bad, 16), nullptr) << bad;
    EXPECT_EQ(errno, EINVAL) << "ray_aligned_alloc " << bad;
  }
  // posix_memalign also wants a multiple of sizeof(void *); it returns the error, leaves *out
  // alone and errno as it was.
  for (size_t bad : {size_t(0), size_t(1), size_t(2), size_t(4), size_t(24), size_t(100)}) {
    void *out = reinterpret_cast<void *>(0x1234);
    errno = 0;
    EXPECT_EQ(posix_memalign(&out, bad, 16), EINVAL) << bad;
    EXPECT_EQ(out, reinterpret_cast<void *>(0x1234));
    EXPECT_EQ(errno, 0);
    EXPECT_EQ(ray_posix_memalign(&out, bad, 16), EINVAL) << bad;
  }
}

TEST(Aligned, ImpossibleRequestsAreEnomem) {
  volatile size_t huge = SIZE_MAX - 100;
  for (size_t a : {size_t(16), size_t(64), size_t(4096), size_t(1) << 20}) {
    errno = 0;
    EXPECT_EQ(aligned_alloc(a, huge), nullptr);
    EXPECT_EQ(errno, ENOMEM) << a;
    errno = 0;
    EXPECT_EQ(memalign(a, huge), nullptr);
    EXPECT_EQ(errno, ENOMEM) << a;
    void *out = reinterpret_cast<void *>(0x1234);
    EXPECT_EQ(posix_memalign(&out, a, huge), ENOMEM);
    EXPECT_EQ(out, reinterpret_cast<void *>(0x1234));
  }
  // A valid power of two beyond what the reservation can honour.
  errno = 0;
  EXPECT_EQ(memalign(size_t(1) << 44, 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Aligned, VallocAndPvallocArePageAligned) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  for (size_t n : {size_t(0), size_t(1), page - 1, page, page + 1, size_t(100000)}) {
    void *v = valloc(n);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(uintptr_t(v) % page, 0u);
    EXPECT_GE(malloc_usable_size(v), n);
    free(v);
    void *p = pvalloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(uintptr_t(p) % page, 0u);
    // pvalloc rounds the size up to whole pages (a whole page for 0).
    size_t rounded = n == 0 ? page : (n + page - 1) / page * page;
    EXPECT_GE(malloc_usable_size(p), rounded) << n;
    memset(p, 1, rounded);
    free(p);
  }
  volatile size_t huge = SIZE_MAX - 10;
  errno = 0;
  EXPECT_EQ(pvalloc(huge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(valloc(huge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ray_pvalloc(huge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Aligned, ReallocOfAnAlignedBlockKeepsItsContents) {
  void *p = aligned_alloc(4096, 3000);
  ASSERT_NE(p, nullptr);
  fill_pattern(p, 3000, 99);
  p = realloc(p, 200000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(check_pattern(p, 3000, 99), 3000u);
  free(p);
}

}  // namespace
