// The contract between user arenas (face/user_arena.cpp) and the faces that allocate in them
// (arrays, pools, ray_arena_malloc). The default arena (a NULL ray_arena*) is the calling
// thread's pair of heaps; a user arena owns one heap per purpose behind one lock (no lock for
// RAY_ARENA_SINGLE_THREAD).
#pragma once
#include "heap/heap.hpp"
#include "rayalloc.h"

namespace ray {

// The heap of arena `a` (NULL: the calling thread's heap) for `purpose`. nullptr only if the
// thread's heap cannot be set up (out of memory). Callers take `heap->lock` when it is
// non-null around every heap_* call on it.
Heap *arena_heap(ray_arena *a, HeapPurpose purpose);

// After an allocation in arena `a` failed, with no heap lock held: true if the arena's limit
// (or the OS) refused a commit and on_oom(ctx, bytes) asked to try again; then retry the whole
// allocation. *calls (start at 0) counts on_oom calls, at most 8 per allocation. False (errno
// ENOMEM if the arena refused): give up. `a` NULL (the default arena) is always false.
bool arena_retry_after_oom(ray_arena *a, int *calls);

// Per-arena statistics for ray_stats_get(a, ...). Returns 0, or EINVAL for a bad arena.
int arena_fill_stats(ray_arena *a, ray_stats *out);

// RAII guard for a heap's optional lock.
class HeapLock {
 public:
  explicit HeapLock(Heap *h) : l_(h ? h->lock : nullptr) {
    if (l_) l_->lock();
  }
  ~HeapLock() {
    if (l_) l_->unlock();
  }
  HeapLock(const HeapLock &) = delete;
  HeapLock &operator=(const HeapLock &) = delete;

 private:
  SpinLock *l_;
};

}  // namespace ray
