/* For rayrun_test.py: run under rayrun --stats; looks the statistics API up with dlsym (it is
 * not linked against rayalloc), does some work across sizes and a thread, then prints
 * ray_stats_get and writes ray_stats_print_json to argv[1] with nothing allocated in between,
 * so the test can check that they agree. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rayalloc.h>

static void *work(void *arg) {
  void **blocks = arg;
  for (int i = 0; i < 1000; i++) free(blocks[i]); /* frees of the main thread's blocks */
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int (*get)(ray_arena *, ray_stats *) =
      (int (*)(ray_arena *, ray_stats *))dlsym(RTLD_DEFAULT, "ray_stats_get");
  void (*print_json)(FILE *) = (void (*)(FILE *))dlsym(RTLD_DEFAULT, "ray_stats_print_json");
  if (!get || !print_json) {
    fprintf(stderr, "not running on rayalloc\n");
    return 3;
  }
  static void *blocks[1000];
  for (int i = 0; i < 1000; i++) blocks[i] = malloc((size_t)(16 + i * 97 % 200000));
  pthread_t t;
  pthread_create(&t, NULL, work, blocks);
  pthread_join(t, NULL);
  void *keep = malloc(1 << 20);
  memset(keep, 1, 1 << 20);
  static char buf[1 << 16];
  FILE *f = fopen(argv[1], "w");
  if (!f) return 4;
  setvbuf(f, buf, _IOFBF, sizeof buf); /* printing allocates nothing */
  ray_stats s;
  get(NULL, &s);
  print_json(f);
  fclose(f);
  printf(
      "{\"reserved\":%zu,\"committed\":%zu,\"allocated\":%zu,\"peak_allocated\":%zu,"
      "\"mallocs\":%zu,\"frees\":%zu}\n",
      s.reserved, s.committed, s.allocated, s.peak_allocated, s.mallocs, s.frees);
  free(keep);
  return 0;
}
