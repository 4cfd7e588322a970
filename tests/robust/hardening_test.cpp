// Hardened free lists (src/slab/block.hpp, RAYALLOC_HARDENED=ON, the default): a use after
// free that overwrites a freed block's link is detected at the next pop and reported to the
// error handler (EFAULT), and the allocator never hands out the address the write forged.
// With plain links (RAYALLOC_HARDENED=OFF) these tests fail: the forged address comes back.
#include <errno.h>
#include <gtest/gtest.h>
#include <stdint.h>

#include <atomic>
#include <thread>
#include <vector>

#include "rayalloc.h"

namespace {

std::atomic<int> g_reports{0};
int g_last_err;
void record(int err, const char *, void *, void *) {
  g_last_err = err;
  g_reports++;
}

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    g_reports = 0;
    ray_set_error_handler(record, nullptr);
  }
  void TearDown() override { ray_set_error_handler(nullptr, nullptr); }
};

// Frees a block of `size`, overwrites its first word with `forged` (the use after free), then
// allocates `size` blocks: returns them, so the caller can check none is the forged address.
std::vector<void *> corrupt_and_allocate(size_t size, uintptr_t forged) {
  std::vector<void *> warm;
  for (int i = 0; i < 8; i++) warm.push_back(ray_malloc(size));
  void *victim = ray_malloc(size);
  for (void *p : warm) ray_free(p);
  ray_free(victim);  // the head of its slab's free list
  *static_cast<volatile uintptr_t *>(victim) = forged;
  std::vector<void *> got;
  for (int i = 0; i < 16; i++) got.push_back(ray_malloc(size));
  return got;
}

TEST_F(Hardening, ForgedLinkToTheStackIsReportedNotFollowed) {
  alignas(64) static char target[4096];
  auto got = corrupt_and_allocate(720, uintptr_t(target));
  EXPECT_GE(g_reports.load(), 1) << "a corrupted free list was followed silently";
  EXPECT_EQ(g_last_err, EFAULT);
  for (void *p : got) {
    EXPECT_NE(p, nullptr);
    EXPECT_NE(p, static_cast<void *>(target)) << "malloc returned the forged address";
  }
  g_reports = 0;
  for (void *p : got) ray_free(p);
  EXPECT_EQ(g_reports.load(), 0) << "the blocks handed out after the report are real blocks";
}

TEST_F(Hardening, ZeroedOrSmallGarbageLinksAreReportedToo) {
  for (uintptr_t forged : {uintptr_t(0), uintptr_t(1), uintptr_t(0x4141414141414141)}) {
    g_reports = 0;
    auto got = corrupt_and_allocate(1008, forged);
    EXPECT_GE(g_reports.load(), 1) << "forged link " << forged;
    for (void *p : got) {
      EXPECT_NE(reinterpret_cast<uintptr_t>(p), forged);
      ray_free(p);
    }
  }
}

TEST_F(Hardening, NormalUseAcrossThreadsNeverReports) {
  // The check must not fire on correct programs: remote frees, list merges, reuse.
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++)
    ts.emplace_back([t] {
      std::vector<void *> mine;
      for (int i = 0; i < 20000; i++) {
        mine.push_back(ray_malloc(size_t(16 + (i * 7 + t) % 900)));
        if (mine.size() > 300) {
          for (size_t k = 0; k < mine.size(); k += 2) ray_free(mine[k]);
          std::vector<void *> rest;
          for (size_t k = 1; k < mine.size(); k += 2) rest.push_back(mine[k]);
          mine.swap(rest);
        }
      }
      for (void *p : mine) ray_free(p);
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(g_reports.load(), 0);
}

}  // namespace
