// Helpers every test folder needs: the process's resident memory, and a byte pattern that tells
// whether a block kept its contents. Folder helpers (tests/*/..._support.hpp) bring these into
// their own namespaces.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

namespace test_util {

// Resident set size of this process in bytes (/proc/self/statm, second field); 0 if unreadable.
inline size_t rss_bytes() {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long total = 0, resident = 0;
  int got = fscanf(f, "%lu %lu", &total, &resident);
  fclose(f);
  return got == 2 ? size_t(resident) * size_t(sysconf(_SC_PAGESIZE)) : 0;
}

// The byte a block tagged `tag` holds at offset i: differs between neighbouring offsets and
// between tags, so a lost, shifted or mixed-up copy is caught.
inline uint8_t pattern_byte(uint32_t tag, size_t i) {
  return uint8_t((tag * 2654435761u) >> 24) ^ uint8_t(i * 31 + (i >> 8));
}
inline void fill_pattern(void *p, size_t n, uint32_t tag) {
  auto *b = static_cast<uint8_t *>(p);
  for (size_t i = 0; i < n; i++) b[i] = pattern_byte(tag, i);
}
// Offset of the first byte that differs from the pattern, or n if all match.
inline size_t check_pattern(const void *p, size_t n, uint32_t tag) {
  auto *b = static_cast<const uint8_t *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i] != pattern_byte(tag, i)) return i;
  return n;
}

}  // namespace test_util
