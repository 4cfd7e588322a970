// ASan build only (RAYALLOC_SANITIZE=address): rayalloc poisons the blocks it takes back
// (src/debug/asan_poison.hpp), so a use after free of a rayalloc block is an ASan report, and
// the blocks it hands out again are fully usable (no false report).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "rayalloc.h"

namespace {

// Through a volatile pointer, so the access is not optimised away.
int touch(void *p, size_t at) {
  return static_cast<volatile char *>(p)[at];
}

TEST(AsanPoison, UseAfterFreeOfASmallBlockIsReported) {
  char *p = static_cast<char *>(ray_malloc(100));
  ASSERT_NE(p, nullptr);
  ray_free(p);
  EXPECT_DEATH(touch(p, 50), "use-after-poison");
}

TEST(AsanPoison, UseAfterFreeOfALargeBlockIsReported) {
  char *p = static_cast<char *>(ray_malloc(size_t(1) << 20));
  ASSERT_NE(p, nullptr);
  ray_free(p);
  EXPECT_DEATH(touch(p, 4096), "use-after-poison");
}

TEST(AsanPoison, RemoteFreeIsPoisonedToo) {
  char *p = static_cast<char *>(ray_malloc(200));
  ASSERT_NE(p, nullptr);
  std::thread([p] { ray_free(p); }).join();
  EXPECT_DEATH(touch(p, 100), "use-after-poison");
}

TEST(AsanPoison, ReusedBlocksAreWhollyUsable) {
  // Free and reallocate every size class and a few large sizes: each block handed out again
  // must be writable over its whole usable size.
  for (int round = 0; round < 3; round++) {
    std::vector<void *> blocks;
    for (size_t n = 1; n <= (size_t(2) << 20); n = n * 5 / 4 + 1) {
      void *p = ray_malloc(n);
      ASSERT_NE(p, nullptr);
      memset(p, round, ray_usable_size(p));
      blocks.push_back(p);
    }
    for (void *p : blocks) ray_free(p);
  }
  void *a = ray_calloc(1, 5000), *b = ray_realloc(ray_malloc(10), 70000);
  ASSERT_TRUE(a && b);
  memset(b, 1, ray_usable_size(b));
  ray_free(a);
  ray_free(b);
}

}  // namespace
