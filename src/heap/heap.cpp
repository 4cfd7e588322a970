// Heap slow paths: finding a slab with free blocks, full-slab bookkeeping, retiring empty
// slabs, and frees that are not the owner's fast path. The design note is in heap.hpp.
#include "heap/heap.hpp"

#include <errno.h>

#include "arena/span_heap.hpp"
#include "heap/abandon.hpp"
#include "slab/slab.hpp"
#include "support/error.hpp"
#include "support/options.hpp"
#include "support/stats.hpp"
#include "debug/hooks.hpp"

namespace ray {

Span g_empty_span;  // free == nullptr forever: every direct slot of an empty heap lands here

static Span *global_acquire(void *, size_t slices, size_t align, bool commit, bool *zeroed) {
  return span_alloc(slices, align, commit, zeroed);
}
static void global_release(void *, Span *s, bool moved) {
  if (moved)
    span_free_moved(s);
  else
    span_free(s, false);
}
static bool global_extend(void *, Span *s, size_t slices, bool *tail_zeroed) {
  return span_try_extend(s, slices, tail_zeroed);
}
static void global_shrink(void *, Span *s, size_t slices) {
  span_shrink(s, slices);
}
static bool global_set_committed(void *, Span *s, size_t slices, bool *zeroed) {
  return span_set_committed(s, slices, zeroed);
}
const SpanSource kGlobalSource = {global_acquire, global_release,       global_extend,
                                  global_shrink,  global_set_committed, nullptr};

// ---- queues ----
void queue_remove(SpanQueue &q, Span *s) {
  (s->prev ? s->prev->next : q.head) = s->next;
  (s->next ? s->next->prev : q.tail) = s->prev;
  s->next = s->prev = nullptr;
}
void queue_push_front(SpanQueue &q, Span *s) {
  s->prev = nullptr;
  s->next = q.head;
  (q.head ? q.head->prev : q.tail) = s;
  q.head = s;
}
static void queue_push_back(SpanQueue &q, Span *s) {
  s->next = nullptr;
  s->prev = q.tail;
  (q.tail ? q.tail->next : q.head) = s;
  q.tail = s;
}

// Keep direct[] pointing at the front slab of class c.
static void update_direct(Heap *h, unsigned c) {
  if (c == 0 || class_size(c) > kDirectMax) return;  // class 0: custom-size (pool) slabs
  Span *front = h->bins[c].head ? h->bins[c].head : &g_empty_span;
  size_t lo = c == 1 ? 0 : class_size(c - 1) / 16 + 1;
  size_t hi = class_size(c) / 16;
  for (size_t i = lo; i <= hi; i++) h->direct[i] = front;
}

void heap_init(Heap *h, HeapKind kind, HeapPurpose purpose, const SpanSource *src) {
  for (auto &d : h->direct) d = &g_empty_span;
  for (auto &b : h->bins) b = SpanQueue{};
  h->full = SpanQueue{};
  h->remote_hint.store(false, std::memory_order_relaxed);
  // A recycled thread-heap record gets the same identity again, while another thread's free of
  // a large block its last owner left may be reading it (heap_like, owner->source): write
  // only what changes, so that reader never races a store.
  if (h->kind != kind) h->kind = kind;
  if (h->purpose != purpose) h->purpose = purpose;
  if (h->source != src) h->source = src;
  if (h->lock != nullptr) h->lock = nullptr;
  if (h->arena != nullptr) h->arena = nullptr;
  for (auto &q : h->sparse_queue) q = nullptr;
  h->sparse_events = 0;
  h->acquired = 0;
  h->n_malloc = h->n_free = h->n_remote_free = h->n_large = 0;
  h->remote_pushed_bytes = 0;
  for (size_t &c : h->array_counts) c = 0;
}

// Pop a block of a slab known to have one.

void move_to_full(Heap *h, Span *s) {
  unsigned c = s->size_class;
  bool was_front = h->bins[c].head == s;
  queue_remove(h->bins[c], s);
  queue_push_back(h->full, s);
  s->in_full.store(1, std::memory_order_seq_cst);
  // A remote free may have raced with the flag: make sure the rescue pass looks.
  if (s->thread_free.load(std::memory_order_seq_cst) != 0)
    h->remote_hint.store(true, std::memory_order_relaxed);
  if (was_front) update_direct(h, c);
}

static void move_from_full(Heap *h, Span *s) {
  queue_remove(h->full, s);
  s->in_full.store(0, std::memory_order_relaxed);
  unsigned c = s->size_class;
  queue_push_back(h->bins[c], s);
  if (h->bins[c].head == s) update_direct(h, c);
}

// Full slabs that other threads freed into go back to their bins.
static void rescue_full(Heap *h) {
  for (Span *s = h->full.head; s;) {
    Span *next = s->next;
    if (s->thread_free.load(std::memory_order_acquire) != 0) move_from_full(h, s);
    s = next;
  }
}

// Take `s` off the heap's sparse queue (it is leaving the heap).
void forget_sparse(Heap *h, Span *s) {
  for (auto &q : h->sparse_queue)
    if (q == s) q = nullptr;
}

// An empty slab of `h`'s bin for its class leaves the heap for the source.
static void release_empty(Heap *h, Span *s) {
  queue_remove(h->bins[s->size_class], s);
  forget_sparse(h, s);
  s->heap.store(nullptr, std::memory_order_relaxed);
  h->source->release(h->source->ctx, s, false);
}

// A slab nobody uses goes back to the source, unless it is its class's current slab (keeping
// it avoids handing a slab back and forth when a program cycles around one boundary).
static void retire(Heap *h, Span *s) {
  if (h->bins[s->size_class].head == s) return;
  release_empty(h, s);
}

static RAY_NOINLINE void *alloc_class_slow(Heap *h, unsigned c) {
  for (int pass = 0; pass < 2; pass++) {
    for (Span *s = h->bins[c].head; s;) {
      Span *next = s->next;
      if (!s->free) slab_collect(s);  // a slab with blocks left keeps its remote ones for later
      if (!s->free) slab_extend(s);
      if (!s->free) slab_recommit(s);
      if (s->free) {
        if (h->bins[c].head != s) {
          queue_remove(h->bins[c], s);
          queue_push_front(h->bins[c], s);
          update_direct(h, c);
        }
        return slab_pop_block(s);
      }
      move_to_full(h, s);
      s = next;
    }
    if (!h->remote_hint.exchange(false, std::memory_order_acquire)) break;
    rescue_full(h);
  }
  if (Span *s = reclaim_abandoned(h, c)) return slab_pop_block(s);
  Span *s = h->source->acquire(h->source->ctx, slab_slices(c), kSliceSize, true, nullptr);
  h->acquired++;
  if (!s) {
    errno = ENOMEM;
    return nullptr;
  }
  slab_init(s, c, h);
  slab_extend(s);
  queue_push_front(h->bins[c], s);
  update_direct(h, c);
  return slab_pop_block(s);
}

void *heap_alloc_class(Heap *h, unsigned c) {
  Span *s = h->bins[c].head;
#ifdef RAY_STATS
  // The malloc family's slow-path and aligned allocations (its fast path counts in heap.hpp).
  void *p = RAY_LIKELY(s && s->free) ? slab_pop_block(s) : alloc_class_slow(h, c);
  if (p && h->kind == HeapKind::Thread && h->purpose == kPurposeMalloc) h->n_malloc++;
#ifdef RAY_DEBUG
  if (p) debug_handed_out(p, class_size(c));  // valgrind: whatever its last owner marked
#endif
  return p;
#else
  if (RAY_LIKELY(s && s->free)) return slab_pop_block(s);
  return alloc_class_slow(h, c);
#endif
}

// Put a slab that abandon/reclaim handed over into this heap's lists.
void heap_adopt(Heap *h, Span *s) {
  slab_collect(s);
  if (s->used.load(std::memory_order_relaxed) == 0) {
    s->heap.store(nullptr, std::memory_order_relaxed);
    h->source->release(h->source->ctx, s, false);
    return;
  }
  s->in_full.store(0, std::memory_order_relaxed);
  queue_push_back(h->bins[s->size_class], s);
  if (h->bins[s->size_class].head == s) update_direct(h, s->size_class);
}

void *heap_malloc_slow(Heap *h, size_t n) {
  if (h->kind == HeapKind::Empty) {
    h = thread_heap();
    if (!h) {
      errno = ENOMEM;
      return nullptr;
    }
  }
  if (n <= kSlabMax) return heap_alloc_class(h, size_class_of(n));
  return heap_alloc_large(h, n, kMinAlign, false);
}

void *heap_malloc_aligned(Heap *h, size_t n, size_t align) {
  if (h->kind == HeapKind::Empty) {
    h = thread_heap();
    if (!h) {
      errno = ENOMEM;
      return nullptr;
    }
  }
  if (align <= kMinAlign)
    return n <= kSlabMax ? heap_alloc_class(h, size_class_of(n))
                         : heap_alloc_large(h, n, kMinAlign, false);
  if (align > kMaxAlign) {
    errno = EINVAL;
    return nullptr;
  }
  // A class whose size is a multiple of `align` yields `align`-aligned blocks (size_class.hpp).
  if (align <= kSlabMax && n <= kSlabMax && align_up(n, align) <= kSlabMax)
    return heap_alloc_class(h, size_class_of(n == 0 ? align : align_up(n, align)));
  return heap_alloc_large(h, n, align, false);
}

// Spans taken while a slab waits that mean "still growing": any. A program whose blocks move up
// through the size classes takes many while it grows fast (growing strings: about 15 per 32
// sparse events) and a few while it slows down; with a threshold of 4 the slow part still
// compacted slabs whose pages it then faulted in afresh (a realloc-grown string table: 1748
// compactions, 149K faults and 0.71 s, against none, 138K and 0.66 s). A teardown takes none,
// or one now and then (a vector of survivors doubling): the slabs waiting then are re-armed
// and compacted on their next free, which a teardown brings (bench frag: 133 re-armed of
// 30210, the same RSS after teardown).
constexpr uint64_t kGrowthSpans = 1;

// Is `q`, queued with `mark`, still this heap's, still sparse and not its class's current slab?
static bool still_sparse(Heap *h, Span *q, uint64_t mark) {
  if (!q || q->sparse_mark != mark || h->bins[q->size_class].head == q ||
      q->in_full.load(std::memory_order_relaxed))
    return false;
  return q->used.load(std::memory_order_relaxed) <= 2 * q->slab.compact_at + 1;
}

// `s` went sparse. Compacting gives pages back but costs page faults if the slab fills again,
// and is wasted if it is about to empty: so it waits in a FIFO until kSparseDelay other slabs
// of this heap have gone sparse after it, and is compacted then only if still_sparse. A
// program cycling through a few slabs never compacts; a teardown (thousands of slabs going
// sparse) compacts all but the last few.
// Nor while the heap grows (kGrowthSpans taken while the slab waited): the pages compaction
// would give back are about to be asked for again (a program whose blocks move up through the
// size classes, as growing strings and vectors do, frees small blocks as fast as it needs
// bigger ones). Such a slab is re-armed, so its next free queues it again and a later
// teardown still compacts it.
// RAYALLOC_COMPACT=0 turns compaction off: for programs that soon refill what they free
// (bench `frag` runs 0.80 s -> 0.67 s, but keeps 239 MiB instead of 66 MiB after teardown).
static void note_sparse(Heap *h, Span *s) {
  if (h->kind != HeapKind::Thread) return;  // arenas give memory back whole (reset, destroy)
  if (!g_options.compact) return;
  uint64_t event = ++h->sparse_events;
  unsigned at = unsigned(event % Heap::kSparseDelay);
  Span *old = h->sparse_queue[at];
  uint64_t old_mark = h->sparse_marks[at];
  bool grew = h->acquired - h->sparse_acquired[at] >= kGrowthSpans;
  s->sparse_mark = event;
  h->sparse_queue[at] = s;
  h->sparse_marks[at] = event;
  h->sparse_acquired[at] = h->acquired;
  // `old` is still this heap's (forget_sparse); the mark tells whether it was re-queued since.
  if (old == s || !still_sparse(h, old, old_mark)) return;
  if (grew) {  // re-armed: its next free queues it again
    uint32_t used = old->used.load(std::memory_order_relaxed);
    old->slab.compact_at = used ? used - 1 : 0;
    return;
  }
  // The next few due (among the next 8 in the queue) are compacted with it, a few events
  // early, so that the walks of their free lists overlap.
  Span *batch[kCompactBatch] = {old};
  unsigned k = 1;
  for (unsigned d = 1; d <= 2 * kCompactBatch && k < kCompactBatch; d++) {
    unsigned j = (at + d) % Heap::kSparseDelay;
    Span *q = h->sparse_queue[j];
    if (q == s || q == old || !still_sparse(h, q, h->sparse_marks[j])) continue;
    if (h->acquired - h->sparse_acquired[j] >= kGrowthSpans) break;  // growing: keep order
    batch[k++] = q;
    h->sparse_queue[j] = nullptr;
  }
  slab_compact_batch(batch, k);
}

// malloc_trim, for the calling thread's heap: whatever it holds but does not use goes back.
// A slab with no live block goes to the source, its class's current one too (kept otherwise,
// see retire); the others are compacted (the pages no live block touches are given back).
// Only the owner may do this: another thread's current slabs stay with it until it allocates,
// frees into them or exits.
void heap_trim(Heap *h) {
  if (h->kind != HeapKind::Thread) return;
  rescue_full(h);  // full slabs other threads freed into: their blocks may all be free now
  for (unsigned c = 1; c < kNumClasses; c++) {
    if (!h->bins[c].head) continue;
    Span *batch[kCompactBatch];
    unsigned k = 0;
    for (Span *s = h->bins[c].head; s;) {
      Span *next = s->next;
      slab_collect(s);
      uint32_t used = s->used.load(std::memory_order_relaxed);
      if (used == 0) {
        release_empty(h, s);  // its class's current one too, unlike retire
      } else if (g_options.compact && used < s->capacity) {
        batch[k++] = s;
        if (k == kCompactBatch) {
          slab_compact_batch(batch, k);
          k = 0;
        }
      }
      s = next;
    }
    if (k) slab_compact_batch(batch, k);
    update_direct(h, c);
  }
}

// The owner frees into one of its slabs that is full, or whose last block just came back.
void free_local_slow(Heap *h, Span *s, Block *b) {
  if (b) {
#ifdef RAY_STATS
    h->n_free++;
#endif
    return free_local_block(h, s, b);
  }
  if (s->in_full.load(std::memory_order_relaxed)) move_from_full(h, s);
  uint32_t used = s->used.load(std::memory_order_relaxed);
  if (used == 0) {
    retire(h, s);
  } else if (used <= s->slab.compact_at && h->bins[s->size_class].head != s) {
    s->slab.compact_at = used / 2;  // the next threshold
    note_sparse(h, s);
  }
}

void free_local_block(Heap *h, Span *s, Block *b) {
  block_set_next(b, s->free);
  block_mark_free_in(s, b);  // pool objects freed by free() come here too
  s->free = b;
  s->used.store(s->used.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  free_local_slow(h, s, nullptr);
}

static void free_slab_block(Span *s, void *p) {
  asan_poison_freed_block(p, s->block_size);
  Block *b = static_cast<Block *>(p);
  Heap *owner = s->heap.load(std::memory_order_acquire);
  Heap *me = tls_heap;
  if (owner != nullptr && (owner == me || (me->kind == HeapKind::Thread && owner == me + 1))) {
    free_local_slow(owner, s, b);
  } else if (owner != nullptr && owner->kind == HeapKind::Arena) {
    // Arena heaps are shared under their lock (or used by one thread at a time).
    if (owner->lock) owner->lock->lock();
    free_local_slow(owner, s, b);
    if (owner->lock) owner->lock->unlock();
  } else if (owner == nullptr && abandoned_free(s, b)) {
    // its thread exited: freed in place, and an emptied slab goes back at once
#ifdef RAY_STATS
    stats_count_free_here(s);
#endif
  } else {
#ifdef RAY_STATS
    stats_count_free_here(s);
#endif
    slab_remote_free(s, b);
  }
}

void free_block(void *p) {
  Span *s = span_of(p);
  if (s->kind == SpanKind::Slab)
    free_slab_block(s, p);
  else
    large_free(s);
}

ArrayHooks g_array_hooks;

void free_slow(void *p) {
  if (p == nullptr) return;
  if (!in_reservation(p)) {
    report_error(EINVAL, "free: pointer was not allocated by rayalloc", p);
    return;
  }
  Span *s = span_of(p);
  if (s->kind == SpanKind::Slab && slab_block_start(s, p)) {
    free_slab_block(s, p);
  } else if (s->kind == SpanKind::Large && uintptr_t(p) == s->start) {
    large_free(s);
  } else if ((s->flags & kSpanArray) && g_array_hooks.free && g_array_hooks.free(p)) {
    // an array's data pointer (its header precedes it)
  } else if (s->kind == SpanKind::Slab) {
    report_error(EINVAL, "free: pointer into the middle of a block", p);
  } else {
    report_error(EINVAL, "free: pointer is not an allocated block (invalid or double free)", p);
  }
}

}  // namespace ray
