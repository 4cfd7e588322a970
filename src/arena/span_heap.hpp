// The span heap: hands out runs of slices from the reservation and takes them back.
//
// Owns: free spans (binned by length, coalesced with free neighbours on free; a span that may
// hold committed pages is taken before one that was given back), the bump
// pointer `top` (slices above it were never handed out), commit state (via the commit bitmap)
// and purging: free spans stay committed for reuse, but the oldest are decommitted once the
// cache exceeds its byte limit or they have been free longer than the purge delay.
//
// Invariants: everything is done under one lock (slow paths only: a heap takes a whole slab at
// a time); handed-out spans are fully committed; committed >= in-use always.
#pragma once
#include "arena/reservation.hpp"

namespace ray {

struct SpanHeapConfig {
  size_t cache_bytes = size_t(8) << 20;  // committed free memory kept for reuse, at least
                                         // (up to a quarter of in-use memory is kept)
  uint64_t purge_delay_ms = 100;         // older free memory is given back
};
void span_heap_configure(const SpanHeapConfig &cfg);

// A span of `slices` slices whose start is aligned to `align` (a power of two), committed
// (`commit`) or only reserved (then its `capacity` is 0 committed slices). `zeroed` (optional)
// reports whether every page was fresh. Returns nullptr (errno ENOMEM) when the reservation is
// exhausted or the OS refuses to commit. The descriptor's kind is left to the caller.
Span *span_alloc(size_t slices, size_t align, bool commit, bool *zeroed);
// Return a span. `decommit_now` gives its pages back at once (arenas, trim).
void span_free(Span *s, bool decommit_now);
// The pages of `s` were moved away (mremap) and it reads as zero: free it as uncommitted.
void span_free_moved(Span *s);
// Grow a fully committed `s` in place to `slices` by taking the free slices right after it.
// `tail_zeroed` tells whether the added part reads as zero. The caller re-maps the span.
bool span_try_extend(Span *s, size_t slices, bool *tail_zeroed);
// Give back the slices of a fully committed `s` beyond `slices` (> 0). The caller re-maps it.
// `decommit_now`: the given-back slices are decommitted at once (arenas report them).
void span_shrink(Span *s, size_t slices, bool decommit_now = false);
// Large spans: make exactly the first `slices` slices committed (grows or shrinks the committed
// prefix; shrinking decommits at once). `zeroed` tells whether newly committed pages are fresh.
bool span_set_committed(Span *s, size_t slices, bool *zeroed);
// Slices of a handed-out span that are committed.
inline size_t span_committed_slices(const Span *s) {
  return s->kind == SpanKind::Slab ? s->slice_count : s->capacity;
}
// Decommit free spans: all of them, or only those past the delay / over the cache limit.
void span_purge(bool all);

// Pages given back from inside handed-out spans (sparse slabs). They are counted out of
// `committed` and out of the in-use figure that sizes the cache.
void span_note_interior_decommit(size_t bytes);
void span_note_interior_recommit(size_t bytes);
size_t span_heap_committed();    // bytes committed, in use or cached
size_t span_heap_in_use();       // bytes of spans handed out
size_t span_heap_in_use_peak();  // high-water mark of span_heap_in_use()
// Statistics and the debug leak report: fn(s, ctx) for every span handed out (kind Slab or
// Large; Unused while its taker sets it up), in address order, under the span-heap lock: fn
// must not allocate nor call the span heap.
void span_heap_walk(void (*fn)(Span *s, void *ctx), void *ctx);
size_t span_heap_top();  // slices ever handed out (high-water mark)

void span_heap_fork_prepare();
void span_heap_fork_parent();
void span_heap_fork_child();

}  // namespace ray
