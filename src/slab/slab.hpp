// slab: a span cut into blocks of one size class.
//
// Owns: building the free list lazily (a page's worth at a time, so an untouched slab costs no
// RSS), and merging the owner's local frees and other threads' frees back into `free`.
// Only the owner heap calls these.
#pragma once
#include "arena/span.hpp"

namespace ray {

void slab_init(Span *s, unsigned size_class, Heap *owner);
// A slab of blocks of exactly `block_size` bytes (pools); its size_class is 0.
void slab_init_sized(Span *s, size_t block_size, Heap *owner);
// Build more never-used blocks into `free`. False when the slab is fully built.
bool slab_extend(Span *s);
// Move `local_free` and `thread_free` into `free`, lowering `used` by the remote count.
void slab_collect(Span *s);
// Push a block freed by another thread (lock-free; any thread).
void slab_remote_free(Span *s, Block *b);

}  // namespace ray
