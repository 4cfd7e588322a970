// The array face's C API (rayalloc.h section 2) and the hooks that let free() and
// ray_usable_size() accept array pointers.
//
// Owns: argument rules (API.md section 7: EINVAL/ENOMEM, NULL handling, alignment defaults),
// the growth policy (how much more capacity a growing call asks for), sources that lie inside
// the array being grown, resize's zero fill, the array_slack re-counts and debug poisoning of
// [len, cap). Memory placement and moves are array_block.cpp's.
//
// Growth policy: tiny arrays (blocks up to 256 bytes) grow by 1.25x: copying them costs next to
// nothing and the tight fit keeps a population of small arrays below std::vector's footprint
// (which doubles); everything bigger grows by 2x, as std::vector does: fewer moves for strings
// and mid-size arrays, and arrays in spans grow in place or by mremap, where a bigger step costs
// only address space. Strings (ray::string's terminated byte arrays) double from the start:
// they are built by appends, and with 1.25x steps each string passed through twice as many
// size classes, leaving partly used slabs behind in each (bench/face/strings.cpp: 167K page
// faults and 8.9 moves per string at 1.25x, 143K and 7 at 2x; std::string on glibc 125K).
#include <errno.h>
#include <string.h>

#include "debug/hooks.hpp"
#include "face/arena_internal.hpp"
#include "face/array_block.hpp"
#include "face/array_stats.hpp"
#include "support/error.hpp"

namespace ray {
namespace {

constexpr size_t kMaxArrayAlign = kMaxAlign;  // 1 GiB
constexpr size_t kMaxDefaultAlign = 4096;
constexpr size_t kTinyBlock = 256;  // growth policy, see above

// The header of `p` if it is a live array's data pointer, else nullptr. Safe for any pointer:
// only memory inside the reservation is read, and only after the span says it may be an array.
ArrayHeader *array_validate(const void *p) {
  uintptr_t a = uintptr_t(p);
  if (!in_reservation(p) || (a & (kMinAlign - 1)) || a - g_res.base < kSliceSize) return nullptr;
  Span *s = span_of(p);
  // A slab of the array face, a large span's first/last slice, or (map entry 0) the inside of a
  // large span; anything else (malloc slabs, free spans) is not an array.
  if (s->kind == SpanKind::Slab ? !(s->flags & kSpanArray) || a - s->start < kArrayHeader
                                : s->kind == SpanKind::Free)
    return nullptr;
  ArrayHeader *h = header_of(p);
  if (h->check != array_check(p) || h->align_shift < 4 || h->align_shift > 30) return nullptr;
  uintptr_t block = a - array_offset(h->align_shift);
  if (block < g_res.base) return nullptr;
  Span *t = span_of(reinterpret_cast<void *>(block));
  if (!(t->flags & kSpanArray)) return nullptr;
  if (t->kind == SpanKind::Slab)
    return t == s && slab_block_start(t, reinterpret_cast<void *>(block)) &&
                   a - block < t->block_size
               ? h
               : nullptr;
  return t->kind == SpanKind::Large && t->start == block ? h : nullptr;
}

// The cheap check for calls that grow or read an array (no span lookup): the header's tag,
// which a freed array no longer has. A bad pointer is a programming error: reported.
RAY_INLINE ArrayHeader *tagged(const void *p, const char *what) {
  ArrayHeader *h = header_of(p);
  if (RAY_LIKELY(h->check == array_check(p))) return h;
  report_error(EINVAL, what, p);
  errno = EINVAL;
  return nullptr;
}

// As array_validate, but a bad pointer is a programming error: report it.
ArrayHeader *checked(const void *p, const char *what) {
  ArrayHeader *h = array_validate(p);
  if (RAY_UNLIKELY(h == nullptr)) {
    report_error(EINVAL, what, p);
    errno = EINVAL;
  }
  return h;
}

RAY_INLINE char *elem_at(ArrayHeader *h, size_t i) {
  return static_cast<char *>(data_of(h)) + i * h->elem_size;
}

// Copy one element, with the common sizes as fixed-size moves.
RAY_INLINE void copy_elem(void *dst, const void *src, size_t es) {
  switch (es) {
    case 1:
      memcpy(dst, src, 1);
      break;
    case 2:
      memcpy(dst, src, 2);
      break;
    case 4:
      memcpy(dst, src, 4);
      break;
    case 8:
      memcpy(dst, src, 8);
      break;
    case 16:
      memcpy(dst, src, 16);
      break;
    default:
      memcpy(dst, src, es);
      break;
  }
}

// The capacity a growing call aims at when it needs `min_cap` (see the policy above).
size_t growth_target(const ArrayHeader *h, size_t min_cap) {
  size_t cap = h->cap;
  bool tiny = cap * h->elem_size + kArrayHeader <= kTinyBlock &&
              !(h->hints & (RAY_HINT_GROWS | RAY_HINT_STABLE | kHintTerminated));
  size_t step = tiny ? cap / 4 : cap;
  size_t want = cap + (step ? step : 1);
  if (want < cap) want = ~size_t(0);  // overflow: array_block_grow clamps
  return want > min_cap ? want : min_cap;
}

// Debug variant: the length went from `old` to `len`; poison what stopped being live,
// unpoison what became live (RAY_HINT_ZERO arrays are never poisoned: [len, cap) reads zero).
RAY_INLINE void track_len(ArrayHeader *h, size_t old, size_t len) {
  size_t was = live_end(h, old), now = live_end(h, len);
  if (now > was)
    debug_unpoison(elem_at(h, was), (now - was) * h->elem_size);
  else if (was > now && !(h->hints & RAY_HINT_ZERO))
    debug_poison(elem_at(h, now), (was - now) * h->elem_size);
}

// If `src` lies inside the live elements of `h`, its byte offset from the data, else -1.
RAY_INLINE size_t offset_inside(const ArrayHeader *h, const void *src) {
  size_t off = uintptr_t(src) - uintptr_t(data_of(const_cast<ArrayHeader *>(h)));
  return off < h->len * h->elem_size ? off : ~size_t(0);
}

void release(ArrayHeader *h) {
  if (!(h->hints & RAY_HINT_ZERO)) {
    const void *bad;
    size_t from = live_end(h, h->len);
    if (!debug_check_poison(elem_at(h, from), (h->cap - from) * h->elem_size, &bad))
      report_error(EFAULT, "array: write past its length detected at free, at", bad);
  }
  slack_forget(h);
  array_block_free(h);
}

// Make room for `min_cap` elements (the caller has checked that cap < min_cap).
// An arena at its limit may free memory in on_oom and ask for a retry (API.md section 7):
// these two wrap every allocation the array face makes. The default arena never retries.
ArrayHeader *new_block_retrying(Heap *heap, const ArrayShape &sh, size_t cap) {
  ArrayHeader *h = array_block_new(heap, sh, cap);
  for (int calls = 0; !h && arena_retry_after_oom(static_cast<ray_arena *>(heap->arena), &calls);)
    h = array_block_new(heap, sh, cap);
  return h;
}

Grown grow(ArrayHeader *h, size_t min_cap, bool may_move) {
  size_t want = growth_target(h, min_cap);
  Grown g = array_block_grow(h, min_cap, want, may_move);
  if (g.h) return g;
  Heap *heap = array_heap_like(h);
  auto *arena = heap ? static_cast<ray_arena *>(heap->arena) : nullptr;
  for (int calls = 0; !g.h && arena_retry_after_oom(arena, &calls);)
    g = array_block_grow(h, min_cap, want, may_move);
  return g;
}

RAY_NOINLINE void *push_slow(void *a, const void *elem) {
  ArrayHeader *h = tagged(a, "ray_array_push: not an array (invalid or freed pointer)");
  if (!h) return nullptr;
  size_t n = h->len, before = slack_counted(h), inside = offset_inside(h, elem);
  Grown g = grow(h, n + 1, true);
  if (!g.h) return nullptr;
  const void *src = inside != ~size_t(0) ? static_cast<char *>(data_of(g.h)) + inside : elem;
  track_len(g.h, n, n + 1);
  copy_elem(elem_at(g.h, n), src, g.h->elem_size);
  g.h->len = n + 1;
  slack_update(g.h, before);
  return data_of(g.h);
}

// Alignment shift for an array of `elem_size` asking for `align` (0: default). -1: EINVAL.
int align_shift_for(size_t elem_size, size_t align) {
  size_t def = elem_size & (~elem_size + 1);  // largest power of two dividing elem_size
  if (def < kMinAlign) def = kMinAlign;
  if (def > kMaxDefaultAlign) def = kMaxDefaultAlign;
  if (align != 0 && (!is_pow2(align) || align > kMaxArrayAlign)) return -1;
  if (align < def) align = def;
  return __builtin_ctzll(align);
}

bool hook_free(void *p) {
  ArrayHeader *h = array_validate(p);
  if (!h) return false;
  release(h);
  return true;
}

size_t hook_usable_size(const void *p) {
  ArrayHeader *h = array_validate(p);
  return h ? h->cap * h->elem_size : 0;
}

// The thread's array heap (beside its malloc heap) and its lifetime heaps.
void hook_trim() {
  Heap *me = tls_heap;
  if (me->kind == HeapKind::Thread) heap_trim(me + 1);
  lifetime_heaps_trim();
}

// Before any other constructor (an array made in one must be freeable with free()).
__attribute__((constructor(101))) void register_array_hooks() {
  g_array_hooks.usable_size = hook_usable_size;
  g_array_hooks.free = hook_free;
  g_array_hooks.trim = hook_trim;
}

void *new_array(Heap *heap, const ArrayShape &sh, size_t cap) {
  ArrayHeader *h = new_block_retrying(heap, sh, cap);
  if (!h) return nullptr;
  slack_update(h, 0);
  return data_of(h);
}

}  // namespace
}  // namespace ray

using namespace ray;

extern "C" {

RAY_API void *ray_array_new(size_t elem_size, size_t cap, const ray_array_opts *opts) {
  ray_array_opts o = opts ? *opts : ray_array_opts{0, 0, 0, nullptr};
  int shift = align_shift_for(elem_size, o.align);
  bool stable = o.hints & RAY_HINT_STABLE;
  if (elem_size == 0 || shift < 0 || (stable && (o.max_cap == 0 || o.max_cap < cap))) {
    errno = EINVAL;
    return nullptr;
  }
  if (stable && shift < 6) shift = 6;  // room for max_cap before the header (array_block.cpp)
  Heap *heap = array_heap(o.arena, o.hints);
  if (!heap) return nullptr;
  size_t most = stable ? o.max_cap : cap;
  if (elem_size > kMaxElemSize || most > (g_res.size - array_offset(shift)) / elem_size) {
    errno = ENOMEM;
    return nullptr;
  }
  ArrayShape sh{elem_size, unsigned(shift), o.hints & 0xffu, stable ? o.max_cap : 0};
  return new_array(heap, sh, cap);
}

RAY_API void ray_array_free(void *a) {
  if (a == nullptr) return;
  if (ArrayHeader *h = checked(a, "ray_array_free: not an array (invalid or double free)"))
    release(h);
}

RAY_API size_t ray_array_len(const void *a) {
  return a ? header_of(a)->len : 0;
}
RAY_API size_t ray_array_cap(const void *a) {
  return a ? header_of(a)->cap : 0;
}
RAY_API size_t ray_array_elem_size(const void *a) {
  return a ? header_of(a)->elem_size : 0;
}

RAY_API int ray_array_set_len(void *a, size_t len) {
  if (a == nullptr) {
    if (len == 0) return 0;
    errno = EINVAL;
    return EINVAL;
  }
  ArrayHeader *h = header_of(a);
  if (len > h->cap) {
    errno = EINVAL;
    return EINVAL;
  }
  size_t old = h->len, before = slack_counted(h);
  track_len(h, old, len);
  h->len = len;
  slack_update(h, before);
  return 0;
}

RAY_API void *ray_array_reserve(void *a, size_t min_cap) {
  if (a == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  if (min_cap <= header_of(a)->cap) return a;
  ArrayHeader *h = tagged(a, "ray_array_reserve: not an array (invalid or freed pointer)");
  if (!h) return nullptr;
  size_t before = slack_counted(h);
  Grown g = grow(h, min_cap, true);
  if (!g.h) return nullptr;
  slack_update(g.h, before);
  return data_of(g.h);
}

RAY_API int ray_array_grow_in_place(void *a, size_t min_cap) {
  if (a == nullptr) {
    errno = EINVAL;
    return EINVAL;
  }
  if (min_cap <= header_of(a)->cap) return 0;
  ArrayHeader *h = tagged(a, "ray_array_grow_in_place: not an array (invalid or freed pointer)");
  if (!h) return EINVAL;
  size_t before = slack_counted(h);
  Grown g = grow(h, min_cap, false);
  if (!g.h) return ENOMEM;
  slack_update(g.h, before);
  return 0;
}

RAY_API void *ray_array_resize(void *a, size_t len) {
  if (a == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  ArrayHeader *h = header_of(a);
  size_t old = h->len, before = slack_counted(h), zero_from = ~size_t(0);
  if (len > h->cap) {
    if (!(h = tagged(a, "ray_array_resize: not an array (invalid or freed pointer)")))
      return nullptr;
    Grown g = grow(h, len, true);
    if (!g.h) return nullptr;
    h = g.h;
    zero_from = g.zero_from;
  }
  size_t es = h->elem_size;
  track_len(h, old, len);
  if (len > old) {
    size_t end = len * es < zero_from ? len * es : zero_from;
    if (end > old * es) memset(elem_at(h, old), 0, end - old * es);
  }
  h->len = len;
  // A STABLE array gives pages back as it shrinks (with hysteresis, so a length that moves
  // around one size does not commit and decommit the same pages each time).
  if ((h->hints & RAY_HINT_STABLE) && len < h->cap / 4) h = array_block_shrink(h, 2 * len);
  slack_update(h, before);
  return data_of(h);
}

RAY_API void *ray_array_push(void *a, const void *elem) {
  if (RAY_UNLIKELY(a == nullptr)) {
    errno = EINVAL;
    return nullptr;
  }
  ArrayHeader *h = header_of(a);
  size_t n = h->len;
  if (RAY_LIKELY(n < h->cap)) {
    track_len(h, n, n + 1);
    copy_elem(elem_at(h, n), elem, h->elem_size);
    h->len = n + 1;
    return a;
  }
  return push_slow(a, elem);
}

RAY_API void *ray_array_append(void *a, const void *elems, size_t n) {
  if (a == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  ArrayHeader *h = header_of(a);
  size_t len = h->len, es = h->elem_size;
  if (n == 0) return a;
  if (len + n < len) {
    errno = ENOMEM;
    return nullptr;
  }
  if (len + n <= h->cap) {
    track_len(h, len, len + n);
    memmove(elem_at(h, len), elems, n * es);
    h->len = len + n;
    return a;
  }
  if (!(h = tagged(a, "ray_array_append: not an array (invalid or freed pointer)"))) return nullptr;
  size_t before = slack_counted(h), inside = offset_inside(h, elems);
  Grown g = grow(h, len + n, true);
  if (!g.h) return nullptr;
  const void *src = inside != ~size_t(0) ? static_cast<char *>(data_of(g.h)) + inside : elems;
  track_len(g.h, len, len + n);
  memmove(elem_at(g.h, len), src, n * es);
  g.h->len = len + n;
  slack_update(g.h, before);
  return data_of(g.h);
}

RAY_API void *ray_array_shrink_to_fit(void *a) {
  if (a == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  ArrayHeader *h = checked(a, "ray_array_shrink_to_fit: not an array (invalid or freed pointer)");
  if (!h) return nullptr;
  size_t before = slack_counted(h);
  h = array_block_shrink(h, h->len);
  slack_update(h, before);
  return data_of(h);
}

RAY_API void *ray_array_clone(const void *a) {
  if (a == nullptr) return nullptr;
  ArrayHeader *h = checked(a, "ray_array_clone: not an array (invalid or freed pointer)");
  if (!h) return nullptr;
  Heap *heap = array_heap_like(h);
  if (!heap) return nullptr;
  size_t max_cap = array_max_cap(h);
  ArrayShape sh{h->elem_size, h->align_shift, h->hints, (h->hints & RAY_HINT_STABLE) ? max_cap : 0};
  size_t copy = (h->hints & kHintTerminated) ? h->len + 1 : h->len;  // with its terminator
  ArrayHeader *n = new_block_retrying(heap, sh, copy);
  if (!n) return nullptr;
  track_len(n, 0, h->len);
  memcpy(data_of(n), data_of(h), copy * h->elem_size);
  n->len = h->len;
  slack_update(n, 0);
  return data_of(n);
}

RAY_API void *ray_array_new_like(const void *a, size_t cap) {
  if (a == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  ArrayHeader *h = checked(a, "ray_array_new_like: not an array (invalid or freed pointer)");
  if (!h) return nullptr;
  size_t max_cap = array_max_cap(h);
  if ((h->hints & RAY_HINT_STABLE) && cap > max_cap) {
    errno = EINVAL;
    return nullptr;
  }
  if (cap > (g_res.size - array_offset(h->align_shift)) / h->elem_size) {
    errno = ENOMEM;
    return nullptr;
  }
  Heap *heap = array_heap_like(h);
  if (!heap) return nullptr;
  ArrayShape sh{h->elem_size, h->align_shift, h->hints, (h->hints & RAY_HINT_STABLE) ? max_cap : 0};
  return new_array(heap, sh, cap);
}

}  // extern "C"
