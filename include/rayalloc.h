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
/* Functions that may move an array: the caller must use the returned pointer. (clang rejects
 * [[nodiscard]] after RAY_API's GNU attribute; its GNU spelling means the same there.) */
#if defined(__clang__)
#define RAY_NODISCARD __attribute__((warn_unused_result))
#elif defined(__cplusplus) && __cplusplus >= 201703L
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

/* ---- 2. arrays ----
 * What each hint does (they are lasting properties of the array, kept by every move and clone):
 *  RAY_HINT_ZERO        after any call that raises cap, all of [len, cap) reads as zero. Fresh
 *                       pages are known to be zero and are not written again.
 *  RAY_HINT_GROWS       the array gets a span of its own from the start (even when small), with
 *                       address space for 8x its size (at least 1 MiB) reserved behind it and
 *                       committed as it grows: it grows in place, copying nothing, where an
 *                       unhinted array moves a few times while it is small. Costs address space,
 *                       and at least 64 KiB of commit (not of resident memory).
 *  RAY_HINT_SHORT_LIVED small arrays come from slabs of their own (per thread), so short-lived
 *                       and long-lived data never share a slab and freeing the short-lived ones
 *  RAY_HINT_LONG_LIVED  empties whole slabs, which go back to the OS. Arrays with neither hint
 *                       share the thread's ordinary array slabs. (Ignored inside user arenas.)
 *  RAY_HINT_STABLE      address space for max_cap elements is reserved at creation; the array
 *                       never moves, commits pages as it grows and decommits them as it shrinks
 *                       (shrink_to_fit, or resize to below a quarter of cap); growth past
 *                       max_cap fails with ENOMEM.
 *  RAY_HINT_HUGE_PAGES  arrays of 64 KiB and more are placed on 2 MiB boundaries and advised
 *                       for transparent huge pages (madvise), where the system allows them.
 * Growth: arrays up to 256 bytes grow by 1.25x (ray::string's by 2x), bigger ones by 2x.
 * Large arrays (> 64 KiB) grow in place into the free address space after them, else move
 * their pages with mremap (no byte copied); a small array that moves copies only its
 * len * elem_size live bytes. */
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
/* Beyond the contract: a new empty array with a's element size, alignment, hints, max_cap and
 * arena, with room for `cap` elements (how ray::array<T> moves elements one by one). */
RAY_API RAY_NODISCARD void *ray_array_new_like(const void *a, size_t cap);
/* Layout, part of the ABI so that the macros below and ray::array<T> can inline the common
 * case: the size_t just before an array's first element is its length, the one before that
 * its capacity. Only the library writes them (use ray_array_set_len to change the length). */

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

/* ---- C convenience macros (C and C++; accept NULL as the empty array) ----
 * `a` is a variable (an lvalue) of type T*; the element size is sizeof(T). A push that fits is
 * inlined: a compare, a store and a length increment. Programs built against the debug library
 * define RAYALLOC_DEBUG (its CMake target does), so every push goes through the library, which
 * checks writes past the length. */
#if defined(RAYALLOC_DEBUG)
#define RAY__ARR_INLINE 0
#else
#define RAY__ARR_INLINE 1
#endif
#define RAY__TYPEOF(x) __typeof__(x)
#define RAY__ARR_WORDS(a) ((size_t *)(void *)(a))
#define RAY_ARR_LEN(a) ((a) ? ((const size_t *)(const void *)(a))[-1] : (size_t)0)
#define RAY_ARR_CAP(a) ((a) ? ((const size_t *)(const void *)(a))[-2] : (size_t)0)
#define RAY_ARR_FREE(a) (ray_array_free(a), (a) = NULL)
/* Evaluates v once; nonzero on success, 0 on failure (then a is unchanged). */
#define RAY_ARR_PUSH(a, v)                                                         \
  __extension__({                                                                  \
    RAY__TYPEOF(*(a)) ray__v = (v);                                                \
    int ray__ok = 1;                                                               \
    if (RAY__ARR_INLINE && (a) && RAY__ARR_WORDS(a)[-1] < RAY__ARR_WORDS(a)[-2]) { \
      (a)[RAY__ARR_WORDS(a)[-1]] = ray__v;                                         \
      RAY__ARR_WORDS(a)[-1]++;                                                     \
    } else {                                                                       \
      void *ray__a = (a) ? (void *)(a) : ray_array_new(sizeof(*(a)), 1, NULL);     \
      void *ray__n = ray__a ? ray_array_push(ray__a, &ray__v) : NULL;              \
      if (!ray__n && ray__a && !(a)) ray_array_free(ray__a);                       \
      if (ray__n) (a) = (RAY__TYPEOF(a))ray__n;                                    \
      ray__ok = ray__n != NULL;                                                    \
    }                                                                              \
    ray__ok;                                                                       \
  })

#ifdef __cplusplus
}
#endif
#endif /* RAYALLOC_H */
