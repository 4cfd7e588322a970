// Workload: large blocks, 64 KiB - 32 MiB, allocated, grown with realloc, freed.
//
// Models programs that hold big buffers: file contents, image planes, hash tables and vectors
// that double. A few dozen live blocks are repeatedly created, grown (by 10%..100%, as buffers
// and doubling arrays do) and freed. Every page is touched, so the cost of getting memory from
// the OS, of copying on realloc versus remapping in place, and of caching freed large blocks all
// show. Page contents are checked after each realloc.
#include <cstring>
#include "common.hpp"

namespace {

constexpr int kSlots = 24;
constexpr size_t kMin = 64 * 1024, kMax = 32 * 1024 * 1024, kPage = 4096;

struct Buf {
  unsigned char *p = nullptr;
  size_t size = 0;
  unsigned char tag = 0;
};

// Writes a tag byte at the start of every page that begins in [from, to).
void fill(Buf &b, size_t from, size_t to) {
  for (size_t off = (from + kPage - 1) / kPage * kPage; off < to; off += kPage)
    b.p[off] = static_cast<unsigned char>(b.tag + off / kPage);
}

// Sum of the page tags; 0xbad if any page lost its contents.
uint64_t check(const Buf &b) {
  uint64_t h = 0;
  for (size_t off = 0; off < b.size; off += kPage) {
    unsigned char want = static_cast<unsigned char>(b.tag + off / kPage);
    if (b.p[off] != want) return 0xbad;
    h += want;
  }
  return h + b.size;
}

}  // namespace

int main(int argc, char **argv) {
  long steps = bench::scaled(1500, bench::scale(argc, argv));
  bench::Rng rng(9001);
  Buf bufs[kSlots];
  uint64_t h = 0;
  for (long s = 0; s < steps; s++) {
    Buf &b = bufs[rng.next() % kSlots];
    uint64_t action = rng.next() % 3;
    if (!b.p) {
      b.size = rng.log_range(kMin, kMax);
      b.tag = static_cast<unsigned char>(s);
      b.p = static_cast<unsigned char *>(std::malloc(b.size));
      fill(b, 0, b.size);
    } else if (action == 0 && b.size < kMax) {
      size_t n = b.size + b.size * rng.range(10, 100) / 100;
      if (n > kMax) n = kMax;
      b.p = static_cast<unsigned char *>(std::realloc(b.p, n));
      size_t old = b.size;
      b.size = n;
      fill(b, old, n);
      h += check(b);
    } else {
      h += check(b);
      std::free(b.p);
      b.p = nullptr;
    }
  }
  for (Buf &b : bufs)
    if (b.p) h += check(b), std::free(b.p);
  bench::result("large", h);
}
