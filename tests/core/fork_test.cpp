// fork() while other threads allocate: the child must find every allocator lock free, be able
// to allocate (also from new threads), free blocks the parent's threads allocated, and exit
// cleanly. A child that deadlocks is killed by its own alarm and fails the test.
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

using core_test::check_pattern;
using core_test::fill_pattern;

std::atomic<bool> g_stop;

// Allocation churn across small, mid and large sizes, so forks land while threads hold the
// span heap lock, the abandoned-list lock and the thread-heap pool lock.
void churn(int id) {
  std::vector<void *> live(64, nullptr);
  uint32_t x = uint32_t(id) * 7919 + 1;
  while (!g_stop.load(std::memory_order_relaxed)) {
    x = x * 1103515245u + 12345u;
    size_t slot = (x >> 8) % live.size();
    free(live[slot]);
    size_t n = (x >> 20) % 8 == 0 ? 65536 + (x >> 4) % 300000 : 1 + (x >> 12) % 3000;
    live[slot] = malloc(n);
    if (live[slot]) memset(live[slot], int(id), n < 64 ? n : 64);
    if ((x & 1023) == 0) {
      std::thread t([] { free(malloc(200)); });  // thread creation/exit races with fork too
      t.join();
    }
  }
  for (void *p : live) free(p);
}

// What the child does: everything must work, then exit(0). Any failure exits non-zero.
[[noreturn]] void child_body(const std::vector<void *> &inherited, size_t inherited_size) {
  alarm(20);  // a deadlock ends the child with SIGALRM instead of hanging the test
  for (size_t i = 0; i < inherited.size(); i++) {
    if (check_pattern(inherited[i], inherited_size, uint32_t(i)) != inherited_size) _exit(2);
    free(inherited[i]);  // blocks of the parent's (now absent) threads
  }
  std::vector<void *> mine;
  for (size_t n = 1; n < (size_t(4) << 20); n = n * 3 + 1) {
    void *p = malloc(n);
    if (!p || !ray_owns(p)) _exit(3);
    fill_pattern(p, n, uint32_t(n));
    mine.push_back(p);
  }
  void *aligned = aligned_alloc(4096, 10000);
  if (!aligned || uintptr_t(aligned) % 4096) _exit(4);
  free(aligned);
  std::thread t([] {
    void *p = malloc(1000);
    void *q = realloc(p, 500000);
    free(q);
  });
  t.join();
  for (size_t i = 0, n = 1; i < mine.size(); i++, n = n * 3 + 1) {
    if (check_pattern(mine[i], n, uint32_t(n)) != n) _exit(5);
    free(mine[i]);
  }
  exit(0);
}

TEST(Fork, ForkInALoopWhileThreadsAllocate) {
  g_stop = false;
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; i++) workers.emplace_back(churn, i);
  const int kForks = 60;
  const size_t kInheritedSize = 200;
  int clean = 0;
  for (int f = 0; f < kForks; f++) {
    // Blocks allocated by a worker-like thread, inherited by the child.
    std::vector<void *> inherited(100);
    std::thread maker([&] {
      for (size_t i = 0; i < inherited.size(); i++) {
        inherited[i] = malloc(kInheritedSize);
        fill_pattern(inherited[i], kInheritedSize, uint32_t(i));
      }
    });
    maker.join();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) child_body(inherited, kInheritedSize);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      clean++;
    } else {
      ADD_FAILURE() << "fork " << f << ": child "
                    << (WIFSIGNALED(status) ? "killed by signal " : "exited with ")
                    << (WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    for (void *p : inherited) free(p);
  }
  g_stop = true;
  for (auto &t : workers) t.join();
  EXPECT_EQ(clean, kForks);
}

// A child of a child: the atfork handlers leave the allocator reusable across generations.
TEST(Fork, NestedForks) {
  void *p = malloc(1000);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    free(p);
    pid_t inner = fork();
    if (inner == 0) {
      void *q = malloc(300000);
      free(q);
      _exit(0);
    }
    int st = 0;
    waitpid(inner, &st, 0);
    _exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  free(p);
}

}  // namespace
