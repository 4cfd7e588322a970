// arena: the one big reservation and the chunk map over it.
//
// Owns: the address range [base, base+size) that all rayalloc memory comes from; a descriptor
// (Span) per slice; the chunk map (slice -> index of its span's first slice); the commit
// bitmap (which slices are committed). All of it is mapped once at start-up from the OS layer.
//
// Invariants:
//  - "Did rayalloc hand this out?" is a range check plus one map load: O(1).
//  - map[i] is non-zero only for the first and last slice of Free/Large spans and for every
//    slice of a Slab; every other entry is 0, which names the dummy descriptor at index 0 (slice
//    0 is never handed out), whose kind is Unused and heap nullptr.
//  - If the requested reservation is refused (valgrind, RLIMIT_AS), smaller ones are tried down
//    to kMinReserve, so rayalloc always starts.
#pragma once
#include "arena/layout.hpp"
#include "arena/span.hpp"

#include <atomic>

namespace ray {

struct Reservation {
  uintptr_t base;
  size_t size;    // bytes of address space managed
  uint32_t *map;  // chunk map: slice -> head slice index
  Span *spans;    // descriptor per slice
  uint64_t *commit_bits;
  size_t slice_total;
};

extern Reservation g_res;

// Maps the reservation; `want` bytes (0: default). Returns false if not even kMinReserve could
// be had. Must not allocate.
bool reservation_init(size_t want);

RAY_INLINE bool in_reservation(const void *p) {
  return uintptr_t(p) - g_res.base < g_res.size;
}
RAY_INLINE size_t slice_index(const void *p) {
  return (uintptr_t(p) - g_res.base) >> kSliceShift;
}
RAY_INLINE Span *span_at_slice(size_t idx) {
  return &g_res.spans[g_res.map[idx]];
}
// The span of a slice another thread may be mapping right now (a neighbour looked at under the
// span-heap lock while its owner maps it outside): a relaxed atomic load, a plain load on x86.
RAY_INLINE Span *span_at_slice_racy(size_t idx) {
  return &g_res.spans[std::atomic_ref<uint32_t>(g_res.map[idx]).load(std::memory_order_relaxed)];
}
// Span of a pointer inside the reservation (the dummy if none).
RAY_INLINE Span *span_of(const void *p) {
  return span_at_slice(slice_index(p));
}
RAY_INLINE size_t span_index(const Span *s) {
  return size_t(s - g_res.spans);
}
RAY_INLINE uintptr_t slice_addr(size_t idx) {
  return g_res.base + (idx << kSliceShift);
}

// Point the map at `s` for its first and last slice (all slices when `every_slice`).
void map_span(Span *s, bool every_slice);
// Clear what map_span(s, every_slice) set.
void unmap_span(Span *s, bool every_slice);

}  // namespace ray
