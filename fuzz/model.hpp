// The fuzzer's model of what should be true: every live object rayalloc handed out, what its
// bytes must hold, and the checks run after every operation.
//
// Each object is filled with a pattern derived from its id (byte i = pattern(id, i)) over the
// bytes the caller may use. After every step, for every live object: the pattern is intact
// (fully for objects up to 64 KiB, sampled beyond), the address is aligned as promised, what
// rayalloc reports (usable size, array len/cap/elem_size) matches the model, and no two live
// objects overlap. A violation prints what broke and traps, so libFuzzer keeps the input.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>

#include "rayalloc.h"

namespace fuzz {

enum class Kind : uint8_t { Block, Array, PoolObj, ArenaBlock };

struct Obj {
  Kind kind;
  void *p;
  uint64_t id;
  size_t bytes;         // bytes [0, bytes) hold the pattern (block: usable size; array: len*es)
  size_t extent;        // bytes owned, for the overlap check (array: cap*es)
  size_t align;         // promised alignment
  size_t usable;        // Block/ArenaBlock: ray_usable_size at allocation
  size_t es, len, cap;  // arrays
  unsigned hints;       // arrays
  size_t max_cap;       // stable arrays: the address never changes
  int arena;            // -1: the default arena
  int pool;             // PoolObj: its pool's slot
};

[[noreturn]] inline void fail(const char *what, const Obj *o, size_t detail) {
  if (o)
    fprintf(stderr, "ray_fuzz: %s: kind %d ptr %p id %llu bytes %zu extent %zu (detail %zu)\n",
            what, int(o->kind), o->p, (unsigned long long)o->id, o->bytes, o->extent, detail);
  else
    fprintf(stderr, "ray_fuzz: %s (detail %zu)\n", what, detail);
  __builtin_trap();
}
#define FUZZ_CHECK(cond, obj, detail)            \
  do {                                           \
    if (!(cond)) fuzz::fail(#cond, obj, detail); \
  } while (0)

inline uint8_t pattern(uint64_t id, size_t i) {
  return uint8_t((id * 0x9E3779B1u) >> 5 ^ (i * 29) ^ (i >> 9));
}

inline void fill(void *p, size_t from, size_t to, uint64_t id) {
  uint8_t *b = static_cast<uint8_t *>(p);
  for (size_t i = from; i < to; i++) b[i] = pattern(id, i);
}

// First offset i in [from, to) with bad(i): all of it up to 64 KiB, then the first and last
// 4 KiB and 64 bytes of every 4 KiB page between. SIZE_MAX if none.
template <class Bad>
inline size_t first_bad_sampled(size_t from, size_t to, Bad bad_at) {
  auto scan = [&](size_t lo, size_t hi) -> size_t {
    for (size_t i = lo; i < hi && i < to; i++)
      if (bad_at(i)) return i;
    return SIZE_MAX;
  };
  if (to - from <= 65536) return scan(from, to);
  size_t bad = scan(from, from + 4096);
  for (size_t off = from + 4096; bad == SIZE_MAX && off + 4096 < to; off += 4096)
    bad = scan(off, off + 64);
  return bad != SIZE_MAX ? bad : scan(to - 4096, to);
}

// First offset in [from, to) not holding the pattern (sampled as above).
inline size_t mismatch(const void *p, size_t from, size_t to, uint64_t id) {
  const uint8_t *b = static_cast<const uint8_t *>(p);
  return first_bad_sampled(from, to, [&](size_t i) { return b[i] != pattern(id, i); });
}

// First non-zero offset in [from, to) (sampled as above).
inline size_t nonzero(const void *p, size_t from, size_t to) {
  const uint8_t *b = static_cast<const uint8_t *>(p);
  return first_bad_sampled(from, to, [&](size_t i) { return b[i] != 0; });
}

inline void check_object(const Obj &o) {
  FUZZ_CHECK(uintptr_t(o.p) % o.align == 0, &o, o.align);
  size_t bad = mismatch(o.p, 0, o.bytes, o.id);
  FUZZ_CHECK(bad == SIZE_MAX, &o, bad);
  if (o.kind == Kind::Block || o.kind == Kind::ArenaBlock) {
    FUZZ_CHECK(ray_usable_size(o.p) == o.usable, &o, ray_usable_size(o.p));
    FUZZ_CHECK(ray_owns(o.p), &o, 0);
  } else if (o.kind == Kind::Array) {
    FUZZ_CHECK(ray_array_len(o.p) == o.len, &o, ray_array_len(o.p));
    FUZZ_CHECK(ray_array_cap(o.p) == o.cap, &o, ray_array_cap(o.p));
    FUZZ_CHECK(ray_array_elem_size(o.p) == o.es, &o, ray_array_elem_size(o.p));
    FUZZ_CHECK(ray_usable_size(o.p) >= o.len * o.es, &o, ray_usable_size(o.p));
  }
}

// Every live object intact, and no two overlapping.
inline void check_all(const std::vector<Obj> &objs) {
  std::vector<const Obj *> by_addr;
  by_addr.reserve(objs.size());
  for (const Obj &o : objs) {
    check_object(o);
    by_addr.push_back(&o);
  }
  std::sort(by_addr.begin(), by_addr.end(),
            [](const Obj *a, const Obj *b) { return uintptr_t(a->p) < uintptr_t(b->p); });
  for (size_t i = 1; i < by_addr.size(); i++) {
    const Obj *a = by_addr[i - 1], *b = by_addr[i];
    FUZZ_CHECK(uintptr_t(a->p) + a->extent <= uintptr_t(b->p), a, uintptr_t(b->p));
  }
}

}  // namespace fuzz
