// Valgrind client requests for the debug variant, behind small names.
//
// The requests are a few no-op instructions when the program does not run under valgrind, and
// compile to nothing when <valgrind/memcheck.h> is absent; the header is header-only, so the
// library gains no link dependency. Memcheck learns from them which bytes are user blocks
// (MALLOCLIKE/FREELIKE: leaks and frees are reported as for malloc) and which are headers,
// redzones or poisoned capacity (NOACCESS: reads and writes there are invalid).
//
// The debug layer itself must read and write those protected bytes (headers, fill patterns):
// it does so inside a VgQuiet scope, which turns memcheck's error reporting off for the
// calling thread only.
#pragma once
#include <cstddef>

#if defined(RAY_DEBUG) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RAY_VALGRIND 1
#endif

namespace ray::vg {

#ifdef RAY_VALGRIND
inline bool running() {
  return RUNNING_ON_VALGRIND != 0;
}
inline void malloclike(const void *p, size_t n, bool zeroed) {
  VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, zeroed);
}
inline void freelike(const void *p) {
  VALGRIND_FREELIKE_BLOCK(p, 0);
}
inline void resize(const void *p, size_t old_n, size_t new_n) {
  VALGRIND_RESIZEINPLACE_BLOCK(p, old_n, new_n, 0);
}
inline void noaccess(const void *p, size_t n) {
  VALGRIND_MAKE_MEM_NOACCESS(p, n);
}
inline void undefined(const void *p, size_t n) {
  VALGRIND_MAKE_MEM_UNDEFINED(p, n);
}
inline void defined(const void *p, size_t n) {
  VALGRIND_MAKE_MEM_DEFINED(p, n);
}
class Quiet {
 public:
  Quiet() { VALGRIND_DISABLE_ERROR_REPORTING; }
  ~Quiet() { VALGRIND_ENABLE_ERROR_REPORTING; }
  Quiet(const Quiet &) = delete;
  Quiet &operator=(const Quiet &) = delete;
};
#else
inline bool running() {
  return false;
}
inline void malloclike(const void *, size_t, bool) {}
inline void freelike(const void *) {}
inline void resize(const void *, size_t, size_t) {}
inline void noaccess(const void *, size_t) {}
inline void undefined(const void *, size_t) {}
inline void defined(const void *, size_t) {}
class Quiet {};
#endif

}  // namespace ray::vg
