/* Links no rayalloc: dlopen()s librayalloc-prefixed.so (argv[1]) with RTLD_NOW, which only
 * works if the library's initial-exec TLS fits the static TLS surplus, then uses ray_malloc
 * and ray_free through dlsym, from the main thread and from a new thread. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);
typedef int (*owns_fn)(const void *);

static malloc_fn rmalloc;
static realloc_fn rrealloc;
static free_fn rfree;
static owns_fn rowns;

static void *work(void *arg) {
  (void)arg;
  for (size_t n = 1; n < 2000000; n = n * 3 + 1) {
    char *p = rmalloc(n);
    if (!p || !rowns(p)) return (void *)1;
    memset(p, 0x42, n);
    p = rrealloc(p, n * 2);
    if (!p || p[n - 1] != 0x42) return (void *)1;
    rfree(p);
  }
  void *sys = malloc(100); /* the system malloc stays in place */
  int foreign = rowns(sys);
  free(sys);
  return foreign ? (void *)1 : NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 3;
  }
  rmalloc = (malloc_fn)dlsym(h, "ray_malloc");
  rrealloc = (realloc_fn)dlsym(h, "ray_realloc");
  rfree = (free_fn)dlsym(h, "ray_free");
  rowns = (owns_fn)dlsym(h, "ray_owns");
  if (!rmalloc || !rrealloc || !rfree || !rowns) return 4;
  if (work(NULL)) return 5;
  pthread_t t;
  void *res = (void *)1;
  if (pthread_create(&t, NULL, work, NULL) != 0 || pthread_join(t, &res) != 0 || res) return 6;
  printf("prefixed ok\n");
  return 0;
}
