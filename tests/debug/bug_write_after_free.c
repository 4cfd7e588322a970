/* Bug class: write after free (a stale pointer stores into a freed 64-byte block, as a freed
 * list node's `next` would). The debug variant finds it when the block leaves its quarantine
 * (here: at exit); the release build's hardened free list when the block is handed out again. */
#include <stdlib.h>
#include <string.h>

#include "bug_common.h"

int main(void) {
  char *p = opaque(malloc(64));
  announce(p);
  free(p);
  memset(opaque(p), 'A', 8);
  void *q = opaque(malloc(64)); /* release: pops p and finds its link overwritten */
  free(q);
  return 0;
}
