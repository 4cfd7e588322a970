// The quarantine: freed debug blocks wait here, filled with kFreeFill, before their memory goes
// back to the engine (delayed reuse). When a block leaves (the oldest first, once the held
// bytes pass RAYALLOC_DEBUG_QUARANTINE or the ring is full; all of them on malloc_trim and at
// exit) its fill and redzone are checked, so a write through a stale pointer is reported as a
// "write after free" naming the block.
//
// Invariants: a held block is still allocated from the engine's point of view (its slab's
// `used` counts it), so nothing reuses it; the held totals are what ray_stats subtracts from
// `allocated` and adds to `frees`. The ring is a fixed array (no allocation) behind one lock
// that is never held while calling out (checks and releases run after it is dropped), and is
// made fork-safe at load time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ray {

// Hold the freed block whose user pointer is `user` (its engine block has `engine_bytes`).
void quarantine_push(uintptr_t user, size_t engine_bytes);
// Check and release every held block.
void quarantine_flush();
size_t debug_quarantine_bytes();
size_t debug_quarantine_blocks();

// debug_malloc.cpp: check a held block's fill and redzone, then give it back to the engine.
void release_freed_block(uintptr_t user);

}  // namespace ray
