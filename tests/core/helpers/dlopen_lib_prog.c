/* dlopen()s the library named in argv[1] with RTLD_NOW and asks its ctor_lib_status(). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 3;
  }
  int (*status)(void) = (int (*)(void))dlsym(h, "ctor_lib_status");
  if (!status || status() != 1) return 4;
  printf("dlopen ok\n");
  return dlclose(h) == 0 ? 0 : 5;
}
