// The ray_-prefixed malloc family: in every library variant, including the prefixed one that
// leaves the system malloc in place.
#include "face/malloc_impl.hpp"
#include "rayalloc.h"

using namespace ray;

extern "C" {
RAY_API void *ray_malloc(size_t n) {
  return api_malloc(n);
}
RAY_API void *ray_calloc(size_t c, size_t n) {
  return api_calloc(c, n);
}
RAY_API void *ray_realloc(void *p, size_t n) {
  return api_realloc(p, n);
}
RAY_API void *ray_reallocarray(void *p, size_t c, size_t n) {
  return api_reallocarray(p, c, n);
}
RAY_API void ray_free(void *p) {
  api_free(p);
}
RAY_API void ray_free_sized(void *p, size_t) {
  api_free(p);
}
RAY_API void ray_free_aligned_sized(void *p, size_t, size_t) {
  api_free(p);
}
RAY_API void *ray_memalign(size_t a, size_t n) {
  return api_aligned(a, n);
}
RAY_API int ray_posix_memalign(void **out, size_t a, size_t n) {
  return api_posix_memalign(out, a, n);
}
RAY_API void *ray_aligned_alloc(size_t a, size_t n) {
  return api_aligned(a, n);
}
RAY_API void *ray_valloc(size_t n) {
  return api_aligned(kPage, n);
}
RAY_API void *ray_pvalloc(size_t n) {
  return api_pvalloc(n);
}
RAY_API size_t ray_usable_size(const void *p) {
  return api_usable_size(p);
}
RAY_API size_t ray_malloc_usable_size(const void *p) {
  return api_usable_size(p);
}
RAY_API int ray_malloc_trim(size_t pad) {
  return api_malloc_trim(pad);
}
RAY_API int ray_owns(const void *p) {
  if (p == nullptr || !in_reservation(p)) return 0;
#ifdef RAY_DEBUG
  if (int mine = debug_owns(p); mine >= 0) return mine;  // blocks with a debug header
#endif
  const Span *s = span_of(p);
  if (s->kind == SpanKind::Slab && slab_block_start(s, p)) return 1;
  if (s->kind == SpanKind::Large && uintptr_t(p) == s->start) return 1;
  // An array's data pointer sits a header past its block's start.
  return (s->flags & kSpanArray) && g_array_hooks.usable_size && g_array_hooks.usable_size(p) != 0;
}
}
