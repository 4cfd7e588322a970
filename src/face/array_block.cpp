// The memory behind arrays: placement, growth in place, moves and shrinking. The design note
// and invariants are in array_block.hpp.
#include "face/array_block.hpp"

#include <errno.h>
#include <string.h>

#include "debug/hooks.hpp"
#include "face/arena_internal.hpp"
#include "os/os.hpp"
#include "support/options.hpp"
#include "support/stats.hpp"

namespace ray {
namespace {

// Below this many committed bytes a move copies the live bytes; above it the pages move by
// mremap (a page-table move costs about as much as copying this much).
constexpr size_t kRemapMin = 256 * 1024;
// GROWS arrays reserve at least this much address space (never memory) behind them.
constexpr size_t kGrowsReserve = size_t(1) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

RAY_INLINE size_t align_of(const ArrayHeader *h) {
  return size_t(1) << h->align_shift;
}
RAY_INLINE Span *span_of_array(const ArrayHeader *h) {
  return span_of(block_of(h));
}

// Does an array needing `need` block bytes get a span of its own (else a slab block)?
bool wants_span(unsigned hints, size_t align, size_t need) {
  if (hints & (RAY_HINT_STABLE | RAY_HINT_GROWS)) return true;
  return align > kSlabMax || align_up(need, align) > kSlabMax;
}

// cap of an array whose block offers `bytes` from its start (STABLE: at most max_cap).
size_t cap_from_bytes(size_t bytes, size_t off, size_t elem_size, size_t max_cap) {
  size_t cap = bytes > off ? (bytes - off) / elem_size : 0;
  return cap < max_cap ? cap : max_cap;
}

size_t *stable_slot(const ArrayHeader *h) {
  return static_cast<size_t *>(block_of(h));
}

void init_header(ArrayHeader *h, const ArrayShape &sh, size_t cap) {
  h->check = array_check(data_of(h));
  h->hints = uint8_t(sh.hints);
  h->align_shift = uint8_t(sh.align_shift);
  h->elem_size = uint32_t(sh.elem_size);
  h->slack_len = 0;
  h->cap = cap;
  h->len = 0;
}

// The heap a replacement block for `h` (in span `s`) comes from: its arena's, or the calling
// thread's (the old block may belong to another thread, or to one that exited).
Heap *heap_like(const ArrayHeader *h, const Span *s) {
  Heap *owner = s->owner;
  if (owner != nullptr && owner->kind == HeapKind::Arena) return owner;
  return array_heap(nullptr, h->hints);
}

// ---- slab blocks ----
void *slab_block(Heap *heap, size_t need, size_t align) {
  HeapLock lock(heap);
  return heap_alloc_class(heap, size_class_of(align > kMinAlign ? align_up(need, align) : need));
}

void free_slab_array_block(Span *s, void *block) {
  Heap *owner = s->heap.load(std::memory_order_acquire);
  if (owner != nullptr && is_my_lifetime_heap(owner)) {
    free_local_slow(owner, s, static_cast<Block *>(block));
    return;
  }
  free_block(block);  // the engine's own routing: owner, arena (locked) or remote
}

// ---- large spans ----
// A span for an array: `commit_bytes` committed, `reserve_bytes` (>= commit) of address space.
// Returns the span (kind Large, mapped) or nullptr (errno ENOMEM).
Span *span_new(Heap *heap, unsigned hints, size_t align, size_t commit_bytes, size_t reserve_bytes,
               bool *zeroed) {
  if (reserve_bytes > g_res.size || commit_bytes > g_res.size) {
    errno = ENOMEM;
    return nullptr;
  }
  bool huge = (hints & RAY_HINT_HUGE_PAGES) || (g_options.huge_pages && reserve_bytes >= kHugePage);
  size_t span_align = align > kSliceSize ? align : kSliceSize;
  // Spans of 2 MiB and more start on a 2 MiB boundary: when such an array moves, source and
  // destination are then equally aligned and mremap moves whole page tables (one entry per
  // 2 MiB) instead of every page's entry: 1 GiB moves in well under a millisecond.
  if (reserve_bytes >= kHugePage && span_align < kHugePage) span_align = kHugePage;
  size_t commit = slices_for(commit_bytes), reserve = slices_for(reserve_bytes);
  if (reserve < commit) reserve = commit;
  if (huge) {
    if (span_align < kHugePage) span_align = kHugePage;
    reserve = align_up(reserve, kHugePage >> kSliceShift);
  }
  const SpanSource *src = heap->source;
  Span *s;
  {
    HeapLock lock(heap);
    s = src->acquire(src->ctx, reserve, span_align, reserve == commit, zeroed);
    if (s && reserve != commit && !src->set_committed(src->ctx, s, commit, zeroed)) {
      src->release(src->ctx, s, false);
      s = nullptr;
    }
  }
  if (!s) {
    errno = ENOMEM;
    return nullptr;
  }
  span_set_kind(s, SpanKind::Large);
  s->owner = heap;
  s->block_size = 0;
  s->large_size = size_t(s->capacity) << kSliceShift;
  s->flags = kSpanArray | (*zeroed ? kSpanZeroed : 0);
  if (huge) {
    os::advise_huge(reinterpret_cast<void *>(s->start), size_t(s->slice_count) << kSliceShift,
                    true);
    s->flags |= kSpanHuge;
  }
  map_span(s, false);
  return s;
}

size_t committed_bytes(const Span *s) {
  return size_t(s->capacity) << kSliceShift;
}

// Grow the committed part of a large array's span to hold `want` bytes (at least `min`) from
// its start: first into its reserved tail, then into the free slices after it. On success
// *zero_from is the byte offset (from the span start) from which the memory reads as zero.
bool span_grow_in_place(Span *s, size_t min, size_t want, bool may_extend, size_t *zero_from) {
  const SpanSource *src = s->owner->source;
  size_t min_sl = slices_for(min), want_sl = slices_for(want);
  size_t have = s->capacity, reserved = s->slice_count;
  size_t old_bytes = size_t(have) << kSliceShift;
  bool zeroed = false;
  if (min_sl <= reserved) {
    size_t k = want_sl < reserved ? want_sl : reserved;
    if (!src->set_committed(src->ctx, s, k, &zeroed) &&
        !(k > min_sl && src->set_committed(src->ctx, s, min_sl, &zeroed)))
      return false;
    *zero_from = zeroed ? old_bytes : committed_bytes(s);
  } else {
    if (!may_extend) return false;
    bool tail_zeroed = true;
    if (have < reserved && !src->set_committed(src->ctx, s, reserved, &tail_zeroed)) return false;
    if (!src->extend(src->ctx, s, want_sl, &zeroed) &&
        !(want_sl > min_sl && src->extend(src->ctx, s, min_sl, &zeroed))) {
      if (have < reserved) src->set_committed(src->ctx, s, have, nullptr);  // as it was
      return false;
    }
    map_span(s, false);
    size_t reserved_bytes = reserved << kSliceShift;
    *zero_from = !zeroed ? committed_bytes(s) : tail_zeroed ? old_bytes : reserved_bytes;
  }
  s->large_size = committed_bytes(s);
  return true;
}

// RAY_HINT_ZERO: make [len, cap) read as zero, given that it does from `zero_from` (a byte
// offset from the data) on. Returns the offset from which the array now reads as zero.
size_t zero_tail(ArrayHeader *h, size_t zero_from) {
  if (!(h->hints & RAY_HINT_ZERO)) return zero_from;
  size_t from = h->len * h->elem_size, to = h->cap * h->elem_size;
  if (zero_from < to) to = zero_from;
  if (to > from) memset(static_cast<char *>(data_of(h)) + from, 0, to - from);
  return from;
}

// Debug: [len, cap) is poisoned (not for ZERO arrays, whose unused capacity must read zero).
// Debug variant: fill [len, cap) with the poison pattern. Returns the offset from which the
// data reads as zero afterwards: unchanged in release, nothing once poisoned (callers such as
// ray_array_resize then zero new elements themselves).
size_t poison_unused(ArrayHeader *h, size_t zero_from = ~size_t(0)) {
  if (h->hints & RAY_HINT_ZERO) return zero_from;
  size_t from = live_end(h, h->len);
  debug_poison(static_cast<char *>(data_of(h)) + from * h->elem_size,
               (h->cap - from) * h->elem_size);
#ifdef RAY_DEBUG
  return ~size_t(0);
#else
  return zero_from;
#endif
}

// Debug variant under valgrind: the program holds [data, data + cap * elem_size), of which the
// live elements (all of it with RAY_HINT_ZERO) are defined; poison_unused then makes the unused
// capacity inaccessible, so memcheck reports reads past the length, leaks and use after free.
void announce_live(ArrayHeader *h) {
  size_t es = h->elem_size;
  debug_block_live(data_of(h), h->cap * es, false);
  size_t defined = (h->hints & RAY_HINT_ZERO) ? h->cap : live_end(h, h->len);
  debug_handed_out(data_of(h), defined * es);
}

// A new block for an array of `sh` with room for `cap` elements; `reserve_cap` > cap asks a
// span to keep address space for that many. Returns the header (cap set, len 0, not counted in
// slack) or nullptr. *zero_from: offset from the data from which the block reads as zero.
ArrayHeader *new_block(Heap *heap, const ArrayShape &sh, size_t cap, size_t reserve_cap,
                       size_t *zero_from) {
  size_t off = array_offset(sh.align_shift), align = size_t(1) << sh.align_shift;
  if (cap == 0) cap = 1;  // a block is always bigger than its offset (see array_header.hpp)
  size_t need = off + cap * sh.elem_size;
  size_t max_cap = (sh.hints & RAY_HINT_STABLE) ? sh.max_cap : ~size_t(0);
  if (!wants_span(sh.hints, align, need)) {
    void *block = slab_block(heap, need, align);
    if (!block) {
      errno = ENOMEM;
      return nullptr;
    }
    auto *h = reinterpret_cast<ArrayHeader *>(static_cast<char *>(block) + off - kArrayHeader);
    init_header(h, sh, cap_from_bytes(span_of(block)->block_size, off, sh.elem_size, max_cap));
    *zero_from = h->cap * sh.elem_size;  // slab memory: nothing known
    return h;
  }
  size_t reserve = off + reserve_cap * sh.elem_size;
  if (sh.hints & RAY_HINT_GROWS) {
    if (reserve < kGrowsReserve) reserve = kGrowsReserve;
    if (reserve / 8 < need && need <= g_res.size / 8) reserve = need * 8;
  }
  if (sh.hints & RAY_HINT_STABLE) reserve = off + sh.max_cap * sh.elem_size;
  bool zeroed = false;
  Span *s = span_new(heap, sh.hints, align, need, reserve, &zeroed);
  if (!s) return nullptr;
  auto *h = reinterpret_cast<ArrayHeader *>(s->start + off - kArrayHeader);
  if (sh.hints & RAY_HINT_STABLE) *reinterpret_cast<size_t *>(s->start) = sh.max_cap;
  init_header(h, sh, cap_from_bytes(committed_bytes(s), off, sh.elem_size, max_cap));
  *zero_from = zeroed ? 0 : h->cap * sh.elem_size;
  return h;
}

// The copying move, shared by move_array and move_in_own_slabs: `h`'s header and live bytes go
// into `n` (which keeps its cap and gets its own tag), the old block is marked dead (debug:
// poisoned, so stale pointers into it get caught) and untagged, and the move is counted. The
// caller frees the old block. Returns the bytes copied.
size_t copy_live(ArrayHeader *n, ArrayHeader *h) {
  size_t es = h->elem_size, cap = n->cap;
  size_t live = live_end(h, h->len) * es;  // a terminator at [len] moves with the elements
  memcpy(n, h, kArrayHeader + live);
  n->cap = cap;
  n->check = array_check(data_of(n));
  debug_block_dead(data_of(h));  // after the copy: memcheck sees the old block freed
  debug_poison(data_of(h), h->cap * es);
  h->check = 0;
  count_array(kArraysMoved);
  count_array(kBytesCopiedByGrowth, live);
  return live;
}

// Move `h` to a new block with room for want_cap (at least min_cap) elements. Copies the
// header and the live bytes only, or moves the committed pages by mremap.
Grown move_array(ArrayHeader *h, Span *old, size_t min_cap, size_t want_cap) {
  Heap *heap = heap_like(h, old);
  if (!heap) return {nullptr, 0};
  ArrayShape sh{h->elem_size, h->align_shift, h->hints, 0};
  size_t off = array_offset(h->align_shift), es = h->elem_size;
  void *old_block = block_of(h);
  bool old_large = old->kind == SpanKind::Large;
  // A large array that moves keeps room to double again in place (address space only).
  size_t reserve_cap = want_cap <= (~size_t(0) >> 1) / es ? want_cap * 2 : want_cap;
  size_t zero_from;
  ArrayHeader *n = new_block(heap, sh, want_cap, reserve_cap, &zero_from);
  if (!n && want_cap > min_cap) n = new_block(heap, sh, min_cap, min_cap, &zero_from);
  if (!n) return {nullptr, 0};
  void *new_block_start = block_of(n);
  Span *to = span_of(new_block_start);
  size_t cap = n->cap;
  size_t old_bytes = old_large ? committed_bytes(old) : 0;
  bool remapped = old_large && to->kind == SpanKind::Large && old_bytes >= kRemapMin &&
                  committed_bytes(to) >= old_bytes &&
                  os::move_pages(old_block, new_block_start, old_bytes);
  if (remapped) {
    debug_block_dead(data_of(h));
    // The header and every committed page came along; the old range reads as zero again.
    n->check = array_check(data_of(n));
    n->cap = cap;
    if (zero_from < old_bytes - off) zero_from = old_bytes - off;
    old->owner->source->release(old->owner->source->ctx, old, true);
    count_array(kArraysRemapped);
  } else {
    size_t live = copy_live(n, h);
    if (zero_from < live) zero_from = live;
    if (old_large)
      large_free(old);
    else
      free_slab_array_block(old, old_block);
  }
  announce_live(n);
  zero_from = poison_unused(n, zero_tail(n, zero_from));
  return {n, zero_from};
}

// The common move, off move_array's general path: an array placed by default (16-byte
// alignment, no hint that chooses its heap or memory) in a slab of the calling thread's own
// array heap moves to a bigger slab block of that heap. {nullptr, 0} when that is not the
// case, or the heap has no memory: move_array then decides. Release variants only (the debug
// variant's hooks live in move_array). A string built by appends moves about 7 times; with
// this path ray_array_reserve takes a third fewer instructions (callgrind, 1e6 appends into
// 1e4 strings as in bench/face/strings.cpp: 44.6M -> 29.7M).
RAY_INLINE Grown move_in_own_slabs(ArrayHeader *h, Span *old, size_t want_cap) {
#ifdef RAY_DEBUG
  (void)h, (void)old, (void)want_cap;
  return {nullptr, 0};
#else
  constexpr unsigned kPlacing = RAY_HINT_ZERO | RAY_HINT_GROWS | RAY_HINT_STABLE |
                                RAY_HINT_SHORT_LIVED | RAY_HINT_LONG_LIVED | RAY_HINT_HUGE_PAGES;
  Heap *me = tls_heap;
  if ((h->hints & kPlacing) || h->align_shift != 4 || me->kind != HeapKind::Thread ||
      old->heap.load(std::memory_order_relaxed) != me + 1)
    return {nullptr, 0};
  size_t es = h->elem_size;
  if (want_cap > (kSlabMax - kArrayHeader) / es) return {nullptr, 0};
  auto *n = static_cast<ArrayHeader *>(
      heap_alloc_class(me + 1, size_class_of(kArrayHeader + want_cap * es)));
  if (n == nullptr) return {nullptr, 0};
  n->cap = (span_of(n)->block_size - kArrayHeader) / es;
  copy_live(n, h);
  asan_poison_freed_block(h, old->block_size);
  free_local_slow(me + 1, old, reinterpret_cast<Block *>(h));
  return {n, n->cap * es};
#endif
}

}  // namespace

Heap *array_heap(ray_arena *arena, unsigned hints) {
  if (arena == nullptr) {
    unsigned life = hints & (RAY_HINT_SHORT_LIVED | RAY_HINT_LONG_LIVED);
    if (life == RAY_HINT_SHORT_LIVED || life == RAY_HINT_LONG_LIVED) {
      if (Heap *h = lifetime_heap(life == RAY_HINT_LONG_LIVED)) return h;
    }
  }
  Heap *h = arena_heap(arena, kPurposeArray);
  if (!h) errno = ENOMEM;
  return h;
}

Heap *array_heap_like(const ArrayHeader *h) {
  return heap_like(h, span_of_array(h));
}

size_t array_max_cap(const ArrayHeader *h) {
  return (h->hints & RAY_HINT_STABLE) ? *stable_slot(h) : ~size_t(0);
}

ArrayHeader *array_block_new(Heap *heap, const ArrayShape &sh, size_t cap) {
  size_t zero_from;
  ArrayHeader *h = new_block(heap, sh, cap, cap, &zero_from);
  if (!h) return nullptr;
  zero_tail(h, zero_from);
  announce_live(h);
  poison_unused(h);
  return h;
}

void array_block_free(ArrayHeader *h) {
  debug_block_dead(data_of(h));
  void *block = block_of(h);
  Span *s = span_of(block);
  h->check = 0;
  if (s->kind == SpanKind::Large)
    large_free(s);
  else
    free_slab_array_block(s, block);
}

Grown array_block_grow(ArrayHeader *h, size_t min_cap, size_t want_cap, bool may_move) {
  size_t es = h->elem_size, off = array_offset(h->align_shift);
  size_t limit = (g_res.size - off) / es;  // more cannot exist in the reservation
  size_t max_cap = array_max_cap(h);
  if (max_cap < limit) limit = max_cap;
  if (min_cap > limit) {
    errno = ENOMEM;
    return {nullptr, 0};
  }
  if (want_cap > limit) want_cap = limit;
  if (want_cap < min_cap) want_cap = min_cap;
  Span *s = span_of_array(h);
  if (s->kind == SpanKind::Large) {
    size_t zero_from;
    bool stable = h->hints & RAY_HINT_STABLE;
    if (span_grow_in_place(s, off + min_cap * es, off + want_cap * es, !stable, &zero_from)) {
      h->cap = cap_from_bytes(committed_bytes(s), off, es, max_cap);
      count_array(kArraysGrownInPlace);
      debug_block_dead(data_of(h));
      announce_live(h);
      zero_from = poison_unused(h, zero_tail(h, zero_from - off));
      return {h, zero_from};
    }
    if (stable) {
      errno = ENOMEM;
      return {nullptr, 0};
    }
  }
  if (!may_move) {
    errno = ENOMEM;
    return {nullptr, 0};
  }
  if (s->kind == SpanKind::Slab) {
    Grown g = move_in_own_slabs(h, s, want_cap);
    if (g.h) return g;
  }
  return move_array(h, s, min_cap, want_cap);
}

ArrayHeader *array_block_shrink(ArrayHeader *h, size_t keep_cap) {
  size_t es = h->elem_size, off = array_offset(h->align_shift), align = align_of(h);
  size_t keep_len = (h->hints & kHintTerminated) ? h->len + 1 : h->len;
  if (keep_cap < keep_len) keep_cap = keep_len;
  if (keep_cap == 0) keep_cap = 1;  // a block is always bigger than its offset
  size_t need = off + keep_cap * es;
  void *block = block_of(h);
  Span *s = span_of(block);
  if (s->kind == SpanKind::Slab) {
    if (size_class_of(align > kMinAlign ? align_up(need, align) : need) >= s->size_class ||
        s->size_class == 0)
      return h;
  } else if (wants_span(h->hints, align, need)) {
    // Stays a span: give back the committed slices it no longer needs.
    size_t k = slices_for(need);
    if (k >= s->capacity) return h;
    const SpanSource *src = s->owner->source;
    if (s->capacity == s->slice_count && !(h->hints & RAY_HINT_STABLE)) {
      src->shrink(src->ctx, s, k);
      map_span(s, false);
    } else if (!src->set_committed(src->ctx, s, k, nullptr)) {
      return h;
    }
    s->large_size = committed_bytes(s);
    h->cap = cap_from_bytes(committed_bytes(s), off, es, array_max_cap(h));
    debug_block_dead(data_of(h));
    announce_live(h);
    poison_unused(h);
    return h;
  }
  // A smaller slab block: copy the header and the live bytes.
  Heap *heap = heap_like(h, s);
  if (!heap) return h;
  ArrayShape sh{es, h->align_shift, h->hints, 0};
  size_t zero_from;
  ArrayHeader *n = new_block(heap, sh, keep_cap, keep_cap, &zero_from);
  if (!n) return h;
  size_t cap = n->cap;
  memcpy(n, h, kArrayHeader + keep_len * es);
  n->check = array_check(data_of(n));
  n->cap = cap;
  zero_tail(n, ~size_t(0));  // a slab block: nothing is known to be zero
  debug_poison(data_of(h), h->cap * es);
  array_block_free(h);
  announce_live(n);
  poison_unused(n);
  return n;
}

}  // namespace ray
