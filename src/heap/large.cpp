// Large blocks (> kSlabMax): one span each, page-granular. realloc grows them in place by
// taking the free slices that follow, or moves their pages with mremap, never copying bytes
// above kRemapMin.
#include <errno.h>
#include <string.h>

#include "arena/span_heap.hpp"
#include "heap/heap.hpp"
#include "os/os.hpp"
#include "support/error.hpp"
#include "support/options.hpp"

namespace ray {

constexpr size_t kRemapMin = 256 * 1024;

static Heap *source_heap(Span *s) { return s->owner; }

void *heap_alloc_large(Heap *h, size_t n, size_t align, bool zero) {
  if (n > g_res.size || align > kMaxAlign) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t bytes = align_up(n == 0 ? 1 : n, kPage);
  bool zeroed = false;
  Span *s = h->source->acquire(h->source->ctx, slices_for(bytes),
                               align > kSliceSize ? align : kSliceSize, &zeroed);
  if (!s) {
    errno = ENOMEM;
    return nullptr;
  }
  s->kind = SpanKind::Large;
  s->large_size = bytes;
  s->owner = h;
  s->block_size = 0;
  s->flags = zeroed ? kSpanZeroed : 0;
  if (g_options.huge_pages && bytes >= (size_t(2) << 20)) {
    os::advise_huge(reinterpret_cast<void *>(s->start), size_t(s->slice_count) << kSliceShift,
                    true);
    s->flags |= kSpanHuge;
  }
  map_span(s, false);
#ifdef RAY_STATS
  h->n_large++;
#endif
  void *p = reinterpret_cast<void *>(s->start);
  if (zero && !zeroed) memset(p, 0, n);
  return p;
}

void large_free(Span *s) {
  Heap *o = source_heap(s);
  if (o && o->kind == HeapKind::Arena) {
    o->source->release(o->source->ctx, s);
    return;
  }
  span_free(s, false);
}

size_t block_usable_size(const void *p) {
  if (p == nullptr) return 0;
  if (!in_reservation(p)) {
    report_error(EINVAL, "usable_size: pointer was not allocated by rayalloc", p);
    return 0;
  }
  Span *s = span_of(p);
  if (s->kind == SpanKind::Slab && slab_block_start(s, p)) return s->block_size;
  if (s->kind == SpanKind::Large && uintptr_t(p) == s->start) return s->large_size;
  report_error(EINVAL, "usable_size: pointer is not an allocated block", p);
  return 0;
}

// Allocate from the same kind of heap the block came from (its arena, or this thread).
static void *alloc_like(Span *s, size_t n) {
  Heap *o = s->owner;
  if (o && o->kind == HeapKind::Arena) {
    if (o->lock) o->lock->lock();
    void *q = n <= kSlabMax ? heap_alloc_class(o, size_class_of(n)) : heap_alloc_large(o, n, 0, false);
    if (o->lock) o->lock->unlock();
    return q;
  }
  Heap *h = thread_heap();
  if (!h) return nullptr;
  if (o && o->purpose == kPurposeArray) h = h + 1;
  return n <= kSlabMax ? heap_alloc_class(h, size_class_of(n)) : heap_alloc_large(h, n, 0, false);
}

static void *large_realloc(Span *s, void *p, size_t n) {
  size_t bytes = align_up(n, kPage);
  size_t want = slices_for(bytes);
  bool arena_owned = s->owner && s->owner->kind == HeapKind::Arena;
  if (n > kSlabMax / 2 && want <= s->slice_count) {
    if (!arena_owned && want < s->slice_count / 2) {
      span_shrink(s, want);
      map_span(s, false);
    }
    s->large_size = bytes;
    return p;
  }
  if (n > kSlabMax && !arena_owned && span_try_extend(s, want, nullptr)) {
    map_span(s, false);
    s->large_size = bytes;
    return p;
  }
  size_t old = s->large_size;
  if (n > kSlabMax && !arena_owned && old >= kRemapMin) {
    // Leave headroom so a block grown in small steps moves O(log n) times, not O(n).
    size_t grown = bytes + bytes / 2;
    Heap *h = thread_heap();
    void *q = h ? heap_alloc_large(h, grown, 0, false) : nullptr;
    if (!q) q = h ? heap_alloc_large(h, bytes, 0, false) : nullptr;
    if (!q) return nullptr;
    Span *t = span_of(q);
    t->large_size = bytes;
    size_t move = size_t(s->slice_count) << kSliceShift;
    if (os::move_pages(p, q, move)) {
      span_free_moved(s);
      return q;
    }
    memcpy(q, p, old);
    large_free(s);
    return q;
  }
  void *q = alloc_like(s, n);
  if (!q) return nullptr;
  memcpy(q, p, old < n ? old : n);
  large_free(s);
  return q;
}

void *heap_realloc(void *p, size_t n) {
  if (!in_reservation(p)) {
    report_error(EINVAL, "realloc: pointer was not allocated by rayalloc", p);
    errno = EINVAL;
    return nullptr;
  }
  Span *s = span_of(p);
  if (s->kind == SpanKind::Slab && slab_block_start(s, p)) {
    size_t bs = s->block_size;
    if (n <= bs && (n >= bs / 2 || bs <= 128)) return p;
    void *q = alloc_like(s, n);
    if (!q) return nullptr;
    memcpy(q, p, bs < n ? bs : n);
    heap_free(p);
    return q;
  }
  if (s->kind == SpanKind::Large && uintptr_t(p) == s->start) return large_realloc(s, p, n);
  report_error(EINVAL, "realloc: pointer is not an allocated block", p);
  errno = EINVAL;
  return nullptr;
}

}  // namespace ray
