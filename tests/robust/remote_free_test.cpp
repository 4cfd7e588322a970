// Cross-thread frees: a block freed by a thread other than its slab's owner waits on the slab's
// remote stack (src/slab/slab.cpp: thread_free, which carries its own length) until the owner
// takes the whole stack back in one exchange, without walking it. These tests check that every
// such block comes back exactly once: reused by its owner, never handed out twice, never lost
// (so no new memory is needed to serve the same demand again), that `allocated` is exact while
// blocks wait and after they are taken back, and that blocks waiting when their owner exits are
// neither lost nor kept: all memory goes back once everything is freed.
//
// Through the ray_ names, so the same source runs on the malloc-replacing library and, in the
// ThreadSanitizer build, on the prefixed one (label "threads").
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "rayalloc.h"
#include "robust/robust_util.hpp"

namespace {

size_t allocated_now() {
  ray_stats s;
  EXPECT_EQ(ray_stats_get(nullptr, &s), 0);
  return s.allocated;
}
size_t committed_now() {
  ray_stats s;
  EXPECT_EQ(ray_stats_get(nullptr, &s), 0);
  return s.committed;
}

// A thread that runs one step at a time when told to, so that its heap stays alive (and owns
// its slabs) between the steps the test thread takes.
class Owner {
 public:
  Owner() {
    run([] {});
  }  // started: its set-up allocations are done before any measurement

  // Runs `step` on the owner thread and waits for it (no allocation here: the test thread
  // measures `allocated` around these calls).
  template <typename F>
  void run(const F &step) {
    arg_ = &step;
    call_ = [](const void *f) { (*static_cast<const F *>(f))(); };
    go_.store(true, std::memory_order_release);
    while (go_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  void stop() {
    quit_.store(true, std::memory_order_release);
    thread_.join();
  }

 private:
  void loop() {
    while (!quit_.load(std::memory_order_acquire)) {
      if (go_.load(std::memory_order_acquire)) {
        call_(arg_);
        go_.store(false, std::memory_order_release);
      } else {
        std::this_thread::yield();
      }
    }
  }
  void (*call_)(const void *) = nullptr;
  const void *arg_ = nullptr;
  std::atomic<bool> go_{false}, quit_{false};
  std::thread thread_{[this] { loop(); }};
};

// Blocks of `size` allocated by the owner, filled with a pattern from their index.
void allocate_all(std::vector<void *> &blocks, size_t size, uint64_t id_base) {
  for (size_t i = 0; i < blocks.size(); i++) {
    blocks[i] = ray_malloc(size);
    ASSERT_NE(blocks[i], nullptr);
    robust::fill(blocks[i], size, id_base + i);
  }
}

size_t damaged(const std::vector<void *> &blocks, size_t size, uint64_t id_base) {
  size_t bad = 0;
  for (size_t i = 0; i < blocks.size(); i++)
    bad += robust::first_mismatch(blocks[i], size, id_base + i) != SIZE_MAX;
  return bad;
}

void *slab_of(void *p) {
  return reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t(0xffff));
}

bool all_distinct(std::vector<void *> v) {
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) == v.end();
}

// Sizes from the smallest class (4096 blocks per slab: the most a remote stack can hold) to
// ones above the direct table.
const size_t kSizes[] = {16, 48, 256, 1024, 4096};

TEST(RemoteFree, BlocksFreedElsewhereComeBackToTheirOwnerExactlyOnce) {
  for (size_t size : kSizes) {
    SCOPED_TRACE(size);
    const size_t n = std::max<size_t>(3 * 65536 / size, 64);  // a few slabs' worth
    std::vector<void *> first(n), again(n), slabs_first(n);
    ray_malloc_trim(0);
    size_t committed_before = committed_now();
    Owner owner;
    size_t before = allocated_now();
    owner.run([&] { allocate_all(first, size, 0); });
    size_t usable = 0;
    for (void *p : first) usable += ray_usable_size(p);
    size_t full = allocated_now();
    EXPECT_EQ(full, before + usable);

    // Freed here, on another thread than the owner: they wait on their slabs' remote stacks,
    // and `allocated` must already leave them out.
    EXPECT_EQ(damaged(first, size, 0), 0u);
    for (void *p : first) ray_free(p);
    EXPECT_EQ(allocated_now(), before);

    // The owner asks for as many again: it takes the stacks back and serves them all from
    // the slabs it already has (a block lost on the way would make it take a new slab), each
    // block once. (These sizes have one-slice slabs: a block's slab is its 64 KiB slice.)
    owner.run([&] { allocate_all(again, size, n); });
    EXPECT_TRUE(all_distinct(again)) << "a block was handed out twice";
    for (size_t i = 0; i < n; i++) slabs_first[i] = slab_of(first[i]);
    std::sort(slabs_first.begin(), slabs_first.end());
    size_t elsewhere = 0;
    for (void *p : again)
      elsewhere += !std::binary_search(slabs_first.begin(), slabs_first.end(), slab_of(p));
    EXPECT_EQ(elsewhere, 0u) << "blocks freed by another thread did not come back to their owner";
    EXPECT_EQ(damaged(again, size, n), 0u);
    EXPECT_EQ(allocated_now(), full);

    // Half freed remotely, half by the owner, interleaved over the same slabs.
    for (size_t i = 0; i < n; i += 2) ray_free(again[i]);
    owner.run([&] {
      for (size_t i = 1; i < n; i += 2) ray_free(again[i]);
    });
    EXPECT_EQ(allocated_now(), before);
    // Its slabs are empty now (each block's count came back exactly): they go back when the
    // owner exits, and trimming returns them to the OS.
    owner.stop();
    ray_malloc_trim(0);
    EXPECT_LE(committed_now(), committed_before + (size_t(128) << 10))
        << "slabs whose blocks were all freed were kept";
  }
}

TEST(RemoteFree, BlocksWaitingWhenTheirOwnerExitsAreNeitherLostNorKept) {
  constexpr size_t kRuntimeSlack = 2048;
  size_t committed_start = 0, allocated_start = allocated_now();
  for (int round = 0; round < 4; round++) {
    for (size_t size : kSizes) {
      SCOPED_TRACE(size);
      const size_t n = std::max<size_t>(4 * 65536 / size, 64);
      std::vector<void *> blocks(n);
      Owner owner;
      owner.run([&] { allocate_all(blocks, size, 7 * n); });
      // Every third block freed remotely while the owner lives: these wait on remote stacks
      // when it exits, and its exit must take them back (or leave them to whoever adopts).
      for (size_t i = 0; i < n; i += 3) ray_free(blocks[i]);
      // Every third one freed by the owner itself, so its slabs have local free blocks too.
      owner.run([&] {
        for (size_t i = 1; i < n; i += 3) ray_free(blocks[i]);
      });
      // Another thread adopts the exited owner's slabs (the first one to run out of blocks
      // does; here the heir is the only one allocating): the blocks freed both ways are all
      // there for it, so it needs no other slab for as many blocks, and none of them is a
      // block still in use.
      std::vector<void *> heirs(n - n / 3), slabs(n);
      for (size_t i = 0; i < n; i++) slabs[i] = slab_of(blocks[i]);
      std::sort(slabs.begin(), slabs.end());
      Owner heir;
      owner.stop();
      heir.run([&] { allocate_all(heirs, size, 9 * n); });
      size_t elsewhere = 0;
      for (void *p : heirs)
        elsewhere += !std::binary_search(slabs.begin(), slabs.end(), slab_of(p));
      EXPECT_EQ(elsewhere, 0u) << "freed blocks were lost when their owner exited";
      // The rest, freed after the owner is gone, must all be intact (not handed out again).
      size_t bad = 0;
      for (size_t i = 2; i < n; i += 3)
        bad += robust::first_mismatch(blocks[i], size, 7 * n + i) != SIZE_MAX;
      EXPECT_EQ(bad, 0u);
      EXPECT_EQ(damaged(heirs, size, 9 * n), 0u);
      for (size_t i = 2; i < n; i += 3) ray_free(blocks[i]);
      heir.run([&] {
        for (void *p : heirs) ray_free(p);
      });
      heir.stop();
    }
    // All freed: `allocated` is back where it started, but for the few blocks the C and C++
    // runtimes keep for the threads started here (a handful per round, not ours to free).
    EXPECT_LE(allocated_now(), allocated_start + kRuntimeSlack * (round + 1));
    ray_malloc_trim(0);
    if (round == 0) committed_start = committed_now();
  }
  // Four rounds of the same traffic: what the first round left committed is all there is
  // (a lost block would pin its slab; a kept one would grow this every round).
  EXPECT_LE(committed_now(), committed_start + (1u << 20));
}

// Many threads pass blocks around a ring, as a server pipeline does: each frees what it is
// handed (blocks of the previous thread, of threads that have exited, or its own coming back),
// checking every byte first, while its own blocks come back to it through the remote stacks.
TEST(RemoteFree, RingOfThreadsNeverLosesOrDuplicatesABlock) {
  constexpr int kThreads = 4, kRounds = 3, kSteps = 20000, kSlots = 256;
  struct Box {
    std::mutex lock;
    std::vector<std::pair<void *, uint64_t>> items;
  };
  std::vector<Box> boxes(kThreads);
  std::atomic<size_t> bad{0};
  auto size_of = [](uint64_t id) { return size_t(16 + (id * 2654435761u) % 1500); };
  size_t after_first_round = 0;
  for (int round = 0; round < kRounds; round++) {  // threads exit between rounds
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t, round] {
        robust::Rng rng(uint64_t(round * kThreads + t + 1));
        std::vector<std::pair<void *, uint64_t>> slots(kSlots, {nullptr, 0}), got;
        uint64_t next_id = (uint64_t(round * kThreads + t) << 32) + 1;
        auto drop = [&](std::pair<void *, uint64_t> b) {
          if (!b.first) return;
          bad += robust::first_mismatch(b.first, size_of(b.second), b.second) != SIZE_MAX;
          ray_free(b.first);
        };
        for (int s = 0; s < kSteps; s++) {
          auto &slot = slots[rng.below(kSlots)];
          drop(slot);
          uint64_t id = next_id++;
          slot = {ray_malloc(size_of(id)), id};
          robust::fill(slot.first, size_of(id), id);
          if (s % 64 == 63) {
            Box &next = boxes[(t + 1) % kThreads];
            {
              std::lock_guard<std::mutex> g(next.lock);
              for (int k = 0; k < 16; k++) {
                auto &give = slots[rng.below(kSlots)];
                if (give.first) next.items.push_back(give);
                give = {nullptr, 0};
              }
            }
            {
              std::lock_guard<std::mutex> g(boxes[t].lock);
              got.swap(boxes[t].items);
            }
            for (auto &b : got) drop(b);
            got.clear();
          }
        }
        for (auto &b : slots) drop(b);
      });
    }
    for (auto &th : threads) th.join();
    // What is still in the mailboxes (blocks of threads that have exited) is freed here.
    {
      std::vector<void *> left;
      for (Box &box : boxes)
        for (auto &b : box.items) left.push_back(b.first);
      EXPECT_TRUE(all_distinct(left)) << "a block was handed out twice";
    }
    for (Box &box : boxes) {
      for (auto &b : box.items) {
        bad += robust::first_mismatch(b.first, size_of(b.second), b.second) != SIZE_MAX;
        ray_free(b.first);
      }
      box.items.clear();
      box.items.shrink_to_fit();
    }
    // Every round frees all it allocates: `allocated` ends where the first round ended (which
    // also holds the C library's one-time allocations for threads).
    if (round == 0)
      after_first_round = allocated_now();
    else
      EXPECT_EQ(allocated_now(), after_first_round) << "round " << round;
  }
  EXPECT_EQ(bad.load(), 0u) << "blocks damaged while their holder owned them";
}

}  // namespace
