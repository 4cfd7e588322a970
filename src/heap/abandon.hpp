// Abandoned slabs: when a thread exits, slabs that still hold live blocks lose their owner and
// wait here; other threads of the same purpose adopt them on their slow path, so memory of
// exited threads is reused instead of lost.
#pragma once
#include "heap/heap.hpp"

namespace ray {

// Give up every slab of `h` (thread exit). Empty slabs go back to the span heap.
void heap_abandon(Heap *h);
// Adopt abandoned slabs into `h`; returns one of class c with a free block, if any.
Span *reclaim_abandoned(Heap *h, unsigned c);
// Free block `b` of abandoned slab `s` (any thread). The calling thread adopts the slab (one
// lock per slab; later frees into it are local, and an emptied slab goes back at once); a
// thread without heaps frees in place under the lock. False if `s` is not abandoned (it was
// adopted meanwhile). Counts nothing: the caller counts the free (statistics variant).
bool abandoned_free(Span *s, Block *b);

void abandon_fork_prepare();
void abandon_fork_parent();
void abandon_fork_child();

}  // namespace ray
