// Large blocks (> kSlabMax): one span each, page-granular. realloc grows them in place by
// taking the free slices that follow, or moves their pages with mremap; bytes are copied only
// below kRemapMin. Every span operation goes through the owning heap's SpanSource, so blocks
// of user arenas obey the arena's limit and callbacks.
#include <errno.h>
#include <string.h>

#include "heap/heap.hpp"
#include "os/os.hpp"
#include "support/error.hpp"
#include "support/options.hpp"
#include "support/stats.hpp"

namespace ray {

constexpr size_t kRemapMin = 256 * 1024;

void *heap_alloc_large(Heap *h, size_t n, size_t align, bool zero) {
  if (n > g_res.size || align > kMaxAlign) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t bytes = align_up(n == 0 ? 1 : n, kPage);
  bool zeroed = false;
  Span *s = h->source->acquire(h->source->ctx, slices_for(bytes),
                               align > kSliceSize ? align : kSliceSize, true, &zeroed);
  h->acquired++;
  if (!s) {
    errno = ENOMEM;
    return nullptr;
  }
  span_set_kind(s, SpanKind::Large);
  s->large_size = bytes;
  s->owner = h;
  s->block_size = 0;
  s->flags = zeroed ? kSpanZeroed : 0;
  if (h->purpose == kPurposeArray) s->flags |= kSpanArray;
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
  asan_poison(reinterpret_cast<void *>(s->start), s->large_size);
#ifdef RAY_STATS
  stats_count_free_here(s);
#endif
  const SpanSource *src = s->owner ? s->owner->source : &kGlobalSource;
  src->release(src->ctx, s, false);
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
  if ((s->flags & kSpanArray) && g_array_hooks.usable_size) {
    if (size_t n = g_array_hooks.usable_size(p)) return n;
  }
  report_error(EINVAL, "usable_size: pointer is not an allocated block", p);
  return 0;
}

// The heap a block's replacement comes from: its arena's (locked by the caller), or this
// thread's heap of the same purpose.
static Heap *heap_like(Span *s) {
  Heap *o = s->owner;
  if (o && o->kind == HeapKind::Arena) return o;
  Heap *h = thread_heap();
  if (h && o && o->purpose == kPurposeArray) h = h + 1;
  return h;
}

void *heap_alloc_in(Heap *h, size_t n) {
  if (h->lock) h->lock->lock();
  void *q =
      n <= kSlabMax ? heap_alloc_class(h, size_class_of(n)) : heap_alloc_large(h, n, 0, false);
  if (h->lock) h->lock->unlock();
  return q;
}

bool large_resize_in_place(Span *s, size_t n) {
  if (n > g_res.size) return false;  // also keeps align_up below from wrapping to 0
  const SpanSource *src = s->owner->source;
  size_t bytes = align_up(n, kPage);
  size_t want = slices_for(bytes);
  if (want <= s->slice_count) {
    if (want < s->slice_count / 2) {
      src->shrink(src->ctx, s, want);
      map_span(s, false);
    }
    s->large_size = bytes;
    return true;
  }
  if (!src->extend(src->ctx, s, want, nullptr)) return false;
  map_span(s, false);
  s->large_size = bytes;
  return true;
}

void *large_move(Span *s, size_t n, size_t headroom_bytes) {
  if (n > g_res.size) {  // align_up would wrap: a tiny block and an overflowing copy
    errno = ENOMEM;
    return nullptr;
  }
  Heap *h = heap_like(s);
  if (!h) return nullptr;
  size_t bytes = align_up(n, kPage);
  size_t old = s->large_size;
  void *p = reinterpret_cast<void *>(s->start);
  void *q = nullptr;
  if (h->lock) h->lock->lock();
  if (headroom_bytes) q = heap_alloc_large(h, bytes + headroom_bytes, 0, false);
  if (!q) q = heap_alloc_large(h, bytes, 0, false);
  if (h->lock) h->lock->unlock();
  if (!q) return nullptr;
  Span *t = span_of(q);
  t->large_size = bytes;
  bool fresh = t->flags & kSpanZeroed;
  t->flags |= s->flags & (kSpanArray | kSpanHuge);
  // Remap only onto fresh address space. Pages that are still resident (a cached free span)
  // are cheaper to copy into than to throw away: mremap would discard them and leave the
  // source empty, and both ranges would fault again when next used.
  if (old >= kRemapMin && fresh && os::move_pages(p, q, size_t(s->capacity) << kSliceShift)) {
#ifdef RAY_STATS
    stats_count_free_here(s);
#endif
    s->owner->source->release(s->owner->source->ctx, s, true);
    return q;
  }
  memcpy(q, p, old < n ? old : n);
  large_free(s);
  return q;
}

static void *large_realloc(Span *s, void *p, size_t n) {
  if (n > g_res.size) {
    errno = ENOMEM;
    return nullptr;
  }
  if (n > kSlabMax / 2 && large_resize_in_place(s, n)) return p;
  if (n > kSlabMax) {
    // Headroom: a block grown in small steps moves O(log n) times, not O(n); the untouched
    // headroom costs address space, not memory.
    return large_move(s, n, align_up(n / 2, kPage));
  }
  Heap *h = heap_like(s);
  void *q = h ? heap_alloc_in(h, n) : nullptr;
  if (!q) return nullptr;
  memcpy(q, p, n);
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
    Heap *h = heap_like(s);
    void *q = h ? heap_alloc_in(h, n) : nullptr;
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
