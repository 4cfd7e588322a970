// Fault injection: a PageSource that wraps the Linux one and fails reserve / commit /
// decommit / move_pages on demand (installed with the OS layer's test hook
// ray::os::os_set_page_source, reachable because this test links the engine statically).
//
// For each fault: the allocator answers with NULL + ENOMEM (never a crash, never the error
// handler), every live block keeps its bytes, nothing is leaked (span-heap accounting returns
// to its baseline), and everything works again once the fault clears. Linux commit is a no-op
// (pages are backed on touch), so commit failures exist only through this fake.
#include <errno.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "arena/span_heap.hpp"
#include "os/os.hpp"
#include "rayalloc.h"
#include "robust/robust_util.hpp"

namespace {

using ray::os::PageSource;

struct Faults {
  std::atomic<bool> reserve{false}, commit{false}, decommit{false}, move{false};
  std::atomic<int> reserve_calls{0}, commit_calls{0}, decommit_calls{0}, move_calls{0};
  std::atomic<int> failed{0};
};
Faults g_faults;
const PageSource *g_real;

void *fake_reserve(size_t bytes, size_t align) {
  g_faults.reserve_calls++;
  if (g_faults.reserve) {
    g_faults.failed++;
    errno = ENOMEM;
    return nullptr;
  }
  return g_real->reserve(bytes, align);
}
void fake_release(void *p, size_t bytes) {
  g_real->release(p, bytes);
}
bool fake_commit(void *p, size_t bytes) {
  g_faults.commit_calls++;
  if (g_faults.commit) {
    g_faults.failed++;
    errno = ENOMEM;
    return false;
  }
  return g_real->commit(p, bytes);
}
bool fake_decommit(void *p, size_t bytes) {
  g_faults.decommit_calls++;
  if (g_faults.decommit) {
    g_faults.failed++;
    errno = EAGAIN;
    return false;
  }
  return g_real->decommit(p, bytes);
}
bool fake_move(void *from, void *to, size_t bytes) {
  g_faults.move_calls++;
  if (g_faults.move) {
    g_faults.failed++;
    errno = ENOMEM;
    return false;
  }
  return g_real->move_pages(from, to, bytes);
}
void fake_advise(void *p, size_t bytes, bool on) {
  g_real->advise_huge(p, bytes, on);
}
bool fake_protect(void *p, size_t bytes, bool on) {
  return g_real->protect(p, bytes, on);
}

const PageSource kFake = {fake_reserve, fake_release, fake_commit, fake_decommit,
                          fake_move,    fake_advise,  fake_protect};

std::atomic<int> g_handler_calls{0};
void counting_handler(int, const char *, void *, void *) {
  g_handler_calls++;
}

class Faulty : public ::testing::Test {
 protected:
  void SetUp() override {
    g_faults.reserve = g_faults.commit = g_faults.decommit = g_faults.move = false;
    g_faults.reserve_calls = g_faults.commit_calls = g_faults.decommit_calls = 0;
    g_faults.move_calls = g_faults.failed = 0;
    g_real = ray::os::os_set_page_source(&kFake);
    g_handler_calls = 0;
    ray_set_error_handler(counting_handler, nullptr);
  }
  void TearDown() override {
    ray::os::os_set_page_source(nullptr);
    ray_set_error_handler(nullptr, nullptr);
    EXPECT_EQ(g_handler_calls.load(), 0) << "a documented failure reached the error handler";
  }
};

// Fresh process (gtest re-executes the binary for the death-test style below), so the engine
// starts under the fault: it cannot reserve its address space at all.
int startup_under_reserve_failure() {
  g_real = ray::os::os_set_page_source(&kFake);
  g_faults.reserve = true;
  errno = 0;
  if (ray_malloc(64) != nullptr || errno != ENOMEM) return 1;
  if (ray_calloc(4, 16) != nullptr || errno != ENOMEM) return 2;
  if (ray_aligned_alloc(256, 256) != nullptr) return 3;
  // It tried every size from the default down to the 64 MiB floor before giving up.
  if (g_faults.reserve_calls < 10) return 4;
  g_faults.reserve = false;
  void *p = ray_malloc(64);
  if (!p) return 5;
  robust::fill(p, 64, 1);
  ray_free(p);
  return 0;
}

TEST(FaultStartup, ReserveFailureGivesEnomemThenRecovers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exit(startup_under_reserve_failure()), ::testing::ExitedWithCode(0), "");
}

TEST_F(Faulty, CommitFailureFailsSmallAndLargeCleanlyAndRecovers) {
  constexpr size_t kSmall = 1000, kLarge = size_t(4) << 20;
  // Warm up the size class, then give every cached page back so new slabs need a commit.
  for (int i = 0; i < 4; i++) ray_free(ray_malloc(kSmall));
  ray_malloc_trim(0);
  size_t baseline = ray::span_heap_in_use();

  g_faults.commit = true;
  std::vector<void *> blocks;
  void *p;
  errno = 0;
  while ((p = ray_malloc(kSmall)) != nullptr && blocks.size() < 100000) {
    robust::fill(p, kSmall, blocks.size());
    blocks.push_back(p);
  }
  ASSERT_EQ(p, nullptr) << "allocation never needed a commit";
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_GT(g_faults.failed.load(), 0);
  errno = 0;
  EXPECT_EQ(ray_malloc(kLarge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(ray_calloc(1, kLarge), nullptr);
  EXPECT_EQ(ray_aligned_alloc(size_t(1) << 20, size_t(1) << 20), nullptr);
  void *out = nullptr;
  EXPECT_EQ(ray_posix_memalign(&out, 4096, kLarge), ENOMEM);
  for (size_t i = 0; i < blocks.size(); i++)
    ASSERT_EQ(robust::first_mismatch(blocks[i], kSmall, i), SIZE_MAX) << "block " << i;

  g_faults.commit = false;
  void *small = ray_malloc(kSmall), *large = ray_malloc(kLarge);
  ASSERT_NE(small, nullptr);
  ASSERT_NE(large, nullptr);
  robust::fill(large, kLarge, 7);
  EXPECT_EQ(robust::first_mismatch(large, kLarge, 7), SIZE_MAX);
  ray_free(small);
  ray_free(large);
  for (void *b : blocks) ray_free(b);
  ray_malloc_trim(0);  // as before the baseline: the class's current slab goes back too
  EXPECT_EQ(ray::span_heap_in_use(), baseline) << "spans leaked by the failed allocations";
}

TEST_F(Faulty, ReallocUnderCommitFailureKeepsTheOldBlock) {
  constexpr size_t kOld = size_t(1) << 20;
  void *a = ray_malloc(kOld);
  void *fence = ray_malloc(kOld);  // taken right after a: no growth in place without a commit
  ASSERT_NE(a, nullptr);
  ASSERT_NE(fence, nullptr);
  robust::fill(a, kOld, 3);
  ray_malloc_trim(0);
  g_faults.commit = true;
  errno = 0;
  EXPECT_EQ(ray_realloc(a, size_t(8) << 20), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(robust::first_mismatch(a, kOld, 3), SIZE_MAX);
  EXPECT_EQ(ray_reallocarray(a, size_t(1) << 20, 64), nullptr);
  EXPECT_EQ(robust::first_mismatch(a, kOld, 3), SIZE_MAX);
  g_faults.commit = false;
  void *b = ray_realloc(a, size_t(8) << 20);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(robust::first_mismatch(b, kOld, 3), SIZE_MAX);
  ray_free(b);
  ray_free(fence);
}

TEST_F(Faulty, MovePagesFailureFallsBackToCopying) {
  constexpr size_t kOld = size_t(2) << 20;
  void *a = ray_malloc(kOld);
  void *fence = ray_malloc(4096 * 20);  // large, right after a: a must move to grow
  ASSERT_NE(a, nullptr);
  ASSERT_NE(fence, nullptr);
  robust::fill(a, kOld, 11);
  g_faults.move = true;
  void *b = ray_realloc(a, size_t(32) << 20);
  ASSERT_NE(b, nullptr);
  EXPECT_GT(g_faults.move_calls.load(), 0) << "the block grew without trying to move its pages";
  EXPECT_EQ(robust::first_mismatch(b, kOld, 11), SIZE_MAX) << "copy fallback lost data";
  // Fault cleared: the next move goes by mremap again and still keeps every byte.
  g_faults.move = false;
  robust::fill(b, size_t(32) << 20, 12);
  void *fence2 = ray_malloc(4096 * 20);
  int moves = g_faults.move_calls;
  void *c = ray_realloc(b, size_t(200) << 20);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(robust::first_mismatch(c, size_t(32) << 20, 12), SIZE_MAX);
  if (c != b) EXPECT_GT(g_faults.move_calls.load(), moves);
  ray_free(c);
  ray_free(fence);
  ray_free(fence2);
}

TEST_F(Faulty, DecommitFailureKeepsCallocZeroAndIsRetriedLater) {
  g_faults.decommit = true;
  robust::Rng rng(5);
  for (int i = 0; i < 40; i++) {
    size_t n = size_t(65) * 1024 + rng.below(size_t(3) << 20);
    auto *p = static_cast<unsigned char *>(ray_calloc(1, n));
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(robust::all_zero(p, n)) << "calloc of " << n << " reused dirty pages";
    memset(p, 0xA5, n);
    ray_free(p);
    ray_malloc_trim(0);  // the OS refuses: the pages stay committed (and dirty)
  }
  EXPECT_GT(g_faults.failed.load(), 0);
  EXPECT_GE(ray::span_heap_committed(), ray::span_heap_in_use());
  // Fault cleared: trimming gives back what the failed decommits kept.
  g_faults.decommit = false;
  ray_malloc_trim(0);
  EXPECT_LE(ray::span_heap_committed() - ray::span_heap_in_use(), size_t(1) << 20)
      << "memory the OS refused to take back stays committed after the fault cleared";
}

TEST_F(Faulty, ThreadsKeepWorkingThroughIntermittentCommitFailures) {
  // Commits fail on and off while two threads allocate: every failure is a clean NULL, and
  // every block that was handed out is intact.
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, nulls{0};
  auto work = [&](int seed) {
    robust::Rng rng{uint64_t(seed)};
    std::vector<std::pair<void *, size_t>> live;
    for (int i = 0; i < 20000; i++) {
      size_t n = rng.below(4) == 0 ? 70000 + rng.below(500000) : 1 + rng.below(3000);
      errno = 0;
      void *p = ray_malloc(n);
      if (!p) {
        if (errno != ENOMEM) bad++;
        nulls++;
      } else {
        robust::fill(p, n, uintptr_t(p));
        live.push_back({p, n});
      }
      if (live.size() > 64 || (rng.below(2) && !live.empty())) {
        auto [q, m] = live[rng.below(live.size())];
        if (robust::first_mismatch(q, m, uintptr_t(q)) != SIZE_MAX) bad++;
        ray_free(q);
        live.erase(std::find(live.begin(), live.end(), std::make_pair(q, m)));
      }
    }
    for (auto [q, m] : live) {
      if (robust::first_mismatch(q, m, uintptr_t(q)) != SIZE_MAX) bad++;
      ray_free(q);
    }
  };
  std::thread flipper([&] {
    while (!stop) {
      g_faults.commit = !g_faults.commit;
      ray_malloc_trim(0);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    g_faults.commit = false;
  });
  std::thread t1(work, 1), t2(work, 2);
  t1.join();
  t2.join();
  stop = true;
  flipper.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(nulls.load(), 0) << "the faults never hit an allocation";
}

}  // namespace
