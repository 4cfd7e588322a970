// Debug hooks the faces and the engine call. In the release and stats variants they are empty
// inline functions (no cost); the debug variant (RAY_DEBUG) implements them in
// debug/array_poison.cpp.
//
// Array capacity: the array face poisons [len, cap) of every array (not RAY_HINT_ZERO ones,
// whose unused capacity must read as zero) and the data of a block it moves away from. The
// poison is a fill pattern (kArrayPoison) that valgrind also sees as not addressable.
#pragma once
#include <cstddef>

namespace ray {

constexpr unsigned char kArrayPoison = 0xFA;

#ifdef RAY_DEBUG
// Fill [p, p+n) with the poison pattern and tell valgrind it is not addressable.
void debug_poison(void *p, size_t n);
// True if [p, p+n) still holds the poison pattern; else *bad = first changed byte.
bool debug_check_poison(const void *p, size_t n, const void **bad);
// Make [p, p+n) addressable again (valgrind: defined, since the program may have written it
// before raising the length with set_len) as it becomes live.
void debug_unpoison(void *p, size_t n);
// As debug_unpoison, for slots the library itself is about to overwrite (push, append,
// resize): it first checks that they still hold the poison (or read as zero: RAY_HINT_ZERO
// capacity is not poisoned), and reports a "write into unused array capacity" naming the first
// changed byte if not, since what the program wrote there would be lost.
void debug_unpoison_checked(void *p, size_t n);
// The engine hands [p, p+n) out (a span, a block): whatever a previous owner marked for
// valgrind (poison, freed), it is addressable and defined now, as fresh mmap memory is.
void debug_handed_out(void *p, size_t n);
// [p, p+n) is not handed out (the reservation at start-up): valgrind treats it as not
// addressable, and its leak check does not scan it.
void debug_taken_back(void *p, size_t n);
// Faces without debug headers (arrays, pools) announce their blocks to valgrind, so
// memcheck reports their leaks and their use after free: `p` is what the program holds.
void debug_block_live(const void *p, size_t n, bool zeroed);
void debug_block_dead(const void *p);
#else
inline void debug_poison(void *, size_t) {}
inline bool debug_check_poison(const void *, size_t, const void **) {
  return true;
}
inline void debug_unpoison(void *, size_t) {}
inline void debug_unpoison_checked(void *, size_t) {}
inline void debug_handed_out(void *, size_t) {}
inline void debug_taken_back(void *, size_t) {}
inline void debug_block_live(const void *, size_t, bool) {}
inline void debug_block_dead(const void *) {}
#endif

}  // namespace ray
