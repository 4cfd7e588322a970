// Process-wide counters for ray_stats, and the engine's few statistics hooks.
//
// What is counted where:
//  - reserved, committed, allocated are computed when asked (support/stats.cpp walks the span
//    descriptors), so they are exact in every variant and cost nothing in between. The one
//    thing a walk cannot see is a block freed by another thread that still waits on its slab's
//    thread_free list: `used` counts it until the owner collects it. So every variant keeps two
//    byte totals, pushed (per freeing thread, a plain add: Heap::remote_pushed_bytes) and
//    collected (subtracted from the collecting thread's same total; here only for threads
//    without a heap), and subtracts the difference.
//  - malloc/free operation counters live per thread heap (plain adds by the owner) and only in
//    the statistics variant (RAY_STATS); a heap's counts move here when its thread exits.
//  - the array face's counters (growth, moves, copies, slack) are kept in every variant, per
//    thread like remote_pushed_bytes: the array calls of several threads never share a line.
#pragma once
#include <atomic>
#include <cstddef>

#include "heap/heap.hpp"

namespace ray {

// The array face's counters, one slot each in Heap::array_counts.
enum ArrayCounter : unsigned {
  kArraysGrownInPlace,
  kArraysMoved,
  kArraysRemapped,
  kBytesCopiedByGrowth,
  kArraySlack,  // bytes; changes by signed amounts (modular sums, read as signed)
  kArrayCounterCount
};
static_assert(kArrayCounterCount == sizeof(Heap::array_counts) / sizeof(size_t));

struct Counters {
  // Array counts of exited threads and of calls from threads without a heap.
  std::atomic<size_t> array_counts[kArrayCounterCount]{};
  std::atomic<size_t> mallocs_dead_threads{0};  // operation counts of exited threads' heaps
  std::atomic<size_t> frees_dead_threads{0};
  std::atomic<size_t> frees_unowned{0};  // malloc blocks freed by threads without a heap
  // Remote frees, in bytes (see above): pushed by exited or heap-less threads, and collected.
  std::atomic<size_t> remote_pushed_dead{0};
  std::atomic<size_t> remote_collected{0};
};
extern Counters g_counters;

inline void count(std::atomic<size_t> &c, size_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

// Add `n` (modular: a negative change is its two's complement) to the calling thread's array
// counter `c`. Only this thread writes it; stats readers load it relaxed.
RAY_INLINE void count_array(ArrayCounter c, size_t n = 1) {
  Heap *me = tls_heap;
  if (RAY_LIKELY(me->kind != HeapKind::Empty))
    __atomic_store_n(&me->array_counts[c], me->array_counts[c] + n, __ATOMIC_RELAXED);
  else
    count(g_counters.array_counts[c], n);
}

// A block of `bytes` is being pushed onto a slab's thread_free list by the calling thread.
RAY_INLINE void stats_remote_pushed(size_t bytes) {
  Heap *me = tls_heap;
  if (RAY_LIKELY(me->kind != HeapKind::Empty)) {
    // Only this thread writes it; stats readers load it relaxed.
    __atomic_store_n(&me->remote_pushed_bytes, me->remote_pushed_bytes + bytes, __ATOMIC_RELAXED);
  } else {
    count(g_counters.remote_pushed_dead, bytes);
  }
}
// The owner took `bytes` of blocks off a thread_free list. Taken off the collecting thread's
// pushed total (wrapping: only the sum over all heaps is meaningful), so the owner's slow path
// does no atomic add on a line every thread shares.
RAY_INLINE void stats_remote_collected(size_t bytes) {
  Heap *me = tls_heap;
  if (RAY_LIKELY(me->kind != HeapKind::Empty)) {
    __atomic_store_n(&me->remote_pushed_bytes, me->remote_pushed_bytes - bytes, __ATOMIC_RELAXED);
  } else {
    count(g_counters.remote_collected, bytes);
  }
}

// Thread exit (heap/thread.cpp): move the counts of its malloc heap to the totals above.
void stats_thread_exit(Heap *malloc_heap);

#ifdef RAY_STATS
// A block is freed by the calling thread other than into its own heap (remote, abandoned or
// large): count it as a free if it belongs to the malloc face (a thread's malloc heap).
void stats_count_free_here(const Span *s);
#endif

}  // namespace ray
