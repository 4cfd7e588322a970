/* For valgrind_faces_check.py: blocks of the array and pool faces are visible to memcheck in
 * the debug variant. Deliberate errors, one each: an array leaked (pointer dropped), a read one
 * element past an array's length (inside its capacity), and a read of a freed pool object.
 * Everything else is used and freed cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rayalloc.h>

int main(void) {
  uint32_t *leak = ray_array_new(sizeof(uint32_t), 25, NULL);
  for (uint32_t i = 0; i < 25; i++) leak = ray_array_push(leak, &i);
  printf("leaked array bytes: %zu\n", ray_array_cap(leak) * sizeof(uint32_t));
  leak = NULL;

  uint32_t *a = ray_array_new(sizeof(uint32_t), 100, NULL);
  for (uint32_t i = 0; i < 10; i++) a = ray_array_push(a, &i);
  volatile uint32_t past_len = a[10]; /* inside the capacity, past the length */
  (void)past_len;
  a = ray_array_reserve(a, 100000); /* grows (moves or not): still clean */
  for (uint32_t i = 0; i < 10; i++)
    if (a[i] != i) return 2;

  ray_pool *pool = ray_pool_new(48, 0, NULL);
  char *obj = ray_pool_alloc(pool);
  for (int i = 0; i < 48; i++) obj[i] = (char)i;
  char *kept = ray_pool_alloc(pool); /* still live when the pool is destroyed: no leak */
  kept[0] = 1;
  ray_pool_free(pool, obj);
  volatile char after_free = obj[20];
  (void)after_free;
  ray_pool_destroy(pool);
  ray_array_free(a); /* last: the pool's slab must not reuse its memory (clearer reports) */
  return 0;
}
