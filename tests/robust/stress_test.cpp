// Stress: 2, 4 and 8 threads share RAYALLOC_STRESS_OPS operations (default 1e7 per thread
// count) of every malloc-family call, with frees on other threads than the allocating one and
// thread churn (each worker slot runs its share in several short-lived threads, and short
// threads are spawned on the side), so blocks routinely outlive the thread that allocated them
// (abandoned slabs, adoption).
//
// Every block is filled with a pattern derived from its id and checked before it is freed,
// reallocated or handed to another thread: lost data, a block handed out twice or an overlap
// shows up as a mismatch. Sizes run from 1 byte to 4 MiB, so slabs, large blocks, in-place
// growth and mremap moves are all on the path.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rayalloc.h"
#include "robust/robust_util.hpp"

namespace {

using robust::Rng;

struct Rec {
  void *p;
  size_t n;
  uint64_t id;
};

struct Mailbox {
  std::mutex m;
  std::vector<Rec> items;
};

class Stress {
 public:
  Stress(int threads, uint64_t ops) : threads_(threads), boxes_(threads) {
    ops_per_gen_ = ops / uint64_t(threads * kGenerations);
  }

  void run() {
    std::vector<std::thread> drivers;
    for (int slot = 0; slot < threads_; slot++)
      drivers.emplace_back([this, slot] {
        // Thread churn: each generation is a new thread; what it leaves in mailboxes is
        // freed by the next generations and the other slots.
        for (int gen = 0; gen < kGenerations; gen++) {
          std::thread t([this, slot, gen] { worker(slot, gen); });
          t.join();
        }
      });
    for (auto &d : drivers) d.join();
    for (auto &b : boxes_) drain(b);
  }

  uint64_t failures() const { return failures_.load(); }
  uint64_t checked() const { return checked_.load(); }
  std::string first_failure() {
    std::lock_guard<std::mutex> g(fail_mu_);
    return first_failure_;
  }

 private:
  static constexpr int kGenerations = 8;
  static constexpr size_t kSlots = 256;

  void fail(const char *what, const Rec &r, size_t at) {
    if (failures_.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> g(fail_mu_);
      char buf[200];
      snprintf(buf, sizeof buf, "%s: block %p size %zu id %llu, byte %zu", what, r.p, r.n,
               (unsigned long long)r.id, at);
      first_failure_ = buf;
    }
  }

  void check(const Rec &r, const char *what) {
    checked_.fetch_add(1, std::memory_order_relaxed);
    size_t bad = robust::first_mismatch(r.p, r.n, r.id);
    if (bad != SIZE_MAX) fail(what, r, bad);
  }

  void release(const Rec &r) {
    check(r, "corrupted before free");
    ray_free(r.p);
  }

  void drain(Mailbox &b) {
    std::vector<Rec> got;
    {
      std::lock_guard<std::mutex> g(b.m);
      got.swap(b.items);
    }
    for (const Rec &r : got) release(r);
  }

  void send(int to, const Rec &r) {
    check(r, "corrupted before hand-off");
    std::lock_guard<std::mutex> g(boxes_[size_t(to)].m);
    boxes_[size_t(to)].items.push_back(r);
  }

  static size_t pick_size(Rng &rng) {
    uint64_t r = rng.below(1000);
    if (r < 700) return 1 + rng.below(256);
    if (r < 900) return 257 + rng.below(8192 - 256);
    if (r < 985) return 8193 + rng.below(131072 - 8192);
    return 131073 + rng.below((size_t(4) << 20) - 131072);
  }

  bool allocate(Rng &rng, Rec *out) {
    size_t n = pick_size(rng);
    uint64_t api = rng.below(100);
    size_t align = 16;
    void *p = nullptr;
    bool zero = false;
    if (api < 60) {
      p = ray_malloc(n);
    } else if (api < 75) {
      size_t count = 1 + rng.below(4);
      n = (n + count - 1) / count * count;
      p = ray_calloc(count, n / count);
      zero = true;
    } else if (api < 85) {
      align = size_t(16) << rng.below(9);  // 16 .. 4096
      p = ray_aligned_alloc(align, n);
    } else if (api < 90) {
      align = size_t(32) << rng.below(8);
      if (ray_posix_memalign(&p, align, n) != 0) p = nullptr;
    } else {
      p = ray_realloc(nullptr, n);
    }
    Rec r{p, n, next_id_.fetch_add(1, std::memory_order_relaxed)};
    if (!p) {
      fail("allocation failed", r, 0);
      return false;
    }
    if (uintptr_t(p) % align) fail("misaligned", r, align);
    if (ray_usable_size(p) < n) fail("usable size below request", r, ray_usable_size(p));
    if (zero && !robust::all_zero(p, n < 4096 ? n : 4096)) fail("calloc not zeroed", r, 0);
    robust::fill(p, n, r.id);
    *out = r;
    return true;
  }

  void reallocate(Rng &rng, Rec *r) {
    check(*r, "corrupted before realloc");
    size_t n = pick_size(rng);
    void *q = ray_realloc(r->p, n);
    if (!q) {
      fail("realloc failed", *r, n);
      return;
    }
    // The common prefix moved with the block; then the block is re-tagged and refilled.
    checked_.fetch_add(1, std::memory_order_relaxed);
    size_t bad = robust::first_mismatch(q, r->n, r->id, n);
    if (bad != SIZE_MAX) fail("realloc lost data", Rec{q, r->n, r->id}, bad);
    *r = Rec{q, n, next_id_.fetch_add(1, std::memory_order_relaxed)};
    robust::fill(q, n, r->id);
  }

  // A thread that lives for a few allocations: its blocks go to other threads' mailboxes.
  void short_thread(int slot, uint64_t seed) {
    std::thread t([this, slot, seed] {
      Rng rng(seed);
      for (int i = 0; i < 64; i++) {
        Rec r;
        if (!allocate(rng, &r)) return;
        if (i % 2)
          release(r);
        else
          send(int(rng.below(uint64_t(threads_))), r);
      }
      (void)slot;
    });
    t.join();
  }

  void worker(int slot, int gen) {
    Rng rng(uint64_t(slot) * 1000003u + uint64_t(gen) * 7919u + 17);
    std::vector<Rec> mine;
    mine.reserve(kSlots);
    for (uint64_t i = 0; i < ops_per_gen_; i++) {
      if (i % 64 == 0) drain(boxes_[size_t(slot)]);
      uint64_t r = rng.below(1000);
      if ((r < 450 || mine.empty()) && mine.size() < kSlots) {
        Rec rec;
        if (allocate(rng, &rec)) mine.push_back(rec);
      } else if (r < 800 || mine.size() >= kSlots) {
        size_t k = rng.below(mine.size());
        release(mine[k]);
        mine[k] = mine.back();
        mine.pop_back();
      } else if (r < 900) {
        reallocate(rng, &mine[rng.below(mine.size())]);
      } else if (r < 999 || threads_ == 1) {
        size_t k = rng.below(mine.size());
        send(int(rng.below(uint64_t(threads_))), mine[k]);
        mine[k] = mine.back();
        mine.pop_back();
      } else {
        short_thread(slot, rng.next());
      }
    }
    // Half of what is left outlives this thread (freed by others); the rest is freed here.
    for (size_t k = 0; k < mine.size(); k++) {
      if (k % 2)
        send(int(rng.below(uint64_t(threads_))), mine[k]);
      else
        release(mine[k]);
    }
  }

  int threads_;
  uint64_t ops_per_gen_;
  std::vector<Mailbox> boxes_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> checked_{0};
  std::mutex fail_mu_;
  std::string first_failure_;
};

class StressThreads : public ::testing::TestWithParam<int> {};

TEST_P(StressThreads, CrossThreadFreesAndChurnKeepEveryByte) {
  uint64_t ops = robust::env_u64("RAYALLOC_STRESS_OPS", 10000000);
  Stress s(GetParam(), ops);
  s.run();
  EXPECT_EQ(s.failures(), 0u) << s.first_failure();
  // Every operation that allocated, reallocated, handed off or freed checked a block.
  EXPECT_GT(s.checked(), ops / 2);
  // The allocator still works after the storm.
  void *p = ray_malloc(100);
  ASSERT_NE(p, nullptr);
  ray_free(p);
}

INSTANTIATE_TEST_SUITE_P(Threads, StressThreads, ::testing::Values(2, 4, 8));

}  // namespace
