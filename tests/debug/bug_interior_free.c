/* Bug class: free of an interior pointer (8 bytes into a 64-byte block). */
#include <stdlib.h>

#include "bug_common.h"

int main(void) {
  char *block = opaque(malloc(64));
  char *p = block + 8;
  announce(p);
  free(opaque(p));
  return 0;
}
