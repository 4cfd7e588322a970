// A free block and its link. Links are stored encoded: next ^ secret ^ (the slot's address),
// with a per-process random secret. A stray write into a freed block (use after free) or a
// forged link therefore decodes to an address outside its slab, which the pop checks before
// following it: corruption is reported, never followed. The cost is a few instructions per
// malloc/free (measured in bench/RESULTS.md).
#pragma once
#include <cstdint>

#include "arena/layout.hpp"
#include "arena/span.hpp"

// On unless the build says otherwise, so code that includes engine headers from outside the
// library (tests) agrees with it.
#ifndef RAY_HARDEN
#define RAY_HARDEN 1
#endif

namespace ray {

struct Block {
  uintptr_t next_enc;  // use block_next / block_set_next
};

extern uintptr_t g_block_secret;
extern uintptr_t g_mark_secret;  // for free marks (below)
// Seed the secret from the kernel's AT_RANDOM bytes (no syscall, no allocation). Called once
// by engine_init, before the first slab exists.
void block_secret_init();

#if RAY_HARDEN
RAY_INLINE Block *block_next(const Block *b) {
  return reinterpret_cast<Block *>(b->next_enc ^ g_block_secret ^ uintptr_t(b));
}
RAY_INLINE void block_set_next(Block *b, const Block *next) {
  b->next_enc = uintptr_t(next) ^ g_block_secret ^ uintptr_t(b);
}
// A decoded link is fine if it ends the list or points into the slab.
RAY_INLINE bool block_link_ok(const Span *s, const Block *next) {
  return ((uintptr_t(next) - s->start) >> kSliceShift) < s->slice_count || next == nullptr;
}
#else  // -DRAYALLOC_HARDENED=OFF: plain links, no checks
RAY_INLINE Block *block_next(const Block *b) {
  return reinterpret_cast<Block *>(b->next_enc);
}
RAY_INLINE void block_set_next(Block *b, const Block *next) {
  b->next_enc = uintptr_t(next);
}
RAY_INLINE bool block_link_ok(const Span *, const Block *) {
  return true;
}
#endif
// Free marks. A block on its owner's lists (`free`, built by slab_extend or freed by the owner)
// also carries a mark in its second word, and every pop from a heap's slab clears it, so a
// live block never shows one. Compaction then finds a slab's free blocks in one pass over the
// slab in address order instead of chasing the free list (random order: a cache miss per
// block). The mark depends on a secret of its own and on the block's address, so neither a
// program's data nor a moved copy of a mark passes for one, and a mark read through a use
// after free tells nothing about the links' secret. Blocks other threads free are not marked:
// slab_collect flags their slab (`free_unmarked`) and compaction walks that slab's list instead.
// Pool slabs are never compacted, and a block of one word (a pool's) is never marked: the mark
// would land on the next block.
RAY_INLINE uintptr_t block_free_mark(const void *b) {
  return g_mark_secret ^ uintptr_t(b);
}
RAY_INLINE void block_mark_free(Block *b) {
  reinterpret_cast<uintptr_t *>(b)[1] = block_free_mark(b);
}
// For paths that may free into a pool slab, whose blocks may be one word.
RAY_INLINE void block_mark_free_in(const Span *s, Block *b) {
  if (s->block_size >= 2 * sizeof(uintptr_t)) block_mark_free(b);
}
RAY_INLINE void block_clear_mark(void *b) {
  static_cast<uintptr_t *>(b)[1] = 0;
}
// Report a corrupted free list of `s` at block `b` (does not return unless a handler does).
void block_list_corrupt(const Span *s, const Block *b);
// The pop of `b` found a corrupt link: report it, cut the list after `b`, and hand out `b`.
// A tail call from the fast path, so the check costs no register saves there.
void *block_pop_corrupt(Span *s, Block *b);

}  // namespace ray
