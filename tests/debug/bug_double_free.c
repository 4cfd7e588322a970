/* Bug class: double free. argv[1]: block size (default 24; above 64 KiB it is a large block,
 * which the release build also detects). */
#include <stdlib.h>

#include "bug_common.h"

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 24;
  char *p = opaque(malloc(n));
  announce(p);
  free(p);
  free(opaque(p));
  return 0;
}
