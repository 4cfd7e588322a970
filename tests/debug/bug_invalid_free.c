/* Bug class: invalid free (a pointer rayalloc never handed out: static data). */
#include <stdlib.h>

#include "bug_common.h"

static char not_from_malloc[64];

int main(void) {
  char *p = opaque(not_from_malloc + 16);
  announce(p);
  free(p);
  return 0;
}
