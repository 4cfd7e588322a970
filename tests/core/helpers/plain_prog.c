/* Not linked to rayalloc. Allocates, and reports whether rayalloc serves its malloc (when
 * preloaded): "owned=1" if ray_owns, found with dlsym, claims its blocks. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT, "ray_owns");
  int owned = 1;
  for (size_t n = 1; n < 1000000; n = n * 2 + 3) {
    char *p = malloc(n);
    if (!p) return 2;
    memset(p, 7, n);
    if (!owns || !owns(p)) owned = 0;
    p = realloc(p, n * 3);
    if (!p || p[n - 1] != 7) return 3;
    free(p);
  }
  printf("main ok owned=%d\n", owned);
  return 0;
}
