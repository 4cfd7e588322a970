// The array, pool and arena faces, referenced weakly: the fuzzer links against
// librayalloc-prefixed.so, and an operation on a face that is not in the library is skipped
// (its function address is null). So the harness builds and runs at every stage of the
// library, and starts exercising a face as soon as it is linked in, with no change here.
#pragma once
#include "rayalloc.h"

extern "C" {
#define FUZZ_WEAK __attribute__((weak))
FUZZ_WEAK void *ray_array_new(size_t elem_size, size_t cap, const ray_array_opts *opts);
FUZZ_WEAK void ray_array_free(void *a);
FUZZ_WEAK size_t ray_array_len(const void *a);
FUZZ_WEAK size_t ray_array_cap(const void *a);
FUZZ_WEAK size_t ray_array_elem_size(const void *a);
FUZZ_WEAK int ray_array_set_len(void *a, size_t len);
FUZZ_WEAK void *ray_array_reserve(void *a, size_t min_cap);
FUZZ_WEAK int ray_array_grow_in_place(void *a, size_t min_cap);
FUZZ_WEAK void *ray_array_resize(void *a, size_t len);
FUZZ_WEAK void *ray_array_push(void *a, const void *elem);
FUZZ_WEAK void *ray_array_append(void *a, const void *elems, size_t n);
FUZZ_WEAK void *ray_array_shrink_to_fit(void *a);
FUZZ_WEAK void *ray_array_clone(const void *a);
FUZZ_WEAK ray_pool *ray_pool_new(size_t obj_size, size_t align, ray_arena *arena);
FUZZ_WEAK void *ray_pool_alloc(ray_pool *p);
FUZZ_WEAK void ray_pool_free(ray_pool *p, void *obj);
FUZZ_WEAK void ray_pool_visit(ray_pool *p, void (*fn)(void *obj, void *ctx), void *ctx);
FUZZ_WEAK void ray_pool_destroy(ray_pool *p);
FUZZ_WEAK ray_arena *ray_arena_new(const ray_arena_opts *opts);
FUZZ_WEAK void *ray_arena_malloc(ray_arena *a, size_t size);
FUZZ_WEAK void ray_arena_reset(ray_arena *a);
FUZZ_WEAK void ray_arena_destroy(ray_arena *a);
#undef FUZZ_WEAK
}

namespace fuzz {
inline bool have_arrays() {
  return ray_array_new && ray_array_free && ray_array_len && ray_array_cap && ray_array_elem_size &&
         ray_array_set_len && ray_array_reserve && ray_array_grow_in_place && ray_array_resize &&
         ray_array_push && ray_array_append && ray_array_shrink_to_fit && ray_array_clone;
}
inline bool have_pools() {
  return ray_pool_new && ray_pool_alloc && ray_pool_free && ray_pool_visit && ray_pool_destroy;
}
inline bool have_arenas() {
  return ray_arena_new && ray_arena_malloc && ray_arena_reset && ray_arena_destroy;
}
}  // namespace fuzz
