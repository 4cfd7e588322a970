// The lock of the rare global paths (span heap, abandoned list, arenas): spins briefly, then
// sleeps on a futex, so threads waiting behind a holder that is in a system call (madvise)
// do not burn CPU. Never allocates, so it is safe during start-up and in fork handlers.
#pragma once
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace ray {

class SpinLock {
 public:
  void lock() {
    int c = 0;
    for (int i = 0; i < 100; i++) {
      c = 0;
      if (state_.compare_exchange_weak(c, 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      if (c == 2) break;  // others already sleep: join them
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    // 0: free, 1: held, 2: held and someone may sleep on it.
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);
    while (c != 0) {
      syscall(SYS_futex, reinterpret_cast<int *>(&state_), FUTEX_WAIT_PRIVATE, 2, nullptr, nullptr,
              0);
      c = state_.exchange(2, std::memory_order_acquire);
    }
  }
  bool try_lock() {
    int c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2)
      syscall(SYS_futex, reinterpret_cast<int *>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
              0);
  }
  // After fork() in the child: only the forking thread exists, so the lock is free.
  void reset() {
    state_.store(0, std::memory_order_relaxed);
  }

 private:
  std::atomic<int> state_{0};
};
static_assert(sizeof(std::atomic<int>) == sizeof(int));

class LockGuard {
 public:
  explicit LockGuard(SpinLock &l) : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard &) = delete;
  LockGuard &operator=(const LockGuard &) = delete;

 private:
  SpinLock &l_;
};

}  // namespace ray
