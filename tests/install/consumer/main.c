/* Exits 0 when malloc is (or, with PREFIXED_ONLY, is not) served by rayalloc. */
#include <rayalloc.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  void *sys = malloc(100);
  void *ray = ray_malloc(100);
  int ok = ray_owns(ray) && (ray_owns(sys) != 0) ==
#ifdef PREFIXED_ONLY
      0;
#else
      1;
#endif
  printf("%s\n", ok ? "ok" : "wrong allocator");
  ray_free(ray);
  free(sys);
  return ok ? 0 : 1;
}
