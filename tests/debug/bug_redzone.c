/* Bug class: overflow into the redzone (one byte past a 24-byte block), found on free. */
#include <stdlib.h>

#include "bug_common.h"

int main(void) {
  char *p = opaque(malloc(24));
  announce(p);
  p[24] = 'x';
  free(opaque(p));
  return 0;
}
