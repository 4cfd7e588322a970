/* Bug class: a leak (a 12345-byte block whose pointer is dropped). */
#include <stdlib.h>
#include <string.h>

#include "bug_common.h"

int main(void) {
  char *p = opaque(malloc(12345));
  memset(p, 1, 12345);
  announce(p);
  p = NULL;
  return 0;
}
