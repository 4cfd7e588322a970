// User arenas (ray_arena_*): regions an application can bound, observe and throw away at once.
//
// Owns: one Heap per purpose (malloc, array) behind one lock (none for RAY_ARENA_SINGLE_THREAD),
// the SpanSource those heaps and the arena's pools get slices from, and the list of every span
// the arena holds. The source wraps the global span heap (span_heap.hpp) and adds:
//  - the limit: the commit budget is taken before committing; beyond it the commit fails
//    (ENOMEM) and the API call that asked runs on_oom(ctx, bytes) and retries, at most
//    kOomRetries times (see below);
//  - on_commit/on_decommit with exact ranges: a span's committed bytes are reported when the
//    arena gets them and when it gives them back. What goes back is decommitted at once
//    (span_free(s, true)), so committed - decommitted == the arena's `committed` <= limit.
//  - the span list, linked through Span::lru_next/lru_prev (the span heap uses those only for
//    free spans; a handed-out span never is one), so reset/destroy run in time proportional to
//    spans, not blocks.
//
// Locks: `lock` guards the heaps (the engine takes it around arena frees; faces take it around
// heap_* calls, see arena_internal.hpp). `acct` guards the span list and the counters: the
// engine also reaches the source without `lock` (large frees and in-place grows from
// free()/realloc()). Both are registered for fork (user_arena_fork.hpp).
//
// on_oom may free memory in this arena, which takes `lock`, and a source call may come with
// that lock held (or not: in-place grows). So the source never calls on_oom: it notes the
// refused commit for the calling thread, and the API call that asked retries once it holds no
// lock (arena_retry_after_oom, arena_internal.hpp): on_oom always runs with no rayalloc lock.
// on_commit/on_decommit run without the span-heap lock but possibly with `lock` held: they may
// use malloc, not this arena.
#pragma once
#include "face/user_arena_fork.hpp"
#include "heap/heap.hpp"
#include "os/os.hpp"
#include "rayalloc.h"

struct ray_arena {
  static constexpr uint32_t kMagic = 0x41524e41;  // "ARNA"
  ray::Heap heaps[2];                             // [kPurposeMalloc], [kPurposeArray]
  ray::SpanSource source;
  ray::SpinLock lock;  // the heaps'
  ray::SpinLock acct;  // span list and counters
  ray::ForkLocks fork_node;
  ray_arena_opts opts;
  bool single_thread;
  uint32_t magic;
  ray::Span *spans;  // every span held, through lru_next/lru_prev
  size_t committed;  // bytes reported by on_commit and not yet by on_decommit
  size_t reserved;   // bytes of address space of the spans held
  size_t peak_allocated;
};

namespace ray {

constexpr int kOomRetries = 8;  // on_oom calls per allocation, at most

// Is `a` a live arena (magic check)? For the EINVAL answers of the API.
inline bool arena_valid(const ray_arena *a) {
  return a && a->magic == ray_arena::kMagic;
}

// Pool slabs may ask for transparent huge pages (pool.cpp); the advice is taken back before the
// span returns to the span heap, so whatever reuses the range later gets normal pages.
inline void span_drop_huge_advice(Span *s) {
  if (s->flags & kSpanHuge) {
    os::advise_huge(reinterpret_cast<void *>(s->start), size_t(s->slice_count) << kSliceShift,
                    false);
    s->flags &= uint8_t(~kSpanHuge);
  }
}

// The same for every span of a list linked through `link`, with one system call per run of
// adjacent spans (a pool's slabs mostly are): throwing away a big pool or arena then costs a
// few calls, not one per slab.
template <Span *Span::*link>
void drop_huge_advice_all(Span *head) {
  uintptr_t lo = 0, hi = 0;
  auto flush = [&] {
    if (hi > lo) os::advise_huge(reinterpret_cast<void *>(lo), hi - lo, false);
  };
  for (Span *s = head; s; s = s->*link) {
    if (!(s->flags & kSpanHuge)) continue;
    s->flags &= uint8_t(~kSpanHuge);
    uintptr_t a = s->start, b = a + (size_t(s->slice_count) << kSliceShift);
    if (a == hi) {
      hi = b;
    } else if (b == lo) {
      lo = a;
    } else {
      flush();
      lo = a;
      hi = b;
    }
  }
  flush();
}

}  // namespace ray
