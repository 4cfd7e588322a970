// Debug hooks the faces call. In the release and stats variants they are empty inline
// functions (no cost); the debug variant (RAY_DEBUG) implements them in debug/*.cpp.
#pragma once
#include <cstddef>

namespace ray {

#ifdef RAY_DEBUG
// Fill [p, p+n) with the poison pattern and tell valgrind it is not addressable.
void debug_poison(void *p, size_t n);
// True if [p, p+n) still holds the poison pattern; else *bad = first changed byte.
bool debug_check_poison(const void *p, size_t n, const void **bad);
// Make [p, p+n) addressable again (valgrind: undefined contents) before handing it out.
void debug_unpoison(void *p, size_t n);
#else
inline void debug_poison(void *, size_t) {}
inline bool debug_check_poison(const void *, size_t, const void **) { return true; }
inline void debug_unpoison(void *, size_t) {}
#endif

}  // namespace ray
