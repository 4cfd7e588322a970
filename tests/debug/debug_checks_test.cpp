// The debug variant's checks, in process: a recording error handler sees each report (kind,
// pointer, errno code) and returns, so the test also checks that the offending call did
// nothing. Linked against librayalloc-debug, which is the process's malloc.
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rayalloc.h"

namespace {

struct Recorded {
  std::atomic<int> count{0};
  int err = 0;
  void *ptr = nullptr;
  char msg[256] = {0};
};
Recorded g_rec;

void record(int err, const char *msg, void *ptr, void *) {
  g_rec.err = err;
  g_rec.ptr = ptr;
  strncpy(g_rec.msg, msg, sizeof g_rec.msg - 1);
  g_rec.count++;
}

class DebugChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    g_rec.count = 0;
    g_rec.msg[0] = 0;
    g_rec.ptr = nullptr;
    ray_set_error_handler(record, nullptr);
  }
  void TearDown() override {
    ray_malloc_trim(0);  // every held block is checked now, while the handler records
    ray_set_error_handler(nullptr, nullptr);
  }
  // One report of `kind` about `ptr` since the last call.
  void ExpectReport(const char *kind, const void *ptr, int err) {
    EXPECT_EQ(g_rec.count.exchange(0), 1) << g_rec.msg;
    EXPECT_EQ(strncmp(g_rec.msg, kind, strlen(kind)), 0) << "message: " << g_rec.msg;
    EXPECT_EQ(g_rec.ptr, ptr) << g_rec.msg;
    EXPECT_EQ(g_rec.err, err) << g_rec.msg;
  }
  void ExpectNoReport() { EXPECT_EQ(g_rec.count.load(), 0) << g_rec.msg; }
};

unsigned char *bytes(void *p) {
  return static_cast<unsigned char *>(p);
}

// Keeps the compiler from reasoning about freed pointers.
template <class T>
T *opaque(T *p) {
  asm volatile("" : "+r"(p));
  return p;
}

TEST_F(DebugChecks, FillPatternsAndExactUsableSize) {
  auto *p = bytes(malloc(100));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; i++) ASSERT_EQ(p[i], 0xAB) << i;
  EXPECT_EQ(malloc_usable_size(p), 100u);
  EXPECT_EQ(ray_usable_size(p), 100u);
  EXPECT_TRUE(ray_owns(p));
  free(p);
  for (int i = 0; i < 100; i++) ASSERT_EQ(opaque(p)[i], 0xDF) << i;  // still held: delayed reuse
  EXPECT_FALSE(ray_owns(opaque(p)));
  auto *z = bytes(calloc(10, 30));
  for (int i = 0; i < 300; i++) ASSERT_EQ(z[i], 0) << i;
  free(z);
  ExpectNoReport();
}

TEST_F(DebugChecks, DoubleFreeIsReportedAndIgnored) {
  for (size_t n : {size_t(24), size_t(3000), size_t(200000)}) {
    void *p = malloc(n);
    free(p);
    free(opaque(p));
    ExpectReport("double free in free()", p, EINVAL);
  }
}

TEST_F(DebugChecks, InvalidFreeOfMemoryRayallocNeverGaveOut) {
  char stack_buf[64];
  free(opaque(stack_buf + 8));
  ExpectReport("invalid free in free()", stack_buf + 8, EINVAL);
  static char static_buf[64];
  free(opaque(static_buf));
  ExpectReport("invalid free in free()", static_buf, EINVAL);
}

TEST_F(DebugChecks, InteriorPointerFreeNamesTheOffset) {
  char *p = static_cast<char *>(malloc(64));
  free(opaque(p + 8));
  ExpectReport("interior pointer in free()", p + 8, EINVAL);
  EXPECT_NE(strstr(g_rec.msg, "8 bytes into the 64-byte block"), nullptr) << g_rec.msg;
  free(p);  // the block is untouched and frees normally
  ExpectNoReport();
}

TEST_F(DebugChecks, RedzoneOverflowIsFoundOnFree) {
  for (size_t n : {size_t(24), size_t(5000), size_t(100000)}) {
    auto *p = bytes(malloc(n));
    opaque(p)[n] = 'x';  // one byte past the end
    free(p);
    ExpectReport("redzone overwritten in free()", p, EFAULT);
    EXPECT_NE(strstr(g_rec.msg, "byte 0 past the end"), nullptr) << g_rec.msg;
    EXPECT_EQ(malloc_usable_size(p), n);  // the free did nothing: still live
    opaque(p)[n] = 0xFD;                  // repaired, it frees cleanly
    free(p);
    ExpectNoReport();
  }
}

TEST_F(DebugChecks, WriteAfterFreeIsFoundWhenTheBlockIsReused) {
  auto *p = bytes(malloc(64));
  free(p);
  opaque(p)[10] = 1;
  ExpectNoReport();
  ray_malloc_trim(0);  // the quarantine lets go of every block, checking each
  ExpectReport("write after free in delayed reuse", p, EFAULT);
  EXPECT_NE(strstr(g_rec.msg, "byte 10 of the freed 64-byte block"), nullptr) << g_rec.msg;
}

TEST_F(DebugChecks, FreedBlocksAreNotReusedAtOnce) {
  void *p = malloc(48);
  free(p);
  void *q = malloc(48);
  EXPECT_NE(p, q);
  free(q);
  ExpectNoReport();
}

TEST_F(DebugChecks, QuarantineIsBoundedAndReleasesMemory) {
  ray_stats before, after;
  ray_stats_get(nullptr, &before);
  for (int i = 0; i < 20000; i++) free(opaque(malloc(4000)));  // 80 MB freed, 16 MB held at most
  ray_malloc_trim(0);
  ray_stats_get(nullptr, &after);
  EXPECT_LT(after.allocated, before.allocated + (size_t(1) << 20));
  EXPECT_EQ(after.mallocs - before.mallocs, after.frees - before.frees);
  ExpectNoReport();
}

TEST_F(DebugChecks, GuardPageStopsALargeOverflow) {
  EXPECT_EXIT(
      {
        auto *p = bytes(malloc(200000));
        for (size_t i = 200000; i < 200000 + 3 * 4096; i++) opaque(p)[i] = 1;
        _exit(0);  // not reached: the guard page faults first
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

TEST_F(DebugChecks, ReallocKeepsContentsAndChecks) {
  auto *p = bytes(malloc(10));
  memset(p, 7, 10);
  p = bytes(realloc(p, 20));  // in place (room in its block) or moved: contents kept
  for (int i = 0; i < 10; i++) ASSERT_EQ(p[i], 7);
  for (int i = 10; i < 20; i++) ASSERT_EQ(p[i], 0xAB);
  EXPECT_EQ(malloc_usable_size(p), 20u);
  p = bytes(realloc(p, 300000));  // moves to a large block
  for (int i = 0; i < 10; i++) ASSERT_EQ(p[i], 7);
  for (size_t n = 300000; n < 2000000; n += 4096) {  // grows with room: not quadratic
    p = bytes(realloc(p, n));
    ASSERT_EQ(p[0], 7);
  }
  free(p);
  ExpectNoReport();
  void *q = malloc(32);
  free(q);
  errno = 0;
  EXPECT_EQ(realloc(opaque(q), 64), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ExpectReport("double free in realloc()", q, EINVAL);
}

TEST_F(DebugChecks, AlignedAllocationsAreAlignedAndChecked) {
  for (size_t align : {size_t(32), size_t(64), size_t(4096), size_t(65536), size_t(1) << 20})
    for (size_t n : {size_t(100), size_t(300000)}) {  // a large one starts past its first slice
      void *p = nullptr;
      ASSERT_EQ(posix_memalign(&p, align, n), 0) << align;
      EXPECT_EQ(uintptr_t(p) % align, 0u) << align;
      EXPECT_EQ(malloc_usable_size(p), n);
      EXPECT_TRUE(ray_owns(p));
      opaque(bytes(p))[n] = 1;
      free(p);
      ExpectReport("redzone overwritten in free()", p, EFAULT);
      opaque(bytes(p))[n] = 0xFD;
      free(opaque(bytes(p) + n / 2));
      ExpectReport("interior pointer in free()", bytes(p) + n / 2, EINVAL);
      free(p);
      ExpectNoReport();
    }
  void *a = aligned_alloc(256, 512);
  EXPECT_EQ(uintptr_t(a) % 256, 0u);
  free(a);
  ExpectNoReport();
}

TEST_F(DebugChecks, ThreadsFreeEachOthersBlocks) {
  constexpr int kBlocks = 20000;
  std::vector<void *> blocks(kBlocks);
  std::thread maker([&] {
    for (int i = 0; i < kBlocks; i++) blocks[i] = malloc(size_t(16 + i % 700));
  });
  maker.join();
  std::thread freer([&] {
    for (void *p : blocks) free(p);
  });
  freer.join();
  std::vector<std::thread> churn;
  for (int t = 0; t < 4; t++)
    churn.emplace_back([t] {
      std::mt19937 rng(t);
      std::vector<void *> live;
      for (int i = 0; i < 20000; i++) {
        if (live.size() < 200 && rng() % 3) {
          live.push_back(malloc(rng() % 5000));
        } else if (!live.empty()) {
          size_t k = rng() % live.size();
          if (rng() % 4 == 0) {
            live[k] = realloc(live[k], rng() % 9000 + 1);
          } else {
            free(live[k]);
            live[k] = live.back();
            live.pop_back();
          }
        }
      }
      for (void *p : live) free(p);
    });
  for (auto &t : churn) t.join();
  ExpectNoReport();
}

TEST_F(DebugChecks, BlocksOfOtherFacesFreeThroughFree) {
  for (int i = 0; i < 100; i++) {
    void *d = malloc(24);  // a debug block whose memory the next ones may reuse
    free(d);
    ray_malloc_trim(0);
    void *q = ray_arena_malloc(nullptr, 24);  // the default arena: no debug header
    ASSERT_NE(q, nullptr);
    EXPECT_GE(ray_usable_size(q), 24u);
    free(q);
  }
  ray_arena *a = ray_arena_new(nullptr);
  void *b = ray_arena_malloc(a, 100);
  free(b);
  ray_pool *pool = ray_pool_new(40, 0, nullptr);
  void *o = ray_pool_alloc(pool);
  free(o);
  ray_pool_destroy(pool);
  ray_arena_destroy(a);
  int *arr = static_cast<int *>(ray_array_new(sizeof(int), 10, nullptr));
  free(arr);
  ExpectNoReport();
}

TEST(DebugDefaultHandler, PrintsKindAndPointerThenAborts) {
  ray_set_error_handler(nullptr, nullptr);
  EXPECT_DEATH(
      {
        void *p = malloc(40);
        fprintf(stderr, "PTR %p\n", p);
        free(p);
        free(opaque(p));
      },
      "rayalloc: error 22: double free in free\\(\\): the 40-byte block was already freed "
      "\\(size class [0-9]+ \\([0-9]+-byte blocks\\), thread heap 0x[0-9a-f]+\\): 0x[0-9a-f]+");
}

}  // namespace
