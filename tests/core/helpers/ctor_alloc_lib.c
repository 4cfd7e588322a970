/* A library whose constructor makes the process's first allocations and calls dlsym/dlerror
 * (which allocate inside the dynamic linker) before main runs: preloaded or dlopened next to
 * rayalloc, it must neither recurse into an uninitialised allocator nor deadlock. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_status;

__attribute__((constructor)) static void allocate_before_main(void) {
  char *s = strdup("allocated in a constructor");
  void *big = calloc(1, 300000);
  void *sym = dlsym(RTLD_DEFAULT, "rayalloc_core_test_no_such_symbol");
  const char *err = dlerror(); /* formats its message with malloc */
  void *next = dlsym(RTLD_NEXT, "malloc");
  int ok = s && big && !sym && err && next;
  free(big);
  free(s);
  g_status = ok ? 1 : -1;
  const char *msg = ok ? "ctor ok\n" : "ctor FAILED\n";
  if (write(1, msg, strlen(msg)) < 0) g_status = -1;
}

__attribute__((visibility("default"))) int ctor_lib_status(void) {
  return g_status;
}
