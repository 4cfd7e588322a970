/* Fast-path instruction counter: bench_fastpath_cg SIZE COUNT.
 *
 * Runs COUNT malloc(SIZE)+free pairs inside fastpath_loop(), after a warm-up that is outside it,
 * so `valgrind --tool=callgrind --toggle-collect=fastpath_loop` counts only the steady-state fast
 * path (plus a few loop instructions per pair). Instruction counts are repeatable where wall
 * times are not. The volatile sink and noinline keep the compiler from removing the pair. */
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void fastpath_loop(size_t size, long count) {
  for (long i = 0; i < count; i++) {
    void *p = malloc(size);
    sink = p;
    free(p);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SIZE COUNT\n", argv[0]);
    return 2;
  }
  size_t size = (size_t)strtoull(argv[1], NULL, 10);
  long count = strtol(argv[2], NULL, 10);
  for (int i = 0; i < 1000; i++) free(sink = malloc(size)); /* warm-up: caches, size class */
  fastpath_loop(size, count);
  printf("RESULT fastpath_cg %zu %ld\n", size, count);
  return 0;
}
