// Records that live for the whole process (per-thread heap records): carved from the OS layer
// a chunk at a time and recycled through a free list, never through malloc (they are needed
// while malloc itself is being set up). T needs a `T *next_free` member.
//
// The caller holds `lock` around take_locked/give_locked; it is also the lock to take in fork
// handlers and to guard any other list the caller keeps of its records.
#pragma once
#include <new>

#include "arena/layout.hpp"
#include "os/os.hpp"
#include "support/lock.hpp"

namespace ray {

template <class T>
class RecordPool {
 public:
  SpinLock lock;

  // A recycled record, or a new value-initialised one (*fresh = true); nullptr if the OS
  // refuses memory.
  T *take_locked(bool *fresh) {
    if (T *t = free_) {
      free_ = t->next_free;
      *fresh = false;
      return t;
    }
    size_t sz = align_up(sizeof(T), 64);
    if (bump_ == nullptr || bump_ + sz > end_) {
      constexpr size_t kChunk = 256 * 1024;
      char *m = static_cast<char *>(os::reserve(kChunk, kPage));
      if (!m) return nullptr;
      bump_ = m;
      end_ = m + kChunk;
    }
    void *mem = bump_;
    bump_ += sz;
    *fresh = true;
    return new (mem) T();
  }
  void give_locked(T *t) {
    t->next_free = free_;
    free_ = t;
  }
  T *take() {
    LockGuard g(lock);
    bool fresh;
    return take_locked(&fresh);
  }
  void give(T *t) {
    LockGuard g(lock);
    give_locked(t);
  }

 private:
  T *free_ = nullptr;
  char *bump_ = nullptr, *end_ = nullptr;
};

}  // namespace ray
