// Span: the descriptor of a run of slices. One descriptor exists per slice (in a side array,
// never inside user memory); the one of a span's first slice describes the span.
//
// A span is Free (in the span heap), a Slab (blocks of one size class, owned by one heap) or
// Large (one block). Invariants:
//  - Slab: `used` counts blocks handed out, including ones waiting in `thread_free`;
//    blocks are `start + i*block_size`, i < capacity <= reserved_blocks.
//  - Only the owner heap touches `free`, `local_free`, `used`, `capacity`; other threads only
//    push onto `thread_free` (lock-free) and read `heap`.
//  - `heap` == nullptr for Large spans and for abandoned slabs, so frees of them take the
//    slow path.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ray {

struct Heap;

struct Block;  // slab/block.hpp

enum class SpanKind : uint8_t { Unused = 0, Free, Slab, Large };

enum SpanFlags : uint8_t {
  kSpanArray = 1 << 0,      // slab/large span belongs to the array face
  kSpanZeroed = 1 << 1,     // Large: its pages were fresh (read as zero) when handed out
  kSpanHuge = 1 << 2,       // transparent huge pages were requested
  kSpanGuarded = 1 << 3,    // debug: last page is a guard page
  kSpanInLru = 1 << 4,      // Free: in the span heap's purge list
  kSpanAbandoned = 1 << 5,  // Slab: in the abandoned list (heap/abandon.cpp), under its lock
};

// Three cache lines, so that a cross-thread free and the owner never write a line the other
// needs: the first holds what every free reads (the owner, the geometry that validates a
// pointer), written only when the span changes hands or shape, so another thread's free reads
// it without taking it from the owner; the second is what the owner changes with every
// allocation (its free list and count) and cold list links; the third is the stack other
// threads push onto, which the owner touches only when it takes the stack back.
struct alignas(64) Span {
  // ---- line 1: read by every free; written at set-up and on rare transitions ----
  uint32_t block_size;
  uint32_t reserved_blocks;  // blocks that fit in the slab
  uint64_t block_inverse;    // ceil(2^42 / block_size): division-free interior check
  uintptr_t start;           // address of the first byte
  std::atomic<Heap *> heap;  // owner heap, or nullptr
  uint32_t slice_count;
  SpanKind kind;
  uint8_t size_class;
  // Read by any thread on free paths while the owner (or the abandoned-list lock holder)
  // changes bits: atomic, relaxed (plain moves on x86).
  std::atomic<uint8_t> flags;
  std::atomic<uint8_t> in_full;  // slab is in its heap's full list (remote frees notify)
  struct {
    uint32_t compact_at;        // Slab: the owner compacts when `used` falls to this
    uint32_t decommitted_mask;  // Slab: chunk i (slab_chunk_bytes) given back to the OS
  } slab;
  union {
    size_t large_size;     // Large: bytes handed out (page rounded)
    uint64_t freed_at_ms;  // Free: when it became free (purge delay)
    uint64_t sparse_mark;  // Slab: its heap's sparse event that queued it for compaction
  };
  Heap *owner;  // heap whose span source it came from (for its release)
  // ---- line 2: written by the owner's fast paths ----
  alignas(64) Block *free;     // ready to hand out (owner only)
  std::atomic<uint32_t> used;  // owner writes; stats readers load relaxed
  uint32_t capacity;           // Slab: blocks built into free lists so far.
                               // Large: slices committed (always a prefix of the span).
  Block *local_free;   // owner frees parked off the allocation list (pools); merged by collect
  Span *next, *prev;   // heap bin queue, or span-heap free list
  bool free_unmarked;  // Slab: `free` may hold blocks without a free mark (slab/block.hpp)
  // ---- line 3: written by other threads' frees ----
  // Blocks freed by other threads (a stack, with its length in the top bits: slab.cpp).
  alignas(64) std::atomic<uintptr_t> thread_free;
  Span *lru_next, *lru_prev;  // span heap: dirty free spans, oldest first (arenas: span list)
};
static_assert(sizeof(Span) == 192);

// A span's kind is set by its owner outside the span-heap lock (slab, large) and read by a
// neighbour's free under it (coalescing looks for Free spans, which only change under the
// lock): relaxed atomics, plain byte moves on x86, so neither side sees a torn or racy value.
inline void span_set_kind(Span *s, SpanKind k) {
  std::atomic_ref<SpanKind>(s->kind).store(k, std::memory_order_relaxed);
}
inline SpanKind span_kind_racy(Span *s) {
  return std::atomic_ref<SpanKind>(s->kind).load(std::memory_order_relaxed);
}

// Slabs give pages back in chunks (slab/slab.hpp: compaction): a power of two of at least a
// page, at most 32 per slab.
inline unsigned slab_chunk_shift(const Span *s) {
  unsigned slab_shift = 63u - unsigned(__builtin_clzll((uint64_t(s->slice_count) << 16) - 1)) + 1;
  return slab_shift > 17 ? slab_shift - 5 : 12;
}
inline size_t slab_chunk_bytes(const Span *s) {
  return size_t(1) << slab_chunk_shift(s);
}

}  // namespace ray
