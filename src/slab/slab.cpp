#include "slab/slab.hpp"

#include <errno.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>

#include "slab/block.hpp"
#include "support/error.hpp"
#include "support/stats.hpp"

#include "arena/reservation.hpp"
#include "heap/heap.hpp"
#include "slab/size_class.hpp"

namespace ray {

uintptr_t g_block_secret, g_mark_secret;

namespace {
uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

// Two secrets of their own, from getrandom: a freed block shows its free mark (block.hpp), so
// the mark's secret must tell nothing about the links' one, and neither may be derived from
// AT_RANDOM, whose bytes are also the stack protector's canary. Without getrandom (ENOSYS, or
// no entropy yet), AT_RANDOM mixed with the clock and the address layout: not recoverable
// from a secret, since the clock's part is unknown.
void block_secret_init() {
  uint64_t r[2] = {0, 0};
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != ssize_t(sizeof r)) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // the vDSO: no allocation, no syscall
    uint64_t seed = uint64_t(now.tv_sec) * 1000000000ull + uint64_t(now.tv_nsec);
    seed ^= uint64_t(uintptr_t(&r));
    // AT_RANDOM's 16 bytes need not be 8-aligned (UBSan, found by fuzz/): copy, don't load.
    if (const void *a = reinterpret_cast<const void *>(getauxval(AT_RANDOM))) {
      uint64_t x[2];
      __builtin_memcpy(x, a, sizeof x);
      seed ^= mix64(x[0] ^ mix64(x[1]));
    }
    r[0] = mix64(seed + 0x9e3779b97f4a7c15ull);
    r[1] = mix64(seed + 2 * 0x9e3779b97f4a7c15ull);
  }
  g_block_secret = uintptr_t(r[0]) | 1;
  g_mark_secret = uintptr_t(r[1]);
}

void block_list_corrupt(const Span *s, const Block *b) {
  report_error(EFAULT, "free list corrupted (write after free?) in the slab of block", b);
  (void)s;
}

RAY_COLD void *block_pop_corrupt(Span *s, Block *b) {
  block_list_corrupt(s, b);
  s->free = nullptr;  // the rest of the list cannot be trusted: leak it rather than follow it
  s->used.store(s->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return b;
}

void slab_init(Span *s, unsigned c, Heap *owner) {
  slab_init_sized(s, class_size(c), owner);
  s->size_class = uint8_t(c);
  s->slab.compact_at = slab_first_compact_at(s);
}

void slab_init_sized(Span *s, size_t size, Heap *owner) {
  span_set_kind(s, SpanKind::Slab);
  s->size_class = 0;
  s->slab.compact_at = 0;  // pool slabs only go back whole; slab_init enables compaction
  s->slab.decommitted_mask = 0;
  s->sparse_mark = 0;  // not queued for compaction (heap.cpp: note_sparse)
  s->flags = owner->purpose == kPurposeArray ? kSpanArray : 0;
  s->block_size = uint32_t(size);
  s->block_inverse = ((uint64_t(1) << 42) + size - 1) / size;
  s->reserved_blocks = uint32_t((size_t(s->slice_count) << kSliceShift) / size);
  s->capacity = 0;
  s->free = s->local_free = nullptr;
  s->free_unmarked = false;
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
    block_set_next(b, head);
    block_mark_free_in(s, b);
    head = b;
  }
  s->free = head;
  s->capacity += n;
  return true;
}

// Walk a list to its tail, counting blocks and checking every link.
static Block *list_tail(const Span *s, Block *b, uint32_t *count) {
  uint32_t n = 1;
  for (Block *next; (next = block_next(b)) != nullptr; b = next, n++) {
    if (RAY_UNLIKELY(!block_link_ok(s, next))) {
      block_list_corrupt(s, b);
      block_set_next(b, nullptr);  // a handler returned: cut the list here
      break;
    }
  }
  if (count) *count = n;
  return b;
}

// A slab's thread_free word: the head of the stack of blocks other threads freed, with their
// count in the top 16 bits, so the owner takes both with one exchange and never walks the
// stack (a walk is a chain of cache misses: each link was last written by another core).
// User-space addresses fit in 48 bits (engine_init checks the reservation does), and a class
// slab has at most 4096 blocks (pool slabs, the only bigger ones, get no remote frees).
constexpr unsigned kRemoteCountShift = 48;
constexpr uintptr_t kRemotePtrMask = (uintptr_t(1) << kRemoteCountShift) - 1;
constexpr bool class_slabs_fit_count() {
  for (unsigned c = 1; c < kNumClasses; c++)
    if (slab_slices(c) * kSliceSize / class_size(c) >= (size_t(1) << (64 - kRemoteCountShift)))
      return false;
  return true;
}
static_assert(class_slabs_fit_count(), "a slab's remote count must fit in thread_free's top bits");

void slab_collect(Span *s) {
  if (s->thread_free.load(std::memory_order_relaxed) != 0) {
    uintptr_t word = s->thread_free.exchange(0, std::memory_order_acquire);
    Block *list = reinterpret_cast<Block *>(word & kRemotePtrMask);
    uint32_t count = uint32_t(word >> kRemoteCountShift);
    // With blocks still on `free`, the stack goes in front of them: only then is it walked
    // (its links checked on the way; the pops check them otherwise).
    if (s->free) block_set_next(list_tail(s, list, nullptr), s->free);
    s->free = list;
    s->free_unmarked = true;
    s->used.store(s->used.load(std::memory_order_relaxed) - count, std::memory_order_relaxed);
    stats_remote_collected(size_t(count) * s->block_size);
  }
  if (s->local_free) {
    block_set_next(list_tail(s, s->local_free, nullptr), s->free);
    s->free = s->local_free;
    s->local_free = nullptr;
    s->free_unmarked = true;
  }
}

void slab_remote_free(Span *s, Block *b) {
  stats_remote_pushed(s->block_size);  // for the exact `allocated` of ray_stats_get
  uintptr_t old = s->thread_free.load(std::memory_order_relaxed);
  uintptr_t word;
  do {
    block_set_next(b, reinterpret_cast<Block *>(old & kRemotePtrMask));
    word = uintptr_t(b) | ((old >> kRemoteCountShift) + 1) << kRemoteCountShift;
  } while (!s->thread_free.compare_exchange_weak(old, word, std::memory_order_seq_cst,
                                                 std::memory_order_relaxed));
  // Pairs with the owner's in_full store + thread_free load (heap.cpp: move_to_full): either
  // the owner sees our block, or we see in_full and wake it.
  if (s->in_full.load(std::memory_order_seq_cst)) {
    if (Heap *h = s->heap.load(std::memory_order_acquire))
      h->remote_hint.store(true, std::memory_order_release);
  }
}

}  // namespace ray
