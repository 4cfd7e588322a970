// Workload: malloc+free microbenchmark per size class.
//
// The allocator fast path, size by size: (1) a malloc immediately followed by free of the same
// size, the best case every allocator caches; (2) a batch of 64 mallocs then 64 frees, which
// walks the free lists and crosses slab/page boundaries. Prints one line per size:
//   SIZECLASS <size> <ns per malloc+free pair> <ns per malloc+free in batches>
// and the runner tabulates them per allocator. The workload's wall time is the sum.
#include <chrono>
#include "common.hpp"

namespace {

void *volatile sink;

double now_ns() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char **argv) {
  double sc = bench::scale(argc, argv);
  const size_t sizes[] = {16,  32,   48,   64,   96,   128,   192,   256,  384,
                          512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  uint64_t h = 0;
  for (size_t size : sizes) {
    // Batches of large sizes get fewer rounds: some allocators return memory to the OS after each.
    long pairs = bench::scaled(2000000, sc);
    long batches = bench::scaled(size <= 1024 ? 20000 : 20000 * 1024 / size, sc);
    for (long i = 0; i < 1000; i++) sink = std::malloc(size), std::free(sink);  // warm-up
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
      char *p = static_cast<char *>(std::malloc(size));
      p[0] = static_cast<char>(i);
      sink = p;
      std::free(p);
    }
    double t1 = now_ns();
    char *batch[64];
    for (long b = 0; b < batches; b++) {
      for (int i = 0; i < 64; i++) batch[i] = static_cast<char *>(std::malloc(size));
      for (int i = 0; i < 64; i++) batch[i][size - 1] = static_cast<char>(i);
      for (int i = 0; i < 64; i++) h += static_cast<unsigned char>(batch[i][size - 1]);
      for (int i = 0; i < 64; i++) std::free(batch[(i * 5) % 64]);  // not in allocation order
    }
    double t2 = now_ns();
    std::printf("SIZECLASS %zu %.2f %.2f\n", size, (t1 - t0) / pairs, (t2 - t1) / (batches * 64.0));
    h += size;
  }
  bench::result("sizeclass", h);
}
