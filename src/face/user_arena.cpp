// User arenas: the span source with limit, callbacks and span list; ray_arena_* and the
// arena_internal.hpp contract. The design note is in user_arena.hpp.
#include "face/user_arena.hpp"

#include <errno.h>

#include <new>

#include "arena/span_heap.hpp"
#include "face/arena_internal.hpp"
#include "slab/block.hpp"
#include "support/error.hpp"

using namespace ray;

namespace {

// The counters lock: none in a single-thread arena.
class AcctGuard {
 public:
  explicit AcctGuard(ray_arena *a) : l_(a->single_thread ? nullptr : &a->acct) {
    if (l_) l_->lock();
  }
  ~AcctGuard() {
    if (l_) l_->unlock();
  }
  AcctGuard(const AcctGuard &) = delete;
  AcctGuard &operator=(const AcctGuard &) = delete;

 private:
  SpinLock *l_;
};

void list_push(ray_arena *a, Span *s) {
  s->lru_prev = nullptr;
  s->lru_next = a->spans;
  if (a->spans) a->spans->lru_prev = s;
  a->spans = s;
}
void list_remove(ray_arena *a, Span *s) {
  (s->lru_prev ? s->lru_prev->lru_next : a->spans) = s->lru_next;
  if (s->lru_next) s->lru_next->lru_prev = s->lru_prev;
  s->lru_next = s->lru_prev = nullptr;
}

size_t committed_bytes(const Span *s) {
  return span_committed_slices(s) << kSliceShift;
}
void *addr_at(const Span *s, size_t slices) {
  return reinterpret_cast<void *>(s->start + (slices << kSliceShift));
}

void report_commit(ray_arena *a, void *addr, size_t bytes) {
  if (bytes && a->opts.on_commit) a->opts.on_commit(a->opts.ctx, addr, bytes);
}
void report_decommit(ray_arena *a, void *addr, size_t bytes) {
  if (bytes && a->opts.on_decommit) a->opts.on_decommit(a->opts.ctx, addr, bytes);
}

// Take `bytes` of the commit budget: false if that would pass the limit.
bool budget_take(ray_arena *a, size_t bytes) {
  AcctGuard g(a);
  if (a->opts.limit && (bytes > a->opts.limit || a->committed > a->opts.limit - bytes))
    return false;
  a->committed += bytes;
  return true;
}
void budget_give(ray_arena *a, size_t bytes) {
  AcctGuard g(a);
  a->committed -= bytes;
}

// The last commit this thread's arena sources refused, for arena_retry_after_oom.
__thread ray_arena *tls_oom_arena;
__thread size_t tls_oom_bytes;

// Commit `bytes` for the arena with `commit_fn` (the span-heap work) within the limit. On
// failure the refusal is noted for the API call that asked (arena_retry_after_oom): on_oom is
// never called from here, where heap locks may be held.
template <class Fn>
bool commit_within_limit(ray_arena *a, size_t bytes, Fn commit_fn) {
  if (budget_take(a, bytes)) {
    if (commit_fn()) return true;
    budget_give(a, bytes);
  }
  tls_oom_arena = a;
  tls_oom_bytes = bytes;
  errno = ENOMEM;
  return false;
}

// ---- the SpanSource of an arena (ctx: the ray_arena) ----
Span *arena_acquire(void *ctx, size_t slices, size_t align, bool commit, bool *zeroed) {
  auto *a = static_cast<ray_arena *>(ctx);
  size_t bytes = commit ? slices << kSliceShift : 0;
  Span *s = nullptr;
  if (!commit_within_limit(a, bytes, [&] {
        s = span_alloc(slices, align, commit, zeroed);
        return s != nullptr;
      }))
    return nullptr;
  {
    AcctGuard g(a);
    list_push(a, s);
    a->reserved += slices << kSliceShift;
  }
  report_commit(a, addr_at(s, 0), bytes);
  return s;
}

void arena_release(void *ctx, Span *s, bool pages_moved) {
  auto *a = static_cast<ray_arena *>(ctx);
  size_t bytes = committed_bytes(s);
  void *addr = addr_at(s, 0);
  {
    AcctGuard g(a);
    list_remove(a, s);
    a->committed -= bytes;
    a->reserved -= size_t(s->slice_count) << kSliceShift;
  }
  span_drop_huge_advice(s);
  if (pages_moved)
    span_free_moved(s);
  else
    span_free(s, /*decommit_now=*/true);
  report_decommit(a, addr, bytes);
}

bool arena_extend(void *ctx, Span *s, size_t slices, bool *tail_zeroed) {
  auto *a = static_cast<ray_arena *>(ctx);
  size_t have = s->slice_count;
  if (slices <= have) return true;
  size_t bytes = (slices - have) << kSliceShift;
  if (!commit_within_limit(a, bytes, [&] { return span_try_extend(s, slices, tail_zeroed); }))
    return false;
  {
    AcctGuard g(a);
    a->reserved += bytes;
  }
  report_commit(a, addr_at(s, have), bytes);
  return true;
}

void arena_shrink(void *ctx, Span *s, size_t slices) {
  auto *a = static_cast<ray_arena *>(ctx);
  size_t have = s->slice_count, was_committed = span_committed_slices(s);
  if (slices == 0 || slices >= have) return;
  span_shrink(s, slices, /*decommit_now=*/true);
  size_t gone = was_committed > slices ? (was_committed - slices) << kSliceShift : 0;
  {
    AcctGuard g(a);
    a->committed -= gone;
    a->reserved -= (have - slices) << kSliceShift;
  }
  report_decommit(a, addr_at(s, slices), gone);
}

bool arena_set_committed(void *ctx, Span *s, size_t slices, bool *zeroed) {
  auto *a = static_cast<ray_arena *>(ctx);
  size_t have = s->capacity;
  if (slices > have) {
    size_t bytes = (slices - have) << kSliceShift;
    if (!commit_within_limit(a, bytes, [&] { return span_set_committed(s, slices, zeroed); }))
      return false;
    report_commit(a, addr_at(s, have), bytes);
    return true;
  }
  if (!span_set_committed(s, slices, zeroed)) return false;
  size_t bytes = (have - slices) << kSliceShift;
  if (bytes) {
    budget_give(a, bytes);
    report_decommit(a, addr_at(s, slices), bytes);
  }
  return true;
}

void init_heaps(ray_arena *a) {
  for (unsigned p = 0; p < 2; p++) {
    heap_init(&a->heaps[p], HeapKind::Arena, HeapPurpose(p), &a->source);
    a->heaps[p].lock = a->single_thread ? nullptr : &a->lock;
    a->heaps[p].arena = a;
  }
}

size_t allocated_bytes(const ray_arena *a) {
  size_t n = 0;
  for (const Span *s = a->spans; s; s = s->lru_next) {
    if (s->kind == SpanKind::Slab)
      n += size_t(s->used.load(std::memory_order_relaxed)) * s->block_size;
    else if (s->kind == SpanKind::Large)
      n += s->large_size;
  }
  return n;
}

// Give every span back (decommitted, reported) and start the heaps afresh. The caller holds
// the heaps' lock; nothing else may use the arena meanwhile (reset/destroy invalidate all).
void release_all(ray_arena *a) {
  size_t allocated = allocated_bytes(a);
  if (allocated > a->peak_allocated) a->peak_allocated = allocated;
  Span *s;
  {
    AcctGuard g(a);
    s = a->spans;
    a->spans = nullptr;
  }
  drop_huge_advice_all<&Span::lru_next>(s);
  while (s) {
    Span *next = s->lru_next;  // span_free reuses the links
    size_t bytes = committed_bytes(s);
    void *addr = addr_at(s, 0);
    {
      AcctGuard g(a);
      a->committed -= bytes;
      a->reserved -= size_t(s->slice_count) << kSliceShift;
    }
    span_free(s, /*decommit_now=*/true);
    report_decommit(a, addr, bytes);
    s = next;
  }
  init_heaps(a);
}

}  // namespace

namespace ray {

bool arena_retry_after_oom(ray_arena *a, int *calls) {
  if (a == nullptr || tls_oom_arena != a) return false;  // not refused by this arena's source
  size_t bytes = tls_oom_bytes;
  tls_oom_arena = nullptr;
  bool again = a->opts.on_oom && *calls < kOomRetries;
  if (again) {
    ++*calls;
    again = a->opts.on_oom(a->opts.ctx, bytes) != 0;
  }
  if (!again) errno = ENOMEM;
  return again;
}

Heap *arena_heap(ray_arena *a, HeapPurpose purpose) {
  if (a) return &a->heaps[purpose];
  Heap *h = thread_heap();
  return h && purpose == kPurposeArray ? h + 1 : h;
}

int arena_fill_stats(ray_arena *a, ray_stats *out) {
  if (!arena_valid(a) || !out) return EINVAL;
  HeapLock hl(&a->heaps[0]);
  AcctGuard g(a);
  size_t allocated = allocated_bytes(a);
  if (allocated > a->peak_allocated) a->peak_allocated = allocated;
  *out = ray_stats{};
  out->reserved = a->reserved;
  out->committed = a->committed;
  out->allocated = allocated;
  out->peak_allocated = a->peak_allocated;
  for (const Heap &h : a->heaps) {
    out->mallocs += h.n_malloc;
    out->frees += h.n_free;
  }
  return 0;
}

}  // namespace ray

extern "C" {

RAY_API ray_arena *ray_arena_new(const ray_arena_opts *opts) {
  if (opts && (opts->flags & ~unsigned(RAY_ARENA_SINGLE_THREAD))) {
    errno = EINVAL;
    return nullptr;
  }
  Heap *th = thread_heap();
  void *mem = th ? heap_malloc_aligned(th, sizeof(ray_arena), 64) : nullptr;
  if (!mem) {
    errno = ENOMEM;
    return nullptr;
  }
  auto *a = new (mem) ray_arena();
  a->opts = opts ? *opts : ray_arena_opts{};
  a->single_thread = a->opts.flags & RAY_ARENA_SINGLE_THREAD;
  a->source =
      SpanSource{arena_acquire, arena_release, arena_extend, arena_shrink, arena_set_committed, a};
  init_heaps(a);
  a->spans = nullptr;
  a->committed = a->reserved = a->peak_allocated = 0;
  a->magic = ray_arena::kMagic;
  if (!a->single_thread) {
    a->fork_node.first = &a->lock;
    a->fork_node.second = &a->acct;
    fork_locks_add(&a->fork_node);
  }
  return a;
}

RAY_API void *ray_arena_malloc(ray_arena *a, size_t size) {
  if (!a) return heap_malloc(size);
  if (!arena_valid(a)) {
    errno = EINVAL;
    return nullptr;
  }
  Heap *h = &a->heaps[kPurposeMalloc];
  if (h->lock == nullptr && size <= kDirectMax) {
    // A single-thread arena: the thread heap's fast path (direct table, pop), no lock.
    Span *s = h->direct[(size + 15) >> 4];
    if (Block *b = s->free) {
      Block *next = block_next(b);
      if (RAY_UNLIKELY(!block_link_ok(s, next))) return block_pop_corrupt(s, b);
      s->free = next;
      s->used.store(s->used.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
#ifdef RAY_STATS
      h->n_malloc++;
#endif
      asan_unpoison(b, s->block_size);
      block_clear_mark(b);
      return b;
    }
  }
  tls_oom_arena = nullptr;  // forget a refusal some earlier call recovered from
  for (int oom_calls = 0;;) {
    void *p = heap_alloc_in(h, size);
    if (p || !arena_retry_after_oom(a, &oom_calls)) {
#ifdef RAY_STATS
      if (p) __atomic_fetch_add(&h->n_malloc, 1, __ATOMIC_RELAXED);  // the lock is not held here
#endif
      return p;
    }
  }
}

RAY_API void ray_arena_reset(ray_arena *a) {
  if (!a) return;
  if (!arena_valid(a)) return report_error(EINVAL, "ray_arena_reset: not a live arena", a);
  HeapLock hl(&a->heaps[0]);
  release_all(a);
}

RAY_API void ray_arena_destroy(ray_arena *a) {
  if (!a) return;
  if (!arena_valid(a)) return report_error(EINVAL, "ray_arena_destroy: not a live arena", a);
  if (!a->single_thread) fork_locks_remove(&a->fork_node);
  {
    HeapLock hl(&a->heaps[0]);
    release_all(a);
    a->magic = 0;
  }
  a->~ray_arena();
  heap_free(a);
}

}  // extern "C"
