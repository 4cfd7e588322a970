/* Bug class: write into an array's unused capacity (a[4] of an array of length 0), found when
 * the array grows over that slot. */
#include <rayalloc.h>

#include "bug_common.h"

int main(void) {
  int *a = ray_array_new(sizeof(int), 16, NULL);
  if (!a) return 2;
  int *p = opaque(&a[4]);
  announce(p);
  *p = 7; /* beyond len: the array does not own this slot's contents */
  for (int i = 0; i < 8; i++) RAY_ARR_PUSH(a, i);
  RAY_ARR_FREE(a);
  return 0;
}
