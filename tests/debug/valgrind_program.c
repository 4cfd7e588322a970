/* For valgrind_check.py: one deliberate leak (40 bytes, pointer dropped) and one invalid read
 * (one byte past a 10-byte block), on the debug variant. It also says whose malloc served it,
 * so the check knows memcheck saw rayalloc's blocks, not its own malloc's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rayalloc.h>

int main(void) {
  char *leak = malloc(40);
  memset(leak, 1, 40);
  leak = NULL;
  char *p = malloc(10);
  memset(p, 1, 10);
  printf("owner: %s\n", ray_owns(p) ? "rayalloc" : "other");
  volatile char past_the_end = p[10];
  (void)past_the_end;
  free(p);
  void *q = calloc(4, 100); /* used and freed cleanly: no error */
  free(q);
  return 0;
}
