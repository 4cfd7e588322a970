// Scale: rayalloc manages at least 64 GiB. Allocations totalling 64 GiB of address space are
// handed out without being touched and cost no physical memory (the machine has far less),
// then freed; the address space is reused afterwards.
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

constexpr size_t kTotal = size_t(64) << 30;

// Hands out `total` bytes in blocks of `block` bytes; returns them (empty on failure).
std::vector<char *> hand_out(size_t total, size_t block) {
  std::vector<char *> v;
  v.reserve(total / block);
  for (size_t got = 0; got < total; got += block) {
    char *p = static_cast<char *>(malloc(block));
    if (!p) {
      for (char *q : v) free(q);
      return {};
    }
    v.push_back(p);
  }
  return v;
}

void expect_disjoint(std::vector<char *> v, size_t block) {
  std::sort(v.begin(), v.end());
  for (size_t i = 1; i < v.size(); i++) ASSERT_LE(v[i - 1] + block, v[i]) << "blocks overlap";
}

TEST(Scale, SixtyFourGiBOfUntouchedAllocations) {
  for (size_t block : {size_t(64) << 20, size_t(1) << 30, size_t(8) << 20}) {
    size_t rss_before = core_test::rss_bytes();
    std::vector<char *> v = hand_out(kTotal, block);
    ASSERT_EQ(v.size(), kTotal / block)
        << "could not hand out 64 GiB in blocks of " << (block >> 20) << " MiB";
    size_t rss_during = core_test::rss_bytes();
    for (char *p : v) ASSERT_TRUE(ray_owns(p));
    expect_disjoint(v, block);
    // Touch one byte of each block: it is usable memory.
    for (char *p : v) p[block - 1] = 1;
    size_t rss_touched = core_test::rss_bytes();
    for (char *p : v) free(p);
    size_t rss_after = core_test::rss_bytes();
    // Metadata (descriptors, map) and one page per block may become resident; the 64 GiB
    // must not. 8 MiB blocks: 8192 blocks, so at most ~32 MiB of touched pages + metadata.
    EXPECT_LT(rss_during, rss_before + (size_t(64) << 20))
        << "handing out untouched memory made " << ((rss_during - rss_before) >> 20)
        << " MiB resident";
    EXPECT_LT(rss_touched, rss_before + (size_t(160) << 20));
    EXPECT_LT(rss_after, rss_before + (size_t(160) << 20));
    printf(
        "[ info ] 64 GiB in %zu MiB blocks: RSS %zu -> %zu (handed out) -> %zu (touched) -> "
        "%zu MiB (freed)\n",
        block >> 20, rss_before >> 20, rss_during >> 20, rss_touched >> 20, rss_after >> 20);
  }
}

TEST(Scale, AddressSpaceIsReusedAfterFree) {
  // Four rounds of 64 GiB would need 256 GiB if freed space were not reused.
  for (int round = 0; round < 4; round++) {
    std::vector<char *> v = hand_out(kTotal, size_t(256) << 20);
    ASSERT_EQ(v.size(), kTotal / (size_t(256) << 20)) << "round " << round;
    for (char *p : v) free(p);
  }
}

}  // namespace
