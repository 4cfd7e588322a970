// Helpers for the array-face tests: statistics deltas, an error handler that records instead of
// aborting, resident memory of an address range, and a byte pattern to tell whether contents
// survived a move.
#pragma once
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/test_util.hpp"
#include "rayalloc.h"

namespace array_test {

inline ray_stats stats() {
  ray_stats s{};
  ray_stats_get(nullptr, &s);
  return s;
}

// Counts reports while installed; the offending call then does nothing (API.md section 7).
struct ErrorLog {
  int calls = 0;
  int last_err = 0;
  void *last_ptr = nullptr;
  static void handler(int err, const char *, void *ptr, void *ctx) {
    auto *log = static_cast<ErrorLog *>(ctx);
    log->calls++;
    log->last_err = err;
    log->last_ptr = ptr;
  }
  ErrorLog() { ray_set_error_handler(handler, this); }
  ~ErrorLog() { ray_set_error_handler(nullptr, nullptr); }
};

// Bytes of [p, p+n) that are resident (mincore).
size_t resident_bytes(const void *p, size_t n);

using test_util::check_pattern;
using test_util::fill_pattern;

// True if every byte of [p, p+n) is zero.
inline bool all_zero(const void *p, size_t n) {
  auto *b = static_cast<const uint8_t *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i]) return false;
  return true;
}

}  // namespace array_test
