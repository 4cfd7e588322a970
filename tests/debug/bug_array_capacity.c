/* Bug class: write into an array's unused capacity (a[4] of an array of length 0), found when
 * the array is freed: the poison of [len, cap) was disturbed. */
#include <rayalloc.h>

#include "bug_common.h"

int main(void) {
  int *a = ray_array_new(sizeof(int), 16, NULL);
  if (!a) return 2;
  int *p = opaque(&a[4]);
  announce(p);
  *p = 7; /* beyond len: lost, since no set_len or push made the slot live */
  RAY_ARR_FREE(a);
  return 0;
}
