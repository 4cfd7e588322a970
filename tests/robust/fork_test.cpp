// fork() while other threads allocate, RAYALLOC_FORK_COUNT times (default 1000).
//
// Three background threads allocate, free and trade blocks with each other without pause. The
// main thread forks; each child (under a 10 s alarm, so a deadlock fails instead of hanging):
// frees blocks the parent's threads had allocated (threads that do not exist in the child),
// allocates and frees across every size class and a large block, reallocates, sometimes starts
// a thread of its own, checks every block's pattern, and exits with a status the parent checks.
// What is covered: the atfork handlers leave every global lock usable in the child, and the
// heap state inherited mid-operation from other threads does not break the child.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "rayalloc.h"
#include "robust/robust_util.hpp"

namespace {

using robust::Rng;

// A block in a shared slot: whoever exchanges it out owns it. The id is stored in the block.
constexpr int kShared = 64;
std::atomic<void *> g_shared[kShared];
std::atomic<bool> g_stop{false};
std::atomic<int> g_ready{0};  // background threads past their own set-up

void *tagged_alloc(Rng &rng, uint64_t id) {
  size_t n = 16 + rng.below(rng.below(10) == 0 ? 200000 : 2000);
  auto *p = static_cast<uint64_t *>(ray_malloc(n));
  if (!p) return nullptr;
  p[0] = id;
  p[1] = n;
  robust::fill(p + 2, n - 16, id);
  return p;
}

// 0 if the block is intact (and frees it), else 1.
int check_and_free(void *v) {
  auto *p = static_cast<uint64_t *>(v);
  int bad = robust::first_mismatch(p + 2, p[1] - 16, p[0]) != SIZE_MAX;
  ray_free(p);
  return bad;
}

void background(int seed) {
  Rng rng{uint64_t(seed)};
  uint64_t id = uint64_t(seed) << 40;
  std::vector<void *> own;
  // The vector's memory comes from the system allocator (the sanitizer's, in those builds).
  // Reserved before the first fork: a fork in the middle of the sanitizer's allocator leaves
  // its lock held in the child (libasan of GCC 12 has no fork handler for it), which is not
  // what this test is about. rayalloc's own start-up may still race with the first fork.
  own.reserve(129);
  g_ready.fetch_add(1);
  while (!g_stop.load(std::memory_order_relaxed)) {
    if (own.size() < 128) own.push_back(tagged_alloc(rng, id++));
    size_t k = rng.below(own.size());
    void *p = own[k];
    own[k] = own.back();
    own.pop_back();
    if (!p) continue;
    if (rng.below(2)) {
      // Trade: park ours in a shared slot, free whatever was there (allocated elsewhere).
      void *old = g_shared[rng.below(kShared)].exchange(p);
      if (old) check_and_free(old);
    } else {
      check_and_free(p);
    }
  }
  for (void *p : own)
    if (p) check_and_free(p);
}

// The child's work; returns the exit status.
int child_body(int iteration) {
  alarm(10);
  Rng rng(uint64_t(iteration) + 1);
  int bad = 0;
  // Blocks allocated by threads that do not exist in the child.
  for (auto &slot : g_shared)
    if (void *p = slot.exchange(nullptr)) bad += check_and_free(p);
  std::vector<void *> mine;
  for (int i = 0; i < 200; i++) {
    void *p = tagged_alloc(rng, uint64_t(i));
    if (!p) return 2;
    mine.push_back(p);
  }
  void *big = ray_malloc(size_t(3) << 20);
  if (!big) return 3;
  robust::fill(big, size_t(3) << 20, 99);
  big = ray_realloc(big, size_t(9) << 20);
  if (!big || robust::first_mismatch(big, size_t(3) << 20, 99) != SIZE_MAX) return 4;
  ray_free(big);
  if (iteration % 10 == 0) {
    std::atomic<int> tbad{0};
    std::thread t([&] {
      Rng r2(7);
      for (int i = 0; i < 100; i++) {
        void *p = tagged_alloc(r2, uint64_t(i) + 1000);
        if (!p) {
          tbad++;
          continue;
        }
        tbad += check_and_free(p);
      }
    });
    t.join();
    bad += tbad.load();
  }
  for (void *p : mine) bad += check_and_free(p);
  return bad ? 1 : 0;
}

TEST(Fork, WhileOtherThreadsAllocate) {
  int forks = int(robust::env_u64("RAYALLOC_FORK_COUNT", 1000));
  g_stop = false;
  std::vector<std::thread> threads;
  g_ready = 0;
  for (int i = 0; i < 3; i++) threads.emplace_back(background, i + 1);
  while (g_ready.load() < 3) std::this_thread::yield();
  int failed = 0, first_status = 0;
  for (int i = 0; i < forks; i++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) _exit(child_body(i));
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (failed++ == 0) first_status = status;
    }
  }
  g_stop = true;
  for (auto &t : threads) t.join();
  for (auto &slot : g_shared)
    if (void *p = slot.exchange(nullptr)) EXPECT_EQ(check_and_free(p), 0);
  EXPECT_EQ(failed, 0) << "first failing child: "
                       << (WIFSIGNALED(first_status)
                               ? std::string("signal ") + strsignal(WTERMSIG(first_status))
                               : std::string("exit ") + std::to_string(WEXITSTATUS(first_status)));
}

}  // namespace
