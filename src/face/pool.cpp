// ray_pool_*: the C API of pools. The design note is in pool.hpp.
#include "face/pool.hpp"
#include "debug/hooks.hpp"

#include <errno.h>

#include <new>

#include "arena/span_heap.hpp"
#include "face/arena_internal.hpp"
#include "slab/block.hpp"
#include "slab/slab.hpp"
#include "support/error.hpp"

using namespace ray;

namespace {

// Default-arena pools take slabs from the global span heap. What they give back is decommitted
// at once (a slab empties rarely, and a program that frees its pool's objects expects the RSS
// back) and loses its huge-page advice first. The rest is the global source's.
Span *global_acquire(void *ctx, size_t slices, size_t align, bool commit, bool *zeroed) {
  return kGlobalSource.acquire(ctx, slices, align, commit, zeroed);
}
void global_release(void *, Span *s, bool moved) {
  span_drop_huge_advice(s);
  if (moved)
    span_free_moved(s);
  else
    span_free(s, /*decommit_now=*/true);
}
bool global_extend(void *ctx, Span *s, size_t slices, bool *tail_zeroed) {
  return kGlobalSource.extend(ctx, s, slices, tail_zeroed);
}
void global_shrink(void *ctx, Span *s, size_t slices) {
  kGlobalSource.shrink(ctx, s, slices);
}
bool global_set_committed(void *ctx, Span *s, size_t slices, bool *zeroed) {
  return kGlobalSource.set_committed(ctx, s, slices, zeroed);
}
const SpanSource kPoolGlobalSource = {global_acquire, global_release,       global_extend,
                                      global_shrink,  global_set_committed, nullptr};

// A new slab, sized with the pool: it doubles each time up to kPoolMaxSlabBytes, and holds at
// least 8 objects (1 for objects above a slice), so the tail waste stays under 1/8.
Span *new_slab(ray_pool *p) {
  size_t bytes = p->next_slab_bytes;
  size_t min_objects = p->block_size <= kSliceSize ? 8 : 1;
  if (bytes < p->block_size * min_objects) bytes = p->block_size * min_objects;
  size_t slices = slices_for(bytes);
  bool huge = (slices << kSliceShift) == kPoolMaxSlabBytes;
  size_t align = p->align > kSliceSize ? p->align : kSliceSize;
  if (huge && align < kPoolMaxSlabBytes) align = kPoolMaxSlabBytes;
  Heap *h = &p->heap;
  Span *s = h->source->acquire(h->source->ctx, slices, align, true, nullptr);
  if (!s) return nullptr;
  slab_init_sized(s, p->block_size, h);
  if (huge) {
    os::advise_huge(reinterpret_cast<void *>(s->start), kPoolMaxSlabBytes, true);
    s->flags |= kSpanHuge;
  }
  if (p->next_slab_bytes < kPoolMaxSlabBytes) p->next_slab_bytes *= 2;
  return s;
}

// The front slab had no free slot: find one (moving full slabs out of the way, so each slab is
// looked at once per time it fills: O(1) amortised), or take a new slab.
RAY_NOINLINE void *alloc_slow(ray_pool *p) {
  Heap *h = &p->heap;
  SpanQueue &q = h->bins[0];
  for (Span *s = q.head; s;) {
    Span *next = s->next;
    if (!s->free) slab_extend(s);
    if (s->free) {
      if (q.head != s) {
        queue_remove(q, s);
        queue_push_front(q, s);
      }
      return slab_take_block(s);
    }
    move_to_full(h, s);
    s = next;
  }
  Span *s = new_slab(p);
  if (!s) {
    errno = ENOMEM;
    return nullptr;
  }
  slab_extend(s);
  queue_push_front(q, s);
  return slab_take_block(s);
}

// The arena refused a slab: let on_oom free memory and retry (no lock held here).
RAY_COLD void *alloc_after_oom(ray_pool *p) {
  for (int oom_calls = 0;;) {
    if (!arena_retry_after_oom(p->arena, &oom_calls)) return nullptr;
    HeapLock hl(&p->heap);
    if (void *obj = alloc_slow(p)) return obj;
  }
}

// The pool's slab of `obj`, or nullptr if `obj` is not the start of one of its blocks.
Span *slab_of_object(ray_pool *p, const void *obj) {
  if (!in_reservation(obj)) return nullptr;
  Span *s = span_of(obj);
  if (s->kind != SpanKind::Slab || s->heap.load(std::memory_order_relaxed) != &p->heap ||
      s->size_class != 0 || !slab_block_start(s, obj))
    return nullptr;
  return s;
}

// Give every slab back (destroy): the source decommits it at once (both kinds do). Other
// classes can only be there if realloc() was called on a pool object (outside the contract):
// they go too.
void release_all_slabs(ray_pool *p) {
  Heap *h = &p->heap;
  auto drain = [h](SpanQueue &q) {
    drop_huge_advice_all<&Span::next>(q.head);
    for (Span *s = q.head; s;) {
      Span *next = s->next;
      s->next = s->prev = nullptr;
      s->heap.store(nullptr, std::memory_order_relaxed);
      h->source->release(h->source->ctx, s, false);
      s = next;
    }
    q = SpanQueue{};
  };
  for (SpanQueue &q : h->bins) drain(q);
  drain(h->full);
}

// ---- visit ----
// Counts the pool's object slabs; fills `out` with up to `room` of them.
size_t list_slabs(ray_pool *p, Span **out, size_t room) {
  size_t n = 0;
  for (SpanQueue *q : {&p->heap.bins[0], &p->heap.full}) {
    for (Span *s = q->head; s; s = s->next) {
      if (s->size_class != 0) continue;
      if (n < room) out[n] = s;
      n++;
    }
  }
  return n;
}

// Scratch memory for visit, from the calling thread's heap (never the pool's arena).
void *scratch_alloc(size_t bytes) {
  Heap *h = thread_heap();
  return h ? heap_malloc(bytes) : nullptr;
}

}  // namespace

namespace ray {

int pool_geometry(size_t obj_size, size_t *align, size_t *block_size) {
  size_t a = *align;
  if (obj_size == 0 || (a != 0 && !is_pow2(a))) return EINVAL;
  // Default: the largest power of two dividing the size (no type of that size needs more),
  // which costs nothing: blocks are packed at obj_size.
  if (a == 0) a = obj_size & (~obj_size + 1);
  if (a < sizeof(Block)) a = sizeof(Block);  // a free slot holds a link
  if (a > kMaxAlign || obj_size > kPoolMaxObject) return ENOMEM;
  *align = a;
  *block_size = align_up(obj_size, a);
  return 0;
}

}  // namespace ray

extern "C" {

RAY_API ray_pool *ray_pool_new(size_t obj_size, size_t align, ray_arena *arena) {
  if (arena && !arena_valid(arena)) {
    errno = EINVAL;
    return nullptr;
  }
  size_t block_size;
  if (int err = pool_geometry(obj_size, &align, &block_size)) {
    errno = err;
    return nullptr;
  }
  // The handle lives in the arena, so reset/destroy take it with everything else.
  void *mem = ray_arena_malloc(arena, sizeof(ray_pool));
  if (!mem) return nullptr;
  auto *p = new (mem) ray_pool();
  heap_init(&p->heap, HeapKind::Arena, kPurposeMalloc, arena ? &arena->source : &kPoolGlobalSource);
  p->heap.arena = arena;
  p->heap.lock = !arena ? &p->own_lock : arena->single_thread ? nullptr : &arena->lock;
  p->arena = arena;
  p->block_size = block_size;
  p->align = align;
  p->next_slab_bytes = kPoolMinSlabBytes;
  p->orphan_next = nullptr;
  p->magic = ray_pool::kMagic;
  if (!arena) {
    p->fork_node.first = &p->own_lock;
    fork_locks_add(&p->fork_node);
  }
  return p;
}

RAY_API void *ray_pool_alloc(ray_pool *p) {
  if (RAY_UNLIKELY(!pool_valid(p))) {
    errno = EINVAL;
    return nullptr;
  }
  {
    HeapLock hl(&p->heap);
#ifdef RAY_STATS
    p->heap.n_malloc++;
#endif
    Span *s = p->heap.bins[0].head;
    void *obj = RAY_LIKELY(s && s->free) ? slab_take_block(s) : alloc_slow(p);
    if (obj) {
      debug_block_live(obj, p->block_size, false);  // debug variant: memcheck sees the object
      return obj;
    }
    if (!p->arena) return nullptr;
  }
  void *obj = alloc_after_oom(p);
  if (obj) debug_block_live(obj, p->block_size, false);
  return obj;
}

RAY_API void ray_pool_free(ray_pool *p, void *obj) {
  if (obj == nullptr) return;
  if (!pool_valid(p)) return report_error(EINVAL, "ray_pool_free: not a live pool", p);
  Span *s = slab_of_object(p, obj);
  if (!s) return report_error(EINVAL, "ray_pool_free: object does not belong to this pool", obj);
  {
    HeapLock hl(&p->heap);
    // Onto the slab's list, so the next alloc reuses the slot (LIFO, cache-hot). A slab that
    // was full or is now empty takes the engine's owner slow path (back to bins[0] / retire).
    Block *b = static_cast<Block *>(obj);
    uint32_t used = s->used.load(std::memory_order_relaxed);
    if (RAY_LIKELY(b != s->free && used != 0)) {  // else: the cheap cases of a double free
      // Debug variant: memcheck treats the object as freed, but for the link stored in it.
      debug_block_dead(obj);
      debug_handed_out(obj, sizeof(Block));
      block_set_next(b, s->free);
      s->free = b;
      s->used.store(--used, std::memory_order_relaxed);
#ifdef RAY_STATS
      p->heap.n_free++;
#endif
      if (RAY_UNLIKELY(used == 0 || s->in_full.load(std::memory_order_relaxed)))
        free_local_slow(&p->heap, s, nullptr);
      return;
    }
  }
  report_error(EINVAL, "ray_pool_free: double free", obj);  // with the lock released
}

RAY_API void ray_pool_visit(ray_pool *p, void (*fn)(void *obj, void *ctx), void *ctx) {
  if (!pool_valid(p) || !fn) return;
  // Snapshot the slab list, then each slab's free slots, under the lock; call fn without it,
  // so fn may free its object (through any path) while the walk goes on.
  size_t count;
  {
    HeapLock hl(&p->heap);
    count = list_slabs(p, nullptr, 0);
  }
  if (count == 0) return;
  auto **slabs = static_cast<Span **>(scratch_alloc(count * sizeof(Span *)));
  if (!slabs) return;
  {
    HeapLock hl(&p->heap);
    size_t now = list_slabs(p, slabs, count);
    if (now < count) count = now;
  }
  uint64_t *bits = nullptr;
  size_t bits_words = 0;
  for (size_t i = 0; i < count; i++) {
    Span *s = slabs[i];
    uintptr_t start;
    size_t capacity, bs = p->block_size;
    {
      HeapLock hl(&p->heap);
      capacity = s->capacity;
      start = s->start;
      size_t words = (capacity + 63) / 64;
      if (words > bits_words) {
        heap_free(bits);
        bits = static_cast<uint64_t *>(scratch_alloc(words * sizeof(uint64_t)));
        bits_words = bits ? words : 0;
        if (!bits) break;
      }
      memset(bits, 0, words * sizeof(uint64_t));
      for (Block *b = s->free; b && block_link_ok(s, b); b = block_next(b)) {
        size_t idx = (uintptr_t(b) - start) / bs;
        bits[idx / 64] |= uint64_t(1) << (idx % 64);
      }
    }
    for (size_t k = 0; k < capacity; k++) {
      if (!(bits[k / 64] >> (k % 64) & 1)) fn(reinterpret_cast<void *>(start + k * bs), ctx);
    }
  }
  heap_free(bits);
  heap_free(slabs);
}

RAY_API void ray_pool_destroy(ray_pool *p) {
  if (!p) return;
  if (!pool_valid(p)) return report_error(EINVAL, "ray_pool_destroy: not a live pool", p);
  if (!p->arena) fork_locks_remove(&p->fork_node);
#ifdef RAY_DEBUG
  // Every object dies with the pool: memcheck must not report them as leaks.
  ray_pool_visit(
      p, [](void *obj, void *) { debug_block_dead(obj); }, nullptr);
#endif
  {
    HeapLock hl(&p->heap);
    release_all_slabs(p);
    p->magic = 0;
  }
  p->~ray_pool();
  heap_free(p);  // an arena pool's handle goes back to its arena under the arena's lock
}

}  // extern "C"
