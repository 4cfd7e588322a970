#include "heap/abandon.hpp"

#include "slab/slab.hpp"

namespace ray {
namespace {
SpinLock g_lock;
Span *g_list[2];  // per HeapPurpose, doubly linked through `next`/`prev`
std::atomic<size_t> g_count;
constexpr int kAdoptBatch = 64;

// Under g_lock. A listed slab has heap == nullptr and kSpanAbandoned; both change only here,
// under the lock, so a thread holding it knows whether a slab is (still) abandoned.
void list_push(unsigned purpose, Span *s) {
  s->flags |= kSpanAbandoned;
  s->heap.store(nullptr, std::memory_order_release);
  s->prev = nullptr;
  s->next = g_list[purpose];
  if (s->next) s->next->prev = s;
  g_list[purpose] = s;
  g_count.fetch_add(1, std::memory_order_relaxed);
}
void list_remove(unsigned purpose, Span *s) {
  (s->prev ? s->prev->next : g_list[purpose]) = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = nullptr;
  s->flags &= uint8_t(~kSpanAbandoned);
  g_count.fetch_sub(1, std::memory_order_relaxed);
}
}  // namespace

static void abandon_queue(Heap *h, SpanQueue &q) {
  for (Span *s = q.head; s;) {
    Span *next = s->next;
    s->next = s->prev = nullptr;
    slab_collect(s);
    s->in_full.store(0, std::memory_order_relaxed);
    if (s->used.load(std::memory_order_relaxed) == 0) {
      s->heap.store(nullptr, std::memory_order_relaxed);
      h->source->release(h->source->ctx, s, false);
    } else {
      LockGuard g(g_lock);
      list_push(h->purpose, s);
    }
    s = next;
  }
  q = SpanQueue{};
}

void heap_abandon(Heap *h) {
  for (auto &q : h->sparse_queue) q = nullptr;  // every slab leaves this heap
  for (unsigned c = 1; c < kNumClasses; c++) abandon_queue(h, h->bins[c]);
  abandon_queue(h, h->full);
  for (auto &d : h->direct) d = &g_empty_span;
}

Span *reclaim_abandoned(Heap *h, unsigned c) {
  if (g_count.load(std::memory_order_relaxed) == 0 || h->kind != HeapKind::Thread) return nullptr;
  Span *batch = nullptr;
  {
    if (!g_lock.try_lock()) return nullptr;
    for (int i = 0; i < kAdoptBatch && g_list[h->purpose]; i++) {
      Span *s = g_list[h->purpose];
      list_remove(h->purpose, s);
      // Owned from here on: frees that see `h` go the remote way, not to abandoned_free.
      s->heap.store(h, std::memory_order_release);
      s->owner = h;
      s->next = batch;
      batch = s;
    }
    g_lock.unlock();
  }
  while (batch) {
    Span *s = batch;
    batch = s->next;
    s->next = nullptr;
    heap_adopt(h, s);
  }
  Span *front = h->bins[c].head;
  return front && front->free ? front : nullptr;
}

bool abandoned_free(Span *s, Block *b) {
  Heap *me = tls_heap;
  unsigned purpose = (s->flags & kSpanArray) ? kPurposeArray : kPurposeMalloc;
  Heap *adopter = me->kind == HeapKind::Thread ? me + purpose : nullptr;
  {
    LockGuard g(g_lock);
    if (!(s->flags & kSpanAbandoned) || s->heap.load(std::memory_order_relaxed) != nullptr)
      return false;
    list_remove(purpose, s);
    if (!adopter) {
      // A thread without heaps (exiting): free in place; an emptied slab goes back at once.
      slab_collect(s);  // remote frees that raced with the abandonment
      block_set_next(b, s->free);
      block_mark_free_in(s, b);
      s->free = b;
      uint32_t used = s->used.load(std::memory_order_relaxed) - 1;
      s->used.store(used, std::memory_order_relaxed);
      if (used == 0)
        kGlobalSource.release(kGlobalSource.ctx, s, false);
      else
        list_push(purpose, s);
      return true;
    }
    // Adopt it: one lock per slab rather than per block, and the frees that follow (a new
    // thread freeing what an exited one allocated) are local.
    s->heap.store(adopter, std::memory_order_release);
    s->owner = adopter;
  }
  heap_adopt(adopter, s);           // collects; keeps the slab, since `b` still counts as used
  free_local_block(adopter, s, b);  // the caller counts the free
  return true;
}

void abandon_fork_prepare() {
  g_lock.lock();
}
void abandon_fork_parent() {
  g_lock.unlock();
}
void abandon_fork_child() {
  g_lock.reset();
}

}  // namespace ray
