/* The RAY_ARR_* macros and the C API compiled as C11 (-std=c11 -pedantic): NULL as the empty
 * array, pushes of rvalues and struct values, the value evaluated once, len/cap/free, and the
 * array handed to free(). Prints "N passed, N failed" and exits non-zero on any failure. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rayalloc.h"

static int passed, failed;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
    } else {                                                                   \
      failed++;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

struct point {
  double x, y;
  int tag;
};

static int calls;
static int next_value(void) {
  return ++calls;
}

int main(void) {
  /* NULL is the empty array. */
  int *a = NULL;
  CHECK(RAY_ARR_LEN(a) == 0);
  CHECK(RAY_ARR_CAP(a) == 0);
  RAY_ARR_FREE(a); /* free of NULL does nothing */
  CHECK(a == NULL);

  /* Pushes from NULL, with rvalues; v is evaluated exactly once per push. */
  for (int i = 0; i < 100000; i++) CHECK(RAY_ARR_PUSH(a, next_value()));
  CHECK(calls == 100000);
  CHECK(RAY_ARR_LEN(a) == 100000);
  CHECK(RAY_ARR_CAP(a) >= 100000);
  CHECK(RAY_ARR_LEN(a) == ray_array_len(a));
  CHECK(RAY_ARR_CAP(a) == ray_array_cap(a));
  CHECK(ray_array_elem_size(a) == sizeof(int));
  int ok = 1;
  for (int i = 0; i < 100000; i++) ok &= a[i] == i + 1;
  CHECK(ok);
  RAY_ARR_FREE(a);
  CHECK(a == NULL);

  /* Struct elements, and the pushed value an expression of another element. */
  struct point *pts = NULL;
  struct point p0 = {1.5, -2.5, 7};
  CHECK(RAY_ARR_PUSH(pts, p0));
  for (int i = 1; i < 1000; i++) {
    struct point q = pts[i - 1];
    q.tag++;
    CHECK(RAY_ARR_PUSH(pts, q));
  }
  CHECK(RAY_ARR_LEN(pts) == 1000);
  CHECK(pts[999].tag == 7 + 999 && pts[999].x == 1.5);
  CHECK(((uintptr_t)pts & 15) == 0);
  free(pts); /* free() accepts arrays */

  /* Bytes: a string built with pushes. */
  char *s = NULL;
  const char *msg = "hello, arrays";
  for (size_t i = 0; i <= strlen(msg); i++) CHECK(RAY_ARR_PUSH(s, msg[i]));
  CHECK(strcmp(s, msg) == 0);
  CHECK(ray_usable_size(s) == RAY_ARR_CAP(s));
  RAY_ARR_FREE(s);

  /* A push that fails (a STABLE array at its max_cap) returns 0 and leaves the array as it
   * was; the value is still evaluated once. */
  ray_array_opts st = {0, RAY_HINT_STABLE, 100, NULL};
  int *full = ray_array_new(sizeof *full, 0, &st);
  CHECK(full != NULL);
  int *const before = full;
  for (int i = 0; i < 100; i++) CHECK(RAY_ARR_PUSH(full, i));
  calls = 0;
  CHECK(RAY_ARR_PUSH(full, next_value()) == 0);
  CHECK(calls == 1);
  CHECK(full == before && RAY_ARR_LEN(full) == 100 && full[99] == 99);
  RAY_ARR_FREE(full);

  /* The C API directly. */
  ray_array_opts o = {64, RAY_HINT_ZERO, 0, NULL};
  uint64_t *z = ray_array_new(sizeof *z, 10, &o);
  CHECK(z != NULL && ((uintptr_t)z & 63) == 0);
  z = ray_array_resize(z, 5000);
  CHECK(z != NULL && z[4999] == 0);
  CHECK(ray_array_set_len(z, ray_array_cap(z) + 1) == EINVAL);
  uint64_t *c = ray_array_clone(z);
  CHECK(c != NULL && RAY_ARR_LEN(c) == 5000);
  RAY_ARR_FREE(c);
  RAY_ARR_FREE(z);
  errno = 0;
  CHECK(ray_array_new(0, 1, NULL) == NULL && errno == EINVAL);

  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
