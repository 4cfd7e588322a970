#include "heap/abandon.hpp"

#include "slab/slab.hpp"

namespace ray {
namespace {
SpinLock g_lock;
Span *g_list[2];  // per HeapPurpose, linked through `next`
std::atomic<size_t> g_count;
constexpr int kAdoptBatch = 64;
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
      s->heap.store(nullptr, std::memory_order_release);
      LockGuard g(g_lock);
      s->next = g_list[h->purpose];
      g_list[h->purpose] = s;
      g_count.fetch_add(1, std::memory_order_relaxed);
    }
    s = next;
  }
  q = SpanQueue{};
}

void heap_abandon(Heap *h) {
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
      g_list[h->purpose] = s->next;
      s->next = batch;
      batch = s;
      g_count.fetch_sub(1, std::memory_order_relaxed);
    }
    g_lock.unlock();
  }
  while (batch) {
    Span *s = batch;
    batch = s->next;
    s->next = nullptr;
    s->heap.store(h, std::memory_order_release);
    s->owner = h;
    heap_adopt(h, s);
  }
  Span *front = h->bins[c].head;
  return front && front->free ? front : nullptr;
}

void abandon_fork_prepare() { g_lock.lock(); }
void abandon_fork_parent() { g_lock.unlock(); }
void abandon_fork_child() { g_lock.reset(); }

}  // namespace ray
