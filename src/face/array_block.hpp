// The memory behind arrays: which heap an array comes from, the block (slab block or span) that
// holds its header and elements, and every way that block changes size.
//
// Owns: placement (slab block up to kSlabMax; a large span above it, or from the start for
// GROWS / STABLE arrays; spans of 2 MiB or more, and HUGE_PAGES ones, on 2 MiB boundaries),
// growth in place (a large span commits more of its reserved tail, or takes the free slices
// after it), moves (mremap of the committed pages when they are >= kRemapMin, else a copy of
// the header and the live len * elem_size bytes only), shrinking, and the growth counters.
//
// Invariants:
//  - A large array span has kind Large, flags kSpanArray, owner = the heap whose source gave it,
//    block start = span start; its committed prefix (`capacity` slices) bounds `cap`, and
//    large_size = committed bytes. Its reserved tail (slice_count - capacity) is address space
//    kept for growth in place (GROWS / STABLE arrays, and arrays that moved once).
//  - STABLE arrays never move: their span reserves max_cap elements up front.
//  - Nothing here reads or writes elements beyond len, except zeroing for RAY_HINT_ZERO.
//  - On failure every function leaves the array as it was (errno set).
#pragma once
#include "face/array_header.hpp"
#include "heap/heap.hpp"

namespace ray {

// What the array will be, before it has a header.
struct ArrayShape {
  size_t elem_size;
  unsigned align_shift;
  unsigned hints;
  size_t max_cap;  // STABLE only
};

// The heap new arrays of `arena` with these hints come from (nullptr: ENOMEM/EINVAL set).
Heap *array_heap(ray_arena *arena, unsigned hints);
// The heap a replacement block for `h` comes from: its arena's, or the calling thread's.
Heap *array_heap_like(const ArrayHeader *h);

// A new array of `shape` with room for at least `cap` elements (len 0, slack counted, zeroed
// when the hints ask for it). nullptr with errno on failure.
ArrayHeader *array_block_new(Heap *heap, const ArrayShape &shape, size_t cap);
// Give the array's block back (from any thread). The header must be valid.
void array_block_free(ArrayHeader *h);

// Result of a growth: the (possibly moved) header, and from which byte offset (from the data
// pointer) the memory is known to read as zero (fresh pages), so callers zero only the rest.
struct Grown {
  ArrayHeader *h;
  size_t zero_from;
};
// Make cap >= min_cap, aiming at `want_cap` (>= min_cap). With `may_move` false only in-place
// growth is tried. h == nullptr with errno (ENOMEM) on failure; the array is then unchanged.
Grown array_block_grow(ArrayHeader *h, size_t min_cap, size_t want_cap, bool may_move);
// Lower cap towards max(len, keep_cap) elements, giving memory back; may move. Never fails
// (keeps the old block if a smaller one cannot be had).
ArrayHeader *array_block_shrink(ArrayHeader *h, size_t keep_cap);
// The most elements a STABLE array may hold (SIZE_MAX for other arrays).
size_t array_max_cap(const ArrayHeader *h);

// ---- lifetime-segregated heaps (array_lifetime.cpp) ----
// The calling thread's heap for SHORT_LIVED (`long_lived` false) or LONG_LIVED arrays.
Heap *lifetime_heap(bool long_lived);
// Is `h` one of the calling thread's lifetime heaps (so its frees may go straight in)?
bool is_my_lifetime_heap(const Heap *h);
// malloc_trim: heap_trim the calling thread's lifetime heaps, if it has them.
void lifetime_heaps_trim();

}  // namespace ray
