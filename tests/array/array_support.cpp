#include "array_support.hpp"

#include <sys/mman.h>

#include <vector>

namespace array_test {

size_t resident_bytes(const void *p, size_t n) {
  const size_t page = 4096;
  uintptr_t lo = uintptr_t(p) & ~(page - 1), hi = (uintptr_t(p) + n + page - 1) & ~(page - 1);
  std::vector<unsigned char> vec((hi - lo) / page);
  if (mincore(reinterpret_cast<void *>(lo), hi - lo, vec.data()) != 0) return 0;
  size_t r = 0;
  for (unsigned char v : vec) r += (v & 1) ? page : 0;
  return r;
}

}  // namespace array_test
