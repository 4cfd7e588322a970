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

// Sparse slabs give pages back. A slab is cut into at most 32 chunks of slab_chunk_bytes (a
// multiple of the page size). Compaction decommits every chunk that no live block touches and
// drops the free blocks touching such a chunk from the free list; so a block that touches a
// decommitted chunk is always free and on no list, and slab_recommit can hand them all back.
// Both are owner-only and keep `used` unchanged.
// (slab_chunk_bytes is in arena/span.hpp: the span heap settles the accounting on release.)
// slab_compact.cpp. The owner compacts when `used` falls to `slab.compact_at`, which starts at
// slab_first_compact_at and halves after each pass.
// Compacts up to kCompactBatch slabs. Each slab's free blocks are found by their free marks
// (slab/block.hpp) in one pass; those whose marks cannot be trusted have their free lists
// walked together, so the walks (chains of cache misses) overlap. Kept small: each slab's
// block set takes 512 bytes of the caller's stack.
constexpr unsigned kCompactBatch = 4;
void slab_compact_batch(Span *const *slabs, unsigned k);
void slab_recommit(Span *s);
// Slabs compacted so far, by how their free blocks were found: by their marks, or by walking
// the list (tests; relaxed counts).
struct CompactCounts {
  uint64_t scanned, walked;
};
CompactCounts slab_compact_counts();
uint32_t slab_first_compact_at(const Span *s);

}  // namespace ray
