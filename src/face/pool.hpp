// Pools (ray_pool_*): many objects of one size, freed in any order.
//
// Owns: a Heap of kind Arena used as one slab queue: bins[0] holds slabs with free slots (front =
// current), `full` the slabs without. Slabs are slab_init_sized() spans of exactly `block_size`
// blocks (obj_size rounded to align): no per-object header, the block is the object.
//
// Invariants:
//  - Every block lives in a slab of this heap; a slab is in bins[0] or in `full` (in_full = 1).
//    So visit and destroy walk slabs, never objects: destroy is O(slabs).
//  - Frees go through the engine's arena-heap path (heap.cpp free_slab_block: owner kind Arena
//    -> free_local_slow under the heap lock), from any thread and from free(): onto the slab's
//    `free` list (LIFO: the slot is reused first), a full slab back into bins[0], an empty slab
//    that is not the current one back to the arena at once (retire).
//  - The lock is the arena's (pools of a user arena), the pool's own (default arena) or none
//    (RAY_ARENA_SINGLE_THREAD). Pool slabs never see thread_free/local_free: every free is a
//    locked owner free.
//  - Slabs grow geometrically with the pool (64 KiB up to kMaxSlabBytes), so a big pool is a
//    few hundred slabs; a slab of kMaxSlabBytes is aligned to it and backed by transparent huge
//    pages (fewer TLB misses for pointer-chasing nodes, fast bulk release).
#pragma once
#include "face/user_arena.hpp"

struct ray_pool {
  static constexpr uint32_t kMagic = 0x504f4f4c;  // "POOL"
  ray::Heap heap;
  ray::SpinLock own_lock;  // default-arena pools
  ray::ForkLocks fork_node;
  ray_arena *arena;  // nullptr: the default arena
  size_t block_size;
  size_t align;
  size_t next_slab_bytes;  // size of the next slab this pool takes
  uint32_t magic;
  ray_pool *orphan_next;  // pool_thread.cpp: pools of exited threads, waiting for adoption
};

namespace ray {

constexpr size_t kPoolMinSlabBytes = kSliceSize;
constexpr size_t kPoolMaxSlabBytes = size_t(2) << 20;  // a transparent huge page
constexpr size_t kPoolMaxObject = size_t(1) << 30;

inline bool pool_valid(const ray_pool *p) {
  return p && p->magic == ray_pool::kMagic;
}
// The effective alignment and block size of a pool of `obj_size` objects aligned to *align
// (0: default). Returns 0, EINVAL (bad arguments) or ENOMEM (too big).
int pool_geometry(size_t obj_size, size_t *align, size_t *block_size);

}  // namespace ray
