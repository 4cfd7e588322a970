// Run with a small RAYALLOC_RESERVE: allocates until rayalloc's address space runs out, and
// checks that running out is an ordinary failure (NULL + ENOMEM, operator new throws
// std::bad_alloc, the heap stays usable) and that the space comes back after freeing.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <vector>

static int fill_until_full(size_t block, std::vector<void *> *out) {
  for (;;) {
    errno = 0;
    void *p = malloc(block);
    if (!p) return errno;
    memset(p, 0x11, block < 256 ? block : 256);
    out->push_back(p);
    if (out->size() > 10000000) return -1;  // never ran out: the reserve was not applied
  }
}

int main() {
  std::vector<void *> big, small;
  big.reserve(100000);
  small.reserve(2000000);
  if (fill_until_full(size_t(1) << 20, &big) != ENOMEM) return 2;
  if (fill_until_full(2000, &small) != ENOMEM) return 3;
  bool threw = false;
  try {
    void *p = ::operator new(size_t(4) << 20);
    ::operator delete(p);
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  if (!threw) return 4;
  size_t n_big = big.size(), n_small = small.size();
  for (void *p : small) free(p);
  for (void *p : big) free(p);
  small.clear();
  big.clear();
  // Everything freed: the same amount fits again.
  if (fill_until_full(size_t(1) << 20, &big) != ENOMEM) return 5;
  if (big.size() + 2 < n_big) return 6;
  for (void *p : big) free(p);
  printf("exhausted ok: %zu x 1 MiB, %zu x 2000 B\n", n_big, n_small);
  return 0;
}
