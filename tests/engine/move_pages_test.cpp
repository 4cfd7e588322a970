// os::move_pages (src/os/os_linux.cpp) moves page tables between two blocks of the reservation.
// It must never leave a hole behind, not even for a moment: another thread's mmap(NULL) (a new
// thread's stack, a library's buffer) could land in it, and the allocator would later clobber
// that mapping or lose the range when its owner unmaps it.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "os/os.hpp"

namespace {

constexpr size_t kBytes = 1 << 20;

TEST(MovePages, MovesContentAndLeavesTheSourceMappedAndZero) {
  auto *a = static_cast<unsigned char *>(aligned_alloc(1 << 16, kBytes));
  auto *b = static_cast<unsigned char *>(aligned_alloc(1 << 16, kBytes));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (size_t i = 0; i < kBytes; i++) a[i] = static_cast<unsigned char>(i * 7 + 1);
  if (!ray::os::move_pages(a, b, kBytes)) GTEST_SKIP() << "kernel without MREMAP_DONTUNMAP";
  for (size_t i = 0; i < kBytes; i += 4093) ASSERT_EQ(b[i], static_cast<unsigned char>(i * 7 + 1));
  // Still mapped: a no-replace mapping over it is refused, and it reads as zero.
  void *over = mmap(a, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(over, MAP_FAILED);
  if (over != MAP_FAILED) munmap(over, 4096);
  for (size_t i = 0; i < kBytes; i += 4093) ASSERT_EQ(a[i], 0) << i;
  free(a);
  free(b);
}

TEST(MovePages, NoOtherMappingCanLandInTheSourceWhileMoving) {
  auto *a = static_cast<unsigned char *>(aligned_alloc(1 << 16, kBytes));
  auto *b = static_cast<unsigned char *>(aligned_alloc(1 << 16, kBytes));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  memset(a, 1, kBytes);
  if (!ray::os::move_pages(a, b, kBytes)) GTEST_SKIP() << "kernel without MREMAP_DONTUNMAP";
  std::atomic<bool> stop{false};
  std::atomic<long> landed{0}, tries{0};
  // Asks the kernel for exactly the ranges being moved (a hint, not MAP_FIXED): it gets them
  // only if they are unmapped at that moment.
  std::thread prober([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      for (void *want : {static_cast<void *>(a), static_cast<void *>(b)}) {
        void *got = mmap(want, kBytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (got == want) landed.fetch_add(1);
        if (got != MAP_FAILED) munmap(got, kBytes);
        tries.fetch_add(1);
      }
    }
  });
  for (int i = 0; i < 20000 && landed.load() == 0; i++) {
    b[0] = 1;  // some pages to move
    ASSERT_TRUE(ray::os::move_pages(b, a, kBytes));
    a[0] = 1;
    ASSERT_TRUE(ray::os::move_pages(a, b, kBytes));
  }
  stop = true;
  prober.join();
  EXPECT_EQ(landed.load(), 0) << "a foreign mapping landed in the reservation";
  EXPECT_GT(tries.load(), 0);
  free(a);
  free(b);
}

}  // namespace
