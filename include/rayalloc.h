/* rayalloc: a memory allocator with two faces over one engine.
 *  - the legacy face: malloc/free/realloc/... (and the ray_-prefixed twins);
 *  - the array face: arrays whose element size, length and capacity the allocator keeps,
 *    pools of one object type, and arenas with limits, callbacks and bulk free.
 * C11 and C++. See docs/DESIGN.md and README.md. */
#ifndef RAYALLOC_H
#define RAYALLOC_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RAY_API __attribute__((visibility("default")))
#define RAY_MALLOC_ATTR __attribute__((malloc))
#define RAY_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define RAY_API
#define RAY_MALLOC_ATTR
#define RAY_WARN_UNUSED
#endif
/* Functions that may move an array: the caller must use the returned pointer. */
#if defined(__cplusplus) && __cplusplus >= 201703L
#define RAY_NODISCARD [[nodiscard]]
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ > 201710L
#define RAY_NODISCARD [[nodiscard]]
#else
#define RAY_NODISCARD RAY_WARN_UNUSED
#endif

/* ---- 1. the legacy face, prefixed (always available, also in the prefixed library) ---- */
RAY_API RAY_MALLOC_ATTR void *ray_malloc(size_t size);
RAY_API RAY_MALLOC_ATTR void *ray_calloc(size_t count, size_t size);
RAY_API void *ray_realloc(void *p, size_t size);
RAY_API void *ray_reallocarray(void *p, size_t count, size_t size);
RAY_API void ray_free(void *p);
RAY_API void ray_free_sized(void *p, size_t size);
RAY_API void ray_free_aligned_sized(void *p, size_t align, size_t size);
RAY_API RAY_MALLOC_ATTR void *ray_memalign(size_t align, size_t size);
RAY_API int ray_posix_memalign(void **out, size_t align, size_t size);
RAY_API RAY_MALLOC_ATTR void *ray_aligned_alloc(size_t align, size_t size);
RAY_API RAY_MALLOC_ATTR void *ray_valloc(size_t size);
RAY_API RAY_MALLOC_ATTR void *ray_pvalloc(size_t size);
RAY_API size_t ray_usable_size(const void *p);
RAY_API size_t ray_malloc_usable_size(const void *p);
RAY_API int ray_malloc_trim(size_t pad);
/* Nonzero when rayalloc handed out `p` (O(1) range and map check; never reports). */
RAY_API int ray_owns(const void *p);

/* ---- 2. arrays ---- */
typedef struct ray_arena ray_arena;
enum {
  RAY_HINT_ZERO = 1u << 0,        /* new capacity reads as zero */
  RAY_HINT_GROWS = 1u << 1,       /* will grow: place it where it can grow in place */
  RAY_HINT_SHORT_LIVED = 1u << 2, /* freed soon after it is made */
  RAY_HINT_LONG_LIVED = 1u << 3,  /* lives for most of the program */
  RAY_HINT_STABLE = 1u << 4,      /* never moves while len <= max_cap (address space reserved) */
  RAY_HINT_HUGE_PAGES = 1u << 5,  /* back with transparent huge pages where possible */
};
typedef struct ray_array_opts {
  size_t align;     /* 0: default (16, or the element's power-of-two size if larger) */
  unsigned hints;   /* RAY_HINT_* */
  size_t max_cap;   /* with RAY_HINT_STABLE: the most elements it will ever hold */
  ray_arena *arena; /* NULL: the default, thread-safe arena */
} ray_array_opts;

RAY_API RAY_NODISCARD void *ray_array_new(size_t elem_size, size_t cap, const ray_array_opts *opts);
RAY_API void ray_array_free(void *a);
RAY_API size_t ray_array_len(const void *a);
RAY_API size_t ray_array_cap(const void *a);
RAY_API size_t ray_array_elem_size(const void *a);
RAY_API int ray_array_set_len(void *a, size_t len);
RAY_API RAY_NODISCARD void *ray_array_reserve(void *a, size_t min_cap);
RAY_API int ray_array_grow_in_place(void *a, size_t min_cap);
RAY_API RAY_NODISCARD void *ray_array_resize(void *a, size_t len);
RAY_API RAY_NODISCARD void *ray_array_push(void *a, const void *elem);
RAY_API RAY_NODISCARD void *ray_array_append(void *a, const void *elems, size_t n);
RAY_API RAY_NODISCARD void *ray_array_shrink_to_fit(void *a);
RAY_API RAY_NODISCARD void *ray_array_clone(const void *a);

/* ---- 3. pools ---- */
typedef struct ray_pool ray_pool;
RAY_API ray_pool *ray_pool_new(size_t obj_size, size_t align, ray_arena *arena);
RAY_API void *ray_pool_alloc(ray_pool *p);
RAY_API void ray_pool_free(ray_pool *p, void *obj);
RAY_API void ray_pool_visit(ray_pool *p, void (*fn)(void *obj, void *ctx), void *ctx);
RAY_API void ray_pool_destroy(ray_pool *p);

/* ---- 4. arenas ---- */
enum { RAY_ARENA_SINGLE_THREAD = 1u << 0 };
typedef struct ray_arena_opts {
  size_t limit;   /* most bytes it may commit; 0: no limit */
  unsigned flags; /* RAY_ARENA_SINGLE_THREAD: no atomics, no locks */
  void *ctx;
  void (*on_commit)(void *ctx, void *addr, size_t bytes);
  void (*on_decommit)(void *ctx, void *addr, size_t bytes);
  int (*on_oom)(void *ctx, size_t bytes); /* nonzero: try again (it freed something) */
} ray_arena_opts;
RAY_API ray_arena *ray_arena_new(const ray_arena_opts *opts);
RAY_API void *ray_arena_malloc(ray_arena *a, size_t size);
RAY_API void ray_arena_reset(ray_arena *a);
RAY_API void ray_arena_destroy(ray_arena *a);

/* ---- 5. errors, statistics ---- */
typedef void (*ray_error_fn)(int err, const char *msg, void *ptr, void *ctx);
RAY_API void ray_set_error_handler(ray_error_fn fn, void *ctx);

typedef struct ray_stats {
  size_t reserved, committed, allocated, peak_allocated;
  size_t mallocs, frees, arrays_grown_in_place, arrays_moved, arrays_remapped;
  size_t bytes_copied_by_growth, array_slack;
} ray_stats;
RAY_API int ray_stats_get(ray_arena *a, ray_stats *out);
RAY_API void ray_stats_print(FILE *out);
RAY_API void ray_stats_print_json(FILE *out);

/* ---- C convenience macros (C and C++; accept NULL as the empty array) ---- */
#ifdef __cplusplus
#define RAY__TYPEOF(x) __typeof__(x)
#else
#define RAY__TYPEOF(x) __typeof__(x)
#endif
#define RAY_ARR_LEN(a) ((a) ? ray_array_len(a) : (size_t)0)
#define RAY_ARR_CAP(a) ((a) ? ray_array_cap(a) : (size_t)0)
#define RAY_ARR_FREE(a) (ray_array_free(a), (a) = NULL)
/* Evaluates v once; nonzero on success, 0 on failure (then a is unchanged). */
#define RAY_ARR_PUSH(a, v)                                                            \
  __extension__({                                                                     \
    RAY__TYPEOF(*(a)) ray__v = (v);                                                   \
    void *ray__a = (a) ? (void *)(a) : ray_array_new(sizeof(*(a)), 1, NULL);          \
    void *ray__n = ray__a ? ray_array_push(ray__a, &ray__v) : NULL;                   \
    if (!ray__n && ray__a && !(a)) ray_array_free(ray__a);                            \
    if (ray__n) (a) = (RAY__TYPEOF(a))ray__n;                                         \
    ray__n != NULL;                                                                   \
  })

#ifdef __cplusplus
}
#endif
#endif /* RAYALLOC_H */
