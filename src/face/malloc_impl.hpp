// The malloc family on top of the heap. Header-only so that both the ray_-prefixed entry points
// and the malloc override (a separate file) inline the engine fast paths: an overriding
// `malloc` is no slower than `ray_malloc`.
#pragma once
#include <errno.h>
#include <string.h>

#include "arena/span_heap.hpp"
#include "heap/heap.hpp"
#include "support/error.hpp"
#ifdef RAY_DEBUG
#include "debug/debug_malloc.hpp"  // the debug variant's checked malloc family
#endif

namespace ray {

#ifdef RAY_DEBUG
RAY_INLINE void *api_malloc(size_t n) {
  return debug_malloc(n, kMinAlign, false);
}
RAY_INLINE void api_free(void *p) {
  debug_free(p, "free()");
}
#else
RAY_INLINE void *api_malloc(size_t n) {
  return heap_malloc(n);
}

RAY_INLINE void api_free(void *p) {
  heap_free(p);
}
#endif

inline size_t api_usable_size(const void *p) {
#ifdef RAY_DEBUG
  return debug_usable_size(p);
#else
  return block_usable_size(p);
#endif
}

inline void *api_calloc(size_t count, size_t size) {
#ifdef RAY_DEBUG
  return debug_calloc(count, size);
#endif
  size_t n;
  if (RAY_UNLIKELY(__builtin_mul_overflow(count, size, &n))) {
    errno = ENOMEM;
    return nullptr;
  }
  if (n > kSlabMax) {
    Heap *h = thread_heap();
    if (!h) {
      errno = ENOMEM;
      return nullptr;
    }
    return heap_alloc_large(h, n, kMinAlign, true);
  }
  void *p = heap_malloc(n);
  if (RAY_LIKELY(p != nullptr)) memset(p, 0, n);
  return p;
}

inline void *api_realloc(void *p, size_t n) {
#ifdef RAY_DEBUG
  return debug_realloc(p, n);
#endif
  if (p == nullptr) return heap_malloc(n);
  if (n == 0) {  // glibc semantics: frees p and returns NULL
    heap_free(p);
    return nullptr;
  }
  return heap_realloc(p, n);
}

inline void *api_reallocarray(void *p, size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  return api_realloc(p, n);
}

// NULL + EINVAL for a non-power-of-two alignment.
inline void *api_aligned(size_t align, size_t n) {
  if (!is_pow2(align)) {
    errno = EINVAL;
    return nullptr;
  }
  if (align > kMaxAlign) {
    errno = ENOMEM;  // valid but more than the reservation can promise
    return nullptr;
  }
#ifdef RAY_DEBUG
  return debug_malloc(n, align, false);
#endif
  if (align <= kMinAlign) return heap_malloc(n);
  return heap_malloc_aligned(tls_heap, n, align);
}

inline int api_posix_memalign(void **out, size_t align, size_t n) {
  if (!is_pow2(align) || align % sizeof(void *) != 0) return EINVAL;
  int saved = errno;
  void *p = api_aligned(align, n);
  if (!p) {
    int err = errno == EINVAL ? EINVAL : ENOMEM;
    errno = saved;
    return err;
  }
  *out = p;
  return 0;
}

inline void *api_pvalloc(size_t n) {
  if (n > ~size_t(0) - kPage) {
    errno = ENOMEM;
    return nullptr;
  }
  return api_aligned(kPage, n == 0 ? kPage : align_up(n, kPage));
}

// Gives back the span cache, and what the calling thread's heaps hold unused (heap_trim):
// a thread pool's worker can call it before it goes idle. Other threads' heaps are theirs.
inline int api_malloc_trim(size_t) {
#ifdef RAY_DEBUG
  debug_trim();
#endif
  size_t before = span_heap_committed();
  heap_trim(tls_heap);                           // the malloc family's slabs
  if (g_array_hooks.trim) g_array_hooks.trim();  // the array face's
  span_purge(true);
  return span_heap_committed() < before ? 1 : 0;
}

}  // namespace ray
