// The malloc family through the override (this executable links librayalloc.so, so plain
// malloc/free are rayalloc's) and through the ray_-prefixed twins: standard results, edge
// cases (0 sizes, NULL, overflow, impossible sizes) and errno on every failure.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"

// C23 names that older glibc headers do not declare; rayalloc exports them.
extern "C" void free_sized(void *p, size_t size);
extern "C" void free_aligned_sized(void *p, size_t align, size_t size);

namespace {

using core_test::check_pattern;
using core_test::fill_pattern;

// Sizes that cross every size-class boundary region and the slab/large limit.
std::vector<size_t> sample_sizes() {
  std::vector<size_t> v;
  for (size_t n = 0; n <= 256; n++) v.push_back(n);
  for (size_t n = 272; n <= 70000; n = n * 9 / 8 + 1) v.push_back(n);
  for (size_t n : {size_t(1023), size_t(1024), size_t(1025), size_t(65535), size_t(65536),
                   size_t(65537), size_t(100000), size_t(1) << 20, (size_t(3) << 20) + 5})
    v.push_back(n);
  return v;
}

// Values no allocator can satisfy: beyond the address space or beyond ptrdiff_t.
std::vector<size_t> impossible_sizes() {
  return {SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX / 2 + 1, size_t(1) << 62, size_t(1) << 48};
}

TEST(MallocFace, MallocGivesAlignedDistinctWritableBlocks) {
  std::vector<size_t> sizes = sample_sizes();
  std::vector<std::pair<char *, size_t>> blocks;
  uint32_t tag = 1;
  for (size_t n : sizes) {
    char *p = static_cast<char *>(malloc(n));
    ASSERT_NE(p, nullptr) << "malloc(" << n << ")";
    EXPECT_EQ(uintptr_t(p) % 16, 0u) << "malloc(" << n << ") not 16-aligned";
    EXPECT_TRUE(ray_owns(p)) << "malloc(" << n << ") is not served by rayalloc";
    size_t usable = malloc_usable_size(p);
    EXPECT_GE(usable, n);
    fill_pattern(p, usable, tag++);
    blocks.push_back({p, usable});
  }
  // No two live blocks overlap, and writing a whole usable size disturbed no neighbour.
  tag = 1;
  for (auto &[p, n] : blocks) EXPECT_EQ(check_pattern(p, n, tag++), n);
  std::vector<std::pair<char *, size_t>> sorted = blocks;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); i++)
    EXPECT_LE(sorted[i - 1].first + sorted[i - 1].second, sorted[i].first);
  for (auto &b : blocks) free(b.first);
}

TEST(MallocFace, MallocZeroGivesAUniqueFreeableBlock) {
  void *a = malloc(0), *b = malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_TRUE(ray_owns(a));
  free(a);
  free(b);
}

TEST(MallocFace, ImpossibleSizesFailWithEnomem) {
  for (size_t n : impossible_sizes()) {
    volatile size_t vn = n;  // keep the compiler from folding the call
    errno = 0;
    EXPECT_EQ(malloc(vn), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM) << n;
    errno = 0;
    EXPECT_EQ(ray_malloc(vn), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM) << n;
    errno = 0;
    EXPECT_EQ(calloc(1, vn), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM) << n;
  }
  // The allocator still works after refusing.
  void *p = malloc(100);
  EXPECT_NE(p, nullptr);
  free(p);
}

TEST(MallocFace, MoreThanTheReservationFailsWithEnomem) {
  volatile size_t n = size_t(4) << 40;  // 4 TiB: more than rayalloc ever reserves by default
  errno = 0;
  EXPECT_EQ(malloc(n), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(MallocFace, CallocZeroesRecycledMemory) {
  for (size_t n : sample_sizes()) {
    // Dirty a block of this size first, so calloc has to clear reused memory.
    void *dirty = malloc(n);
    ASSERT_NE(dirty, nullptr);
    memset(dirty, 0xA5, malloc_usable_size(dirty));
    free(dirty);
    unsigned char *p = static_cast<unsigned char *>(calloc(1, n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_TRUE(ray_owns(p));
    for (size_t i = 0; i < n; i++)
      if (p[i] != 0) {
        ADD_FAILURE() << "calloc(1, " << n << ") byte " << i << " is not zero";
        break;
      }
    free(p);
  }
}

TEST(MallocFace, CallocCountTimesSize) {
  int *p = static_cast<int *>(calloc(1000, sizeof(int)));
  ASSERT_NE(p, nullptr);
  EXPECT_GE(malloc_usable_size(p), 1000 * sizeof(int));
  for (int i = 0; i < 1000; i++) ASSERT_EQ(p[i], 0);
  free(p);
  void *z1 = calloc(0, 16), *z2 = calloc(16, 0);
  EXPECT_NE(z1, nullptr);
  EXPECT_NE(z2, nullptr);
  free(z1);
  free(z2);
}

TEST(MallocFace, CallocOverflowFailsWithEnomem) {
  struct {
    size_t count, size;
  } cases[] = {{SIZE_MAX, 2},
               {2, SIZE_MAX},
               {SIZE_MAX / 2 + 1, 2},
               {size_t(1) << 32, size_t(1) << 32},
               {SIZE_MAX, SIZE_MAX}};
  for (auto c : cases) {
    volatile size_t count = c.count, size = c.size;
    errno = 0;
    EXPECT_EQ(calloc(count, size), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    errno = 0;
    EXPECT_EQ(ray_calloc(count, size), nullptr);
    EXPECT_EQ(errno, ENOMEM);
  }
}

TEST(MallocFace, ReallocNullIsMallocAndZeroFrees) {
  void *p = realloc(nullptr, 40);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ray_owns(p));
  free(p);
  // glibc semantics: realloc(p, 0) frees p and returns NULL. A large block shows the free.
  void *big = malloc(1 << 20);
  ASSERT_TRUE(ray_owns(big));
  EXPECT_EQ(realloc(big, 0), nullptr);
  EXPECT_FALSE(ray_owns(big)) << "realloc(p, 0) did not free p";
  void *small = malloc(24);
  EXPECT_EQ(realloc(small, 0), nullptr);
  EXPECT_EQ(ray_realloc(ray_malloc(10), 0), nullptr);
}

TEST(MallocFace, ReallocFailureKeepsTheBlock) {
  for (size_t start : {size_t(24), size_t(5000), size_t(200000)}) {
    char *p = static_cast<char *>(malloc(start));
    ASSERT_NE(p, nullptr);
    fill_pattern(p, start, 7);
    for (size_t n : impossible_sizes()) {
      volatile size_t vn = n;
      errno = 0;
      EXPECT_EQ(realloc(p, vn), nullptr) << start << " -> " << n;
      EXPECT_EQ(errno, ENOMEM);
      EXPECT_TRUE(ray_owns(p));
      ASSERT_EQ(check_pattern(p, start, 7), start) << "failed realloc changed the block";
    }
    free(p);
  }
}

TEST(MallocFace, ReallocarrayMultipliesAndChecksOverflow) {
  int *p = static_cast<int *>(reallocarray(nullptr, 10, sizeof(int)));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; i++) p[i] = i * 3;
  p = static_cast<int *>(reallocarray(p, 100000, sizeof(int)));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; i++) EXPECT_EQ(p[i], i * 3);
  volatile size_t huge = SIZE_MAX / 2;
  errno = 0;
  EXPECT_EQ(reallocarray(p, huge, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ray_reallocarray(p, huge, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (int i = 0; i < 10; i++) EXPECT_EQ(p[i], i * 3) << "overflowing reallocarray changed it";
  int *q = static_cast<int *>(ray_reallocarray(p, 20, sizeof(int)));
  ASSERT_NE(q, nullptr);
  for (int i = 0; i < 10; i++) EXPECT_EQ(q[i], i * 3);
  free(q);
}

TEST(MallocFace, FreeNullAndSizedFrees) {
  free(nullptr);
  ray_free(nullptr);
  free_sized(nullptr, 0);
  for (size_t n : {size_t(1), size_t(100), size_t(4000), size_t(70000), size_t(1) << 21}) {
    void *p = malloc(n);
    ASSERT_NE(p, nullptr);
    free_sized(p, n);
    void *q = aligned_alloc(256, n);
    ASSERT_NE(q, nullptr);
    free_aligned_sized(q, 256, n);
    void *r = ray_malloc(n);
    ray_free_sized(r, n);
    void *s = ray_aligned_alloc(64, n);
    ray_free_aligned_sized(s, 64, n);
  }
  // A large block freed with free_sized really goes back.
  void *big = malloc(size_t(2) << 20);
  free_sized(big, size_t(2) << 20);
  EXPECT_FALSE(ray_owns(big));
}

TEST(MallocFace, UsableSizeCoversTheRequest) {
  EXPECT_EQ(malloc_usable_size(nullptr), 0u);
  EXPECT_EQ(ray_usable_size(nullptr), 0u);
  for (size_t n : sample_sizes()) {
    void *p = malloc(n);
    size_t u = malloc_usable_size(p);
    EXPECT_GE(u, n);
    EXPECT_EQ(ray_usable_size(p), u);
    EXPECT_EQ(ray_malloc_usable_size(p), u);
    // Not wasteful: at most 1/8 over the request for slab sizes, a page for large ones.
    if (n > 128 && n <= 65536) EXPECT_LE(u, n + n / 8 + 16) << n;
    if (n > 65536) EXPECT_LT(u, n + 4096) << n;
    free(p);
  }
}

TEST(MallocFace, TrimGivesCachedMemoryBack) {
  // A freed large block stays committed for reuse (the cache); malloc_trim gives it back.
  malloc_trim(0);  // what the test program left cached so far
  const size_t n = size_t(4) << 20;
  char *p = static_cast<char *>(malloc(n));
  ASSERT_NE(p, nullptr);
  memset(p, 1, n);
  size_t rss_used = core_test::rss_bytes();
  free(p);
  EXPECT_EQ(malloc_trim(0), 1) << "freed memory was cached, trim should release it";
  EXPECT_EQ(malloc_trim(0), 0) << "nothing left to release";
  EXPECT_EQ(ray_malloc_trim(0), 0);
  size_t rss_trimmed = core_test::rss_bytes();
  EXPECT_LE(rss_trimmed + n / 2, rss_used);
  // The calling thread's heap is trimmed too: a slab that just emptied, though it is its
  // class's current one, goes back.
  char *q = static_cast<char *>(malloc(40000));
  ASSERT_NE(q, nullptr);
  memset(q, 2, 40000);
  free(q);
  EXPECT_EQ(malloc_trim(0), 1) << "the slab of the freed block should have gone back";
  EXPECT_EQ(malloc_trim(0), 0);
}

TEST(MallocFace, PrefixedTwinsShareTheEngine) {
  // In the override library both names reach the same heap: a block from one family may be
  // freed by the other.
  void *a = ray_malloc(100);
  EXPECT_TRUE(ray_owns(a));
  free(a);
  void *b = malloc(100);
  ray_free(b);
  void *c = ray_calloc(10, 10);
  for (int i = 0; i < 100; i++) ASSERT_EQ(static_cast<char *>(c)[i], 0);
  c = ray_realloc(c, 5000);
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 100; i++) ASSERT_EQ(static_cast<char *>(c)[i], 0);
  free(c);
  void *m = ray_memalign(4096, 10);
  EXPECT_EQ(uintptr_t(m) % 4096, 0u);
  ray_free(m);
  void *v = ray_valloc(10);
  EXPECT_EQ(uintptr_t(v) % 4096, 0u);
  ray_free(v);
  void *pv = ray_pvalloc(10);
  EXPECT_EQ(uintptr_t(pv) % 4096, 0u);
  EXPECT_GE(ray_usable_size(pv), 4096u);
  ray_free(pv);
  void *pm = nullptr;
  EXPECT_EQ(ray_posix_memalign(&pm, 128, 10), 0);
  EXPECT_EQ(uintptr_t(pm) % 128, 0u);
  ray_free(pm);
  EXPECT_FALSE(ray_owns(nullptr));
  static char not_ours[64];
  EXPECT_FALSE(ray_owns(not_ours));
}

TEST(MallocFace, ReservationIsMmapOnly) {
  // The heap segment (brk) never moves: all memory comes from the mmap'ed reservation.
  void *brk_before = sbrk(0);
  std::vector<void *> blocks;
  size_t total = 0;
  for (size_t i = 0; total < (size_t(100) << 20); i++) {
    size_t n = (i % 7 == 0) ? 300000 : 16 + (i * 37) % 4000;
    void *p = malloc(n);
    ASSERT_NE(p, nullptr);
    memset(p, 1, n);
    blocks.push_back(p);
    total += n;
  }
  EXPECT_EQ(sbrk(0), brk_before) << "the program break moved during 100 MB of allocations";
  for (void *p : blocks) free(p);
  EXPECT_EQ(sbrk(0), brk_before);
}

}  // namespace
