// The override: the standard malloc family and every C++ operator new/delete, for programs
// that link rayalloc::rayalloc or LD_PRELOAD librayalloc.so. Kept thin: each entry inlines the
// same engine path as its ray_ twin.
//
// operator new must throw std::bad_alloc, yet the library must not depend on libstdc++: the
// two libstdc++ functions it needs are weak references, present whenever a C++ program (the
// only kind that calls operator new) is running.
#include <new>

#include "face/malloc_impl.hpp"

using namespace ray;

#define RAY_OVERRIDE extern "C" RAY_EXPORT

RAY_OVERRIDE void *malloc(size_t n) {
  return api_malloc(n);
}
RAY_OVERRIDE void *calloc(size_t c, size_t n) {
  return api_calloc(c, n);
}
RAY_OVERRIDE void *realloc(void *p, size_t n) {
  return api_realloc(p, n);
}
RAY_OVERRIDE void *reallocarray(void *p, size_t c, size_t n) {
  return api_reallocarray(p, c, n);
}
RAY_OVERRIDE void free(void *p) {
  api_free(p);
}
RAY_OVERRIDE void cfree(void *p) {
  api_free(p);
}
RAY_OVERRIDE void free_sized(void *p, size_t) {
  api_free(p);
}
RAY_OVERRIDE void free_aligned_sized(void *p, size_t, size_t) {
  api_free(p);
}
RAY_OVERRIDE void *memalign(size_t a, size_t n) {
  return api_aligned(a, n);
}
RAY_OVERRIDE int posix_memalign(void **out, size_t a, size_t n) {
  return api_posix_memalign(out, a, n);
}
RAY_OVERRIDE void *aligned_alloc(size_t a, size_t n) {
  return api_aligned(a, n);
}
RAY_OVERRIDE void *valloc(size_t n) {
  return api_aligned(kPage, n);
}
RAY_OVERRIDE void *pvalloc(size_t n) {
  return api_pvalloc(n);
}
RAY_OVERRIDE size_t malloc_usable_size(void *p) {
  return api_usable_size(p);
}
RAY_OVERRIDE int malloc_trim(size_t pad) {
  return api_malloc_trim(pad);
}

// glibc-internal aliases some programs and libraries call directly.
RAY_OVERRIDE void *__libc_malloc(size_t n) {
  return api_malloc(n);
}
RAY_OVERRIDE void *__libc_calloc(size_t c, size_t n) {
  return api_calloc(c, n);
}
RAY_OVERRIDE void *__libc_realloc(void *p, size_t n) {
  return api_realloc(p, n);
}
RAY_OVERRIDE void __libc_free(void *p) {
  api_free(p);
}
RAY_OVERRIDE void *__libc_memalign(size_t a, size_t n) {
  return api_aligned(a, n);
}
RAY_OVERRIDE void *__libc_valloc(size_t n) {
  return api_aligned(kPage, n);
}
RAY_OVERRIDE void *__libc_pvalloc(size_t n) {
  return api_pvalloc(n);
}
RAY_OVERRIDE int __posix_memalign(void **out, size_t a, size_t n) {
  return api_posix_memalign(out, a, n);
}

// ---- C++ ----
namespace std {
[[noreturn]] void __throw_bad_alloc() __attribute__((weak));
new_handler get_new_handler() noexcept __attribute__((weak));
}  // namespace std

// The slow path of a failed operator new: run the new-handler until it gives up, then throw.
RAY_COLD static void *new_failed(size_t n, size_t align, bool nothrow) {
  for (;;) {
    std::new_handler h = &std::get_new_handler ? std::get_new_handler() : nullptr;
    if (!h) break;
    h();  // may throw, free memory, or abort
    void *p = align <= kMinAlign ? api_malloc(n) : api_aligned(align, n);
    if (p) return p;
  }
  if (nothrow) return nullptr;
  if (&std::__throw_bad_alloc) std::__throw_bad_alloc();
  report_error(ENOMEM, "operator new: out of memory and no C++ runtime to throw", nullptr);
  __builtin_trap();
}

static RAY_INLINE void *new_impl(size_t n) {
  void *p = api_malloc(n);
  if (RAY_LIKELY(p != nullptr)) return p;
  return new_failed(n, 0, false);
}
static RAY_INLINE void *new_aligned(size_t n, size_t a, bool nothrow) {
  void *p = api_aligned(a, n);
  if (RAY_LIKELY(p != nullptr)) return p;
  if (!is_pow2(a)) {  // undefined behaviour for the caller; fail like an OOM
    if (nothrow) return nullptr;
    if (&std::__throw_bad_alloc) std::__throw_bad_alloc();
    __builtin_trap();
  }
  return new_failed(n, a, nothrow);
}
static RAY_INLINE void *new_nothrow(size_t n) {
  void *p = api_malloc(n);
  if (RAY_LIKELY(p != nullptr)) return p;
  return new_failed(n, 0, true);
}

#define AL std::align_val_t
#define NT const std::nothrow_t &
RAY_EXPORT void *operator new(size_t n) {
  return new_impl(n);
}
RAY_EXPORT void *operator new[](size_t n) {
  return new_impl(n);
}
RAY_EXPORT void *operator new(size_t n, NT) noexcept {
  return new_nothrow(n);
}
RAY_EXPORT void *operator new[](size_t n, NT) noexcept {
  return new_nothrow(n);
}
RAY_EXPORT void *operator new(size_t n, AL a) {
  return new_aligned(n, size_t(a), false);
}
RAY_EXPORT void *operator new[](size_t n, AL a) {
  return new_aligned(n, size_t(a), false);
}
RAY_EXPORT void *operator new(size_t n, AL a, NT) noexcept {
  return new_aligned(n, size_t(a), true);
}
RAY_EXPORT void *operator new[](size_t n, AL a, NT) noexcept {
  return new_aligned(n, size_t(a), true);
}
RAY_EXPORT void operator delete(void *p) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete(void *p, NT) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p, NT) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete(void *p, size_t) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p, size_t) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete(void *p, AL) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p, AL) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete(void *p, AL, NT) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p, AL, NT) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete(void *p, size_t, AL) noexcept {
  api_free(p);
}
RAY_EXPORT void operator delete[](void *p, size_t, AL) noexcept {
  api_free(p);
}
