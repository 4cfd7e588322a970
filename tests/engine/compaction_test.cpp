// Slab compaction (src/slab/slab_compact.cpp): sparse slabs give pages back, and every block
// they keep or later hand out again is distinct, intact and usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include <sys/auxv.h>
#include <vector>

#include "arena/span_heap.hpp"
#include "heap/heap.hpp"
#include "slab/block.hpp"
#include "slab/slab.hpp"
#include "slab/size_class.hpp"
#include "support/options.hpp"

namespace {

// Fill a block with a pattern derived from its address and size; check it later.
void stamp(void *p, size_t n) {
  auto *b = static_cast<unsigned char *>(p);
  for (size_t i = 0; i < n; i++) b[i] = static_cast<unsigned char>((uintptr_t(p) >> 4) + i);
}
bool intact(const void *p, size_t n) {
  auto *b = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i] != static_cast<unsigned char>((uintptr_t(p) >> 4) + i)) return false;
  return true;
}

// A teardown: 32 MiB of `size`-byte blocks, stamped, then all but one in `keep_every` freed in
// random order. Records the committed memory before and after the frees.
struct Teardown {
  size_t committed_full = 0, committed_sparse = 0;
  std::vector<void *> survivors;
  size_t returned() const {
    return committed_full > committed_sparse ? committed_full - committed_sparse : 0;
  }
};
Teardown sparse_teardown(size_t size, size_t keep_every, unsigned seed) {
  const size_t count = (32u << 20) / size;
  Teardown t;
  std::vector<void *> blocks(count);
  for (auto &p : blocks) stamp(p = malloc(size), size);
  t.committed_full = ray::span_heap_committed();
  std::mt19937_64 rng(seed);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  for (size_t i = 0; i < count; i++) {
    if (i % keep_every == 0)
      t.survivors.push_back(blocks[i]);
    else
      free(blocks[i]);
  }
  t.committed_sparse = ray::span_heap_committed();
  return t;
}

TEST(Compaction, SparseSlabsGiveMemoryBackAndKeepSurvivorsIntact) {
  for (size_t size : {16, 48, 112, 1000, 3000, 12000}) {
    SCOPED_TRACE(size);
    const size_t total = 32u << 20, count = total / size;
    Teardown t = sparse_teardown(size, 2000, unsigned(size));
    const std::vector<void *> &survivors = t.survivors;
    // A survivor pins at most the 4 KiB chunks its bytes touch (plus one it straddles into);
    // everything else must have gone back, but for a few MiB of cache and the slabs still
    // waiting in the heap's sparse queue (compaction is deferred by kSparseDelay events).
    size_t pinned = survivors.size() * ((size + 4095) / 4096 + 1) * 4096;
    size_t waiting =
        ray::Heap::kSparseDelay * ray::slab_slices(ray::size_class_of(size)) * ray::kSliceSize;
    size_t must_return = total - pinned - (8u << 20) - waiting;
    EXPECT_GE(t.returned(), must_return)
        << "full " << (t.committed_full >> 20) << " MiB, sparse " << (t.committed_sparse >> 20)
        << " MiB, pinned at most " << (pinned >> 20) << " MiB";
    for (void *p : survivors) EXPECT_TRUE(intact(p, size));
    // Allocating again reuses the compacted slabs: every block distinct and usable.
    std::vector<void *> again(count);
    for (auto &p : again) stamp(p = malloc(size), size);
    std::vector<void *> all(again);
    all.insert(all.end(), survivors.begin(), survivors.end());
    std::sort(all.begin(), all.end());
    auto dup = std::adjacent_find(all.begin(), all.end());
    ASSERT_EQ(dup, all.end()) << "block handed out twice: " << *dup;
    for (void *p : survivors) EXPECT_TRUE(intact(p, size));
    for (void *p : again) EXPECT_TRUE(intact(p, size));
    for (void *p : again) free(p);
    for (void *p : survivors) free(p);
  }
}

// A slab compacted while only partly built must not list a block twice once it is extended
// and recommitted (a bug found by the multithreaded torture run).
TEST(Compaction, PartlyBuiltSlabsNeverHandOutABlockTwice) {
  for (int round = 0; round < 50; round++) {
    std::vector<void *> held;
    // Several slabs of one class, each partly built, most blocks freed, a few kept.
    for (int i = 0; i < 3000; i++) held.push_back(malloc(48));
    std::vector<void *> keep;
    for (size_t i = 0; i < held.size(); i++) {
      if (i % 97 == 0)
        keep.push_back(held[i]);
      else
        free(held[i]);
    }
    std::set<void *> seen(keep.begin(), keep.end());
    std::vector<void *> more;
    for (int i = 0; i < 6000; i++) {
      void *p = malloc(48);
      ASSERT_TRUE(seen.insert(p).second) << "round " << round << ": " << p << " twice";
      more.push_back(p);
    }
    for (void *p : more) free(p);
    for (void *p : keep) free(p);
  }
}

// Returns how much committed memory a teardown of 48-byte blocks gave back, one block in 200
// surviving (about 7 per slab, so hardly a slab empties). Survivors must stay intact.
size_t teardown_returns(unsigned seed) {
  Teardown t = sparse_teardown(48, 200, seed);
  for (void *p : t.survivors) EXPECT_TRUE(intact(p, 48));
  for (void *p : t.survivors) free(p);
  return t.returned();
}

// RAYALLOC_COMPACT=0 (read into g_options.compact at start-up; set directly here): the same
// teardown that gives most pages back with compaction keeps them committed without it.
TEST(Compaction, OffKeepsSparseSlabsCommitted) {
  ray::g_options.compact = 0;
  size_t off = teardown_returns(7);
  ray::g_options.compact = 1;
  size_t on = teardown_returns(7);
  RecordProperty("off_kib", int(off >> 10));
  RecordProperty("on_kib", int(on >> 10));
  EXPECT_LT(off, size_t(4) << 20) << "compaction off gave back " << (off >> 20) << " MiB";
  EXPECT_GT(on, size_t(8) << 20) << "compaction on gave back " << (on >> 20) << " MiB";
}

}  // namespace

namespace {

// Compaction finds a slab's free blocks by their free marks (slab/block.hpp) in one pass;
// where it cannot trust them it walks the free list. Both must give memory back and keep
// every live block intact.
ray::CompactCounts since(const ray::CompactCounts &before) {
  ray::CompactCounts now = ray::slab_compact_counts();
  return {now.scanned - before.scanned, now.walked - before.walked};
}

TEST(CompactionScan, FindsTheFreeBlocksOfAnOwnersTeardownByTheirMarks) {
  ray::CompactCounts before = ray::slab_compact_counts();
  size_t returned = teardown_returns(11);
  ray::CompactCounts d = since(before);
  EXPECT_GT(returned, size_t(8) << 20);
  EXPECT_GT(d.scanned, 50u);
  EXPECT_LT(d.walked, d.scanned / 10 + 1) << "scanned " << d.scanned;
}

// A live block whose second word holds its own free mark (data a program cannot produce
// without the secret, forged here through the engine's header) must not pass for free: the
// count disagrees, the slab's list is walked instead, and the block keeps its page.
TEST(CompactionScan, ALiveBlockShowingItsMarkIsNotGivenBack) {
  const size_t size = 48, count = (32u << 20) / size;
  std::vector<void *> blocks(count);
  for (auto &p : blocks) stamp(p = malloc(size), size);
  std::mt19937_64 rng(5);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  std::vector<void *> survivors;
  for (size_t i = 0; i < count; i += 200) {
    survivors.push_back(blocks[i]);
    static_cast<uintptr_t *>(blocks[i])[1] = ray::block_free_mark(blocks[i]);
  }
  ray::CompactCounts before = ray::slab_compact_counts();
  size_t committed_full = ray::span_heap_committed();
  for (size_t i = 0; i < count; i++)
    if (i % 200 != 0) free(blocks[i]);
  ray::CompactCounts d = since(before);
  EXPECT_GT(committed_full - ray::span_heap_committed(), size_t(8) << 20);
  EXPECT_GT(d.walked, 50u) << "scanned " << d.scanned;
  for (void *p : survivors) {
    ASSERT_EQ(static_cast<uintptr_t *>(p)[1], ray::block_free_mark(p)) << p << " lost its page";
    static_cast<uintptr_t *>(p)[1] = 0;
    stamp(p, 16);  // what the forged mark overwrote, so the whole block can be checked
    EXPECT_TRUE(intact(p, size)) << p;
    free(p);
  }
}

// Blocks another thread frees come back unmarked, so a slab that took some in is walked.
TEST(CompactionScan, SlabsThatTookInRemoteFreesAreWalked) {
  const size_t size = 112, count = (16u << 20) / size;
  std::vector<void *> blocks(count);
  for (auto &p : blocks) stamp(p = malloc(size), size);
  std::vector<void *> survivors;
  for (size_t i = 0; i < count; i += 400) survivors.push_back(blocks[i]);
  std::thread other([&] {  // frees all the others, into the slabs' remote stacks
    for (size_t i = 0; i < count; i++)
      if (i % 400 != 0) free(blocks[i]);
  });
  other.join();
  // Allocating again takes the remote stacks in; freeing in random order makes the slabs
  // sparse with those blocks on their lists.
  for (auto &p : blocks) stamp(p = malloc(size), size);
  std::mt19937_64 rng(9);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  ray::CompactCounts before = ray::slab_compact_counts();
  for (void *p : blocks) free(p);
  ray::CompactCounts d = since(before);
  EXPECT_GT(d.walked, 10u) << "scanned " << d.scanned;
  for (void *p : survivors) EXPECT_TRUE(intact(p, size)) << p;
  for (void *p : survivors) free(p);
}

}  // namespace

namespace {

// The free mark's secret is its own: a mark read through a use after free must tell nothing
// about the links' secret, and neither may be the stack protector's canary (AT_RANDOM) in
// disguise, as the links' secret once was.
TEST(CompactionScan, FreeMarksHaveASecretOfTheirOwn) {
  void *p = malloc(64);
  free(p);  // the engine is up
  EXPECT_NE(ray::g_mark_secret, ray::g_block_secret);
  EXPECT_NE(ray::g_mark_secret, 0u);
  uint64_t canary;
  memcpy(&canary, reinterpret_cast<const void *>(getauxval(AT_RANDOM)), sizeof canary);
  EXPECT_NE(ray::g_block_secret, (canary ^ 0x9e3779b97f4a7c15ull) | 1);
  EXPECT_NE(ray::g_mark_secret, canary);
  EXPECT_NE(ray::g_block_secret & ~uintptr_t(1), canary & ~uintptr_t(1));
}

}  // namespace
