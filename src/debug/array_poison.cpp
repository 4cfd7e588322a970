// The debug hooks of hooks.hpp: poisoned array capacity, memory handed out again, and the
// valgrind view of headerless blocks. Only in the debug variant.
#ifdef RAY_DEBUG
#include <string.h>

#include "debug/debug_report.hpp"
#include "debug/hooks.hpp"
#include "debug/valgrind.hpp"

namespace ray {
namespace {

const unsigned char *first_unpoisoned(const void *p, size_t n) {
  auto *b = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i] != kArrayPoison) return b + i;
  return nullptr;
}

// RAY_HINT_ZERO arrays are never poisoned: their unused capacity must read as zero.
bool all_zero(const void *p, size_t n) {
  auto *b = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0) return false;
  return true;
}

}  // namespace

void debug_poison(void *p, size_t n) {
  if (n == 0) return;
  {
    vg::Quiet quiet;  // it may be poisoned already
    memset(p, kArrayPoison, n);
  }
  vg::noaccess(p, n);
}

bool debug_check_poison(const void *p, size_t n, const void **bad) {
  vg::Quiet quiet;
  const unsigned char *b = first_unpoisoned(p, n);
  if (b && bad) *bad = b;
  return b == nullptr;
}

void debug_unpoison(void *p, size_t n) {
  vg::defined(p, n);
}

void debug_unpoison_checked(void *p, size_t n) {
  if (n == 0) return;
  const void *bad;
  bool zero;
  {
    vg::Quiet quiet;
    zero = all_zero(p, n);
  }
  if (!debug_check_poison(p, n, &bad) && !zero)
    debug_report(DebugError::ArrayCapacity, "array growth", bad,
                 "byte %zu of the %zu poisoned bytes at %p (beyond the array's length) was "
                 "written",
                 size_t(static_cast<const char *>(bad) - static_cast<const char *>(p)), n, p);
  vg::defined(p, n);
}

void debug_handed_out(void *p, size_t n) {
  vg::defined(p, n);
}

void debug_taken_back(void *p, size_t n) {
  vg::noaccess(p, n);
}

void debug_block_live(const void *p, size_t n, bool zeroed) {
  vg::malloclike(p, n, zeroed);
}

void debug_block_dead(const void *p) {
  vg::freelike(p);
}

}  // namespace ray
#endif  // RAY_DEBUG
