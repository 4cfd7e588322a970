// heap: where allocations are served. A thread owns two heaps (one for malloc, one for the
// array face, so the faces never share slabs); each user arena owns one heap behind a lock.
//
// Owns: per size class, a queue of slabs with free blocks (front = current) and a list of full
// slabs; the direct table (size/16 -> current slab) that makes the malloc fast path one lookup.
//
// Invariants:
//  - direct[i] always points to a slab (or the static empty slab) of the class that serves
//    sizes (i-1)*16+1 .. i*16, and is that class's bin front.
//  - A slab is in exactly one of: its class bin, the full list (in_full = 1), the abandoned
//    list (heap = nullptr), or freed back to its span source.
//  - Fast paths take no lock and do no atomic read-modify-write; frees from other threads are
//    pushed onto the slab's thread_free stack and collected by the owner on its slow path.
//  - The owner's frees go straight onto `free` (LIFO); an empty slab that is its class's bin
//    front is kept, any other empty slab goes back to its span source at once.
#pragma once
#include <atomic>
#include <cstring>

#include "arena/reservation.hpp"
#include "debug/asan_poison.hpp"
#include "slab/block.hpp"
#include "slab/size_class.hpp"
#include "support/lock.hpp"

namespace ray {

constexpr unsigned kDirectSlots = kDirectMax / 16 + 1;

// Where a heap gets slices from. The default source is the global span heap (span_heap.hpp
// documents each operation); user arenas interpose their limit, callbacks and bookkeeping.
struct SpanSource {
  Span *(*acquire)(void *ctx, size_t slices, size_t align, bool commit, bool *zeroed);
  // `pages_moved`: the span's pages were moved away by mremap; it reads as zero now.
  void (*release)(void *ctx, Span *s, bool pages_moved);
  bool (*extend)(void *ctx, Span *s, size_t slices, bool *tail_zeroed);
  void (*shrink)(void *ctx, Span *s, size_t slices);
  bool (*set_committed)(void *ctx, Span *s, size_t slices, bool *zeroed);
  void *ctx;
};
extern const SpanSource kGlobalSource;

struct SpanQueue {
  Span *head = nullptr, *tail = nullptr;
};

enum class HeapKind : uint8_t { Empty, Thread, Arena };
enum HeapPurpose : uint8_t { kPurposeMalloc = 0, kPurposeArray = 1 };

struct Heap {
  // What other threads' frees read (the owner's kind, lock, source): written only when the
  // heap is set up, and on a line of its own, which the owner's queue updates never write.
  HeapKind kind;
  HeapPurpose purpose;
  const SpanSource *source;
  SpinLock *lock;  // arenas shared between threads; nullptr otherwise
  void *arena;     // the ray_arena that owns this heap, if any
  alignas(64) Span *direct[kDirectSlots];
  SpanQueue bins[kNumClasses];
  SpanQueue full;
  // Slabs that went sparse, oldest first: one is compacted only once kSparseDelay others have
  // gone sparse after it and it still is (see heap.cpp: note_sparse). Every slab listed here
  // belongs to this heap: one that leaves it (retire, abandon) is taken off first.
  static constexpr unsigned kSparseDelay = 32;
  Span *sparse_queue[kSparseDelay];
  uint64_t sparse_marks[kSparseDelay];
  uint64_t sparse_acquired[kSparseDelay];  // `acquired` when the slab was queued
  uint64_t sparse_events;
  uint64_t acquired;  // spans taken from `source` so far: a heap still growing (see note_sparse)
  // Written by other threads (a remote free into a full slab): on its own cache line, away
  // from the fields the owner and other threads read or the owner writes.
  alignas(64) std::atomic<bool> remote_hint;
  // Operation counters: maintained only in the statistics variant (RAY_STATS).
  alignas(64) size_t n_malloc;
  size_t n_free, n_remote_free, n_large;
  // Bytes this thread pushed onto slabs' thread_free lists (every variant): ray_stats_get
  // subtracts what is still waiting there from `allocated` (support/stats.cpp). What this
  // thread collects off its own slabs is taken off it again (it wraps: only sums mean anything).
  size_t remote_pushed_bytes;
  // The array face's counters for this thread (support/stats.hpp: count_array), in the malloc
  // heap of the thread that made the call, whatever heap the array lives in.
  size_t array_counts[5];

  Heap() = default;
  // The empty heap: constant-initialised so the TLS pointer is valid before any set-up.
  constexpr explicit Heap(Span *empty)
      : kind(HeapKind::Empty),
        purpose(kPurposeMalloc),
        source(nullptr),
        lock(nullptr),
        arena(nullptr),
        direct{},
        sparse_queue{},
        sparse_marks{},
        sparse_acquired{},
        sparse_events(0),
        acquired(0),
        remote_hint(false),
        n_malloc(0),
        n_free(0),
        n_remote_free(0),
        n_large(0),
        remote_pushed_bytes(0),
        array_counts{} {
    for (auto &d : direct) d = empty;
  }
};

// The calling thread's malloc heap; its array heap is the next one. Starts as the empty heap,
// whose direct table leads every call to the slow path, which sets the thread up.
extern __thread Heap *tls_heap;
extern Span g_empty_span;

// ---- slow paths (out of line) ----
void *heap_malloc_slow(Heap *h, size_t n);
void *heap_alloc_class(Heap *h, unsigned c);  // a block of class c (any heap)
void *heap_alloc_large(Heap *h, size_t n, size_t align, bool zero);
void *heap_malloc_aligned(Heap *h, size_t n, size_t align);
void free_slow(void *p);
void free_local_slow(Heap *h, Span *s, Block *b);   // owner frees into a full/retiring slab
void free_local_block(Heap *h, Span *s, Block *b);  // the same, not counted as a free
Heap *thread_heap();                                // the caller's heaps, set up if needed
// Statistics: calls fn(malloc heap, live, ctx) for every thread's heap pair ever set up (live:
// its thread still runs), under the pool lock (fn must not allocate). heap/thread.cpp.
void for_each_thread_heap(void (*fn)(Heap *h, bool live, void *ctx), void *ctx);
void heap_init(Heap *h, HeapKind kind, HeapPurpose purpose, const SpanSource *src);
void heap_adopt(Heap *h, Span *s);     // take over an abandoned slab
void forget_sparse(Heap *h, Span *s);  // `s` leaves `h`: off its sparse queue
// Slab queues (pools keep their own slow path over bins[0] with these).
void queue_remove(SpanQueue &q, Span *s);
void queue_push_front(SpanQueue &q, Span *s);
void move_to_full(Heap *h, Span *s);  // out of its bin into `full` (in_full = 1)
void large_free(Span *s);
// malloc_trim for the owner: empty slabs (current ones too) go back, the rest are compacted.
void heap_trim(Heap *h);
// Allocate n bytes from `h`, taking its lock if it has one.
void *heap_alloc_in(Heap *h, size_t n);
// Large blocks: resize in place (shrink, or extend into the following free slices).
bool large_resize_in_place(Span *s, size_t n);
// Large blocks: move to a new span of n bytes (+ headroom), by mremap when big enough, else by
// copying; frees the old span. Returns the new address or nullptr (old block intact).
void *large_move(Span *s, size_t n, size_t headroom_bytes);
bool engine_ready();
bool engine_init();

// ---- block validation ----
// Is `p` the start of a block of slab `s`? One multiply, no division.
RAY_INLINE bool slab_block_start(const Span *s, const void *p) {
  uintptr_t off = uintptr_t(p) - s->start;
  uint64_t idx = (off * s->block_inverse) >> 42;
  return idx * s->block_size == off && idx < s->reserved_blocks;
}

// ---- fast paths ----
// Pop the first free block of a slab known to have one (no statistics). Pools use this one:
// their blocks may be one word, and carry no free mark.
RAY_INLINE void *slab_take_block(Span *s) {
  Block *b = s->free;
  Block *next = block_next(b);
  if (RAY_UNLIKELY(!block_link_ok(s, next))) return block_pop_corrupt(s, b);
  s->free = next;
  // The next pop reads `next`'s link: start fetching it now, so that a block last written by
  // another core (a remote free) or long ago arrives while the program works in between.
  __builtin_prefetch(next, 1);
  s->used.store(s->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  asan_unpoison(b, s->block_size);
  return b;
}

// The same for a heap's slab: the block is live now, so its free mark goes (slab/block.hpp).
RAY_INLINE void *slab_pop_block(Span *s) {
  void *b = slab_take_block(s);
  block_clear_mark(b);
  return b;
}

RAY_INLINE void *heap_malloc(size_t n) {
  Heap *h = tls_heap;
  Span *s;
  if (RAY_LIKELY(n <= kDirectMax)) {
    s = h->direct[(n + 15) >> 4];  // small: one table lookup, never null
  } else {
    if (n > kSlabMax) return heap_malloc_slow(h, n);
    s = h->bins[size_class_of(n)].head;  // up to 64 KiB: the class's current slab
    if (s == nullptr) return heap_malloc_slow(h, n);
  }
  if (RAY_LIKELY(s->free != nullptr)) {
#ifdef RAY_STATS
    h->n_malloc++;
#endif
    return slab_pop_block(s);
  }
  return heap_malloc_slow(h, n);
}

RAY_INLINE void heap_free(void *p) {
  if (RAY_UNLIKELY(!in_reservation(p))) return free_slow(p);  // NULL or foreign
  Span *s = span_of(p);
  Heap *h = tls_heap;
  if (RAY_LIKELY(s->heap.load(std::memory_order_relaxed) == h && slab_block_start(s, p) &&
                 s->in_full.load(std::memory_order_relaxed) == 0)) {
    // Straight onto the allocation list: the next malloc of this class reuses it, cache-hot.
    Block *b = static_cast<Block *>(p);
    block_set_next(b, s->free);
    block_mark_free(b);
    s->free = b;
    asan_poison_freed_block(b, s->block_size);
    uint32_t used = s->used.load(std::memory_order_relaxed) - 1;
    s->used.store(used, std::memory_order_relaxed);
#ifdef RAY_STATS
    h->n_free++;
#endif
    // A slab that empties goes back, and one that gets sparse gives pages back (slab.hpp),
    // unless it is its class's current one (no give-and-take churn).
    if (RAY_UNLIKELY(used <= s->slab.compact_at) && h->bins[s->size_class].head != s)
      free_local_slow(h, s, nullptr);
    return;
  }
  free_slow(p);
}

// Free a block known to be valid (its start), from any thread; no checks.
void free_block(void *p);

// The array face registers these so free()/ray_usable_size() accept array pointers, which sit
// a header past their block's start. Each returns false/0 if `p` is not an array.
struct ArrayHooks {
  bool (*free)(void *p);
  size_t (*usable_size)(const void *p);
  void (*trim)();  // malloc_trim: heap_trim the calling thread's array heaps
};
extern ArrayHooks g_array_hooks;

// Usable size of a block rayalloc handed out (0 for NULL; reports foreign pointers).
size_t block_usable_size(const void *p);
// realloc semantics on engine blocks (p != NULL, n != 0).
void *heap_realloc(void *p, size_t n);

}  // namespace ray
