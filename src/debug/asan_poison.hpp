// AddressSanitizer poisoning of rayalloc's own blocks, for the ASan build (RAYALLOC_SANITIZE=
// address, scripts/test.d/50-sanitizers.sh) and the fuzzer. In every other build these are
// empty inline functions: nothing is compiled in.
//
// ASan cannot see inside rayalloc's reservation (it is one big mmap), so the engine tells it:
//  - a freed slab block is poisoned except its first word (the free-list link the engine
//    itself reads and writes, also from other threads), so a use after free through the
//    caller's stale pointer is reported;
//  - a freed large block of the global heap is poisoned whole;
//  - every block is unpoisoned whole when it is handed out, and every span when the span heap
//    hands it out (so memory reused for another purpose is never left poisoned).
// Blocks of user arenas are not poisoned on free: an arena may reuse its spans without going
// through the span heap.
#pragma once
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define RAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RAY_ASAN 1
#endif
#endif

#ifdef RAY_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ray {

#ifdef RAY_ASAN
// The link and the free mark (slab/block.hpp) stay readable.
inline void asan_poison_freed_block(void *p, size_t n) {
  size_t keep = n >= 2 * sizeof(void *) ? 2 * sizeof(void *) : sizeof(void *);
  if (n > keep) ASAN_POISON_MEMORY_REGION(static_cast<char *>(p) + keep, n - keep);
}
inline void asan_poison(void *p, size_t n) {
  ASAN_POISON_MEMORY_REGION(p, n);
}
inline void asan_unpoison(void *p, size_t n) {
  ASAN_UNPOISON_MEMORY_REGION(p, n);
}
#else
inline void asan_poison_freed_block(void *, size_t) {}
inline void asan_poison(void *, size_t) {}
inline void asan_unpoison(void *, size_t) {}
#endif

}  // namespace ray
