// Prints the size of rayalloc's reservation (linked statically, so the engine is visible),
// then allocates `argv[1]` GiB without touching it: "reserve=<bytes> big=<0|1>".
#include <stdio.h>
#include <stdlib.h>

#include "arena/reservation.hpp"

int main(int argc, char **argv) {
  free(malloc(1));  // starts the engine, which reads RAYALLOC_RESERVE
  size_t gib = argc > 1 ? strtoull(argv[1], nullptr, 10) : 0;
  void *big = gib ? malloc(gib << 30) : nullptr;
  printf("reserve=%zu big=%d\n", ray::g_res.size, big != nullptr);
  free(big);
  return 0;
}
