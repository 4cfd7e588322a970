#include "slab/slab.hpp"

#include "arena/reservation.hpp"
#include "heap/heap.hpp"
#include "slab/size_class.hpp"

namespace ray {

void slab_init(Span *s, unsigned c, Heap *owner) {
  slab_init_sized(s, class_size(c), owner);
  s->size_class = uint8_t(c);
}

void slab_init_sized(Span *s, size_t size, Heap *owner) {
  s->kind = SpanKind::Slab;
  s->size_class = 0;
  s->flags = owner->purpose == kPurposeArray ? kSpanArray : 0;
  s->block_size = uint32_t(size);
  s->block_inverse = ((uint64_t(1) << 42) + size - 1) / size;
  s->reserved_blocks = uint32_t((size_t(s->slice_count) << kSliceShift) / size);
  s->capacity = 0;
  s->free = s->local_free = nullptr;
  s->used.store(0, std::memory_order_relaxed);
  s->thread_free.store(0, std::memory_order_relaxed);
  s->in_full.store(0, std::memory_order_relaxed);
  s->owner = owner;
  s->heap.store(owner, std::memory_order_release);
  map_span(s, true);
}

bool slab_extend(Span *s) {
  uint32_t left = s->reserved_blocks - s->capacity;
  if (left == 0) return false;
  uint32_t n = uint32_t(kPage / s->block_size);
  if (n < 4) n = 4;
  if (n > left) n = left;
  char *first = reinterpret_cast<char *>(s->start) + size_t(s->capacity) * s->block_size;
  Block *head = s->free;  // normally empty; keep what is there behind the new blocks
  for (uint32_t i = n; i-- > 0;) {
    Block *b = reinterpret_cast<Block *>(first + size_t(i) * s->block_size);
    b->next = head;
    head = b;
  }
  s->free = head;
  s->capacity += n;
  return true;
}

void slab_collect(Span *s) {
  if (s->thread_free.load(std::memory_order_relaxed) != 0) {
    Block *list =
        reinterpret_cast<Block *>(s->thread_free.exchange(0, std::memory_order_acquire));
    uint32_t count = 1;
    Block *tail = list;
    while (tail->next) {
      tail = tail->next;
      count++;
    }
    tail->next = s->free;
    s->free = list;
    s->used.store(s->used.load(std::memory_order_relaxed) - count, std::memory_order_relaxed);
  }
  if (s->local_free) {
    if (!s->free) {
      s->free = s->local_free;
    } else {
      Block *tail = s->local_free;
      while (tail->next) tail = tail->next;
      tail->next = s->free;
      s->free = s->local_free;
    }
    s->local_free = nullptr;
  }
}

void slab_remote_free(Span *s, Block *b) {
  uintptr_t old = s->thread_free.load(std::memory_order_relaxed);
  do {
    b->next = reinterpret_cast<Block *>(old);
  } while (!s->thread_free.compare_exchange_weak(old, uintptr_t(b), std::memory_order_seq_cst,
                                                 std::memory_order_relaxed));
  // Pairs with the owner's in_full store + thread_free load (heap.cpp: move_to_full): either
  // the owner sees our block, or we see in_full and wake it.
  if (s->in_full.load(std::memory_order_seq_cst)) {
    if (Heap *h = s->heap.load(std::memory_order_acquire))
      h->remote_hint.store(true, std::memory_order_release);
  }
}

}  // namespace ray
