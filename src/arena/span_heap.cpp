#include "arena/span_heap.hpp"

#include <errno.h>

#include "os/os.hpp"
#include "support/lock.hpp"

namespace ray {
namespace {

constexpr int kBins = 48;

SpinLock g_lock;
Span *g_bins[kBins];
uint64_t g_bin_mask;
Span *g_lru_head, *g_lru_tail;  // free spans that may hold committed slices, oldest first
size_t g_top = 1;               // slice 0 is the dummy and never handed out
std::atomic<size_t> g_committed;
std::atomic<size_t> g_in_use;
SpanHeapConfig g_cfg;

int bin_of(size_t n) {
  if (n <= 16) return int(n) - 1;
  return 12 + (63 - __builtin_clzll(n));
}

// ---- commit bitmap ----
bool bit(size_t i) { return (g_res.commit_bits[i >> 6] >> (i & 63)) & 1; }
void set_bit(size_t i, bool on) {
  uint64_t m = uint64_t(1) << (i & 63);
  if (on) g_res.commit_bits[i >> 6] |= m;
  else g_res.commit_bits[i >> 6] &= ~m;
}
size_t count_committed(size_t first, size_t n) {
  size_t c = 0;
  for (size_t i = first; i < first + n; i++) c += bit(i);
  return c;
}

// Commit every uncommitted slice in [first, first+n). False (nothing changed) on failure.
bool commit_range(size_t first, size_t n) {
  size_t i = first, end = first + n;
  while (i < end) {
    if (bit(i)) { i++; continue; }
    size_t j = i;
    while (j < end && !bit(j)) j++;
    if (!os::commit(reinterpret_cast<void *>(slice_addr(i)), (j - i) << kSliceShift)) {
      errno = ENOMEM;
      return false;
    }
    for (size_t k = i; k < j; k++) set_bit(k, true);
    g_committed.fetch_add((j - i) << kSliceShift, std::memory_order_relaxed);
    i = j;
  }
  return true;
}

void decommit_range(size_t first, size_t n) {
  size_t i = first, end = first + n;
  while (i < end) {
    if (!bit(i)) { i++; continue; }
    size_t j = i;
    while (j < end && bit(j)) j++;
    // If the OS refuses, the pages stay resident but are still ours: count them as given back
    // only when it worked.
    if (os::decommit(reinterpret_cast<void *>(slice_addr(i)), (j - i) << kSliceShift)) {
      for (size_t k = i; k < j; k++) set_bit(k, false);
      g_committed.fetch_sub((j - i) << kSliceShift, std::memory_order_relaxed);
    }
    i = j;
  }
}

// ---- lists ----
void lru_remove(Span *s) {
  if (!(s->flags & kSpanInLru)) return;
  (s->lru_prev ? s->lru_prev->lru_next : g_lru_head) = s->lru_next;
  (s->lru_next ? s->lru_next->lru_prev : g_lru_tail) = s->lru_prev;
  s->flags &= uint8_t(~kSpanInLru);
}
void lru_push(Span *s, uint64_t when) {
  s->freed_at_ms = when;
  s->lru_next = nullptr;
  s->lru_prev = g_lru_tail;
  (g_lru_tail ? g_lru_tail->lru_next : g_lru_head) = s;
  g_lru_tail = s;
  s->flags |= kSpanInLru;
}

void bin_remove(Span *s) {
  int b = bin_of(s->slice_count);
  (s->prev ? s->prev->next : g_bins[b]) = s->next;
  if (s->next) s->next->prev = s->prev;
  if (!g_bins[b]) g_bin_mask &= ~(uint64_t(1) << b);
  lru_remove(s);
  unmap_span(s, false);
}

// Make [first, first+n) one free span (kind Free), binned, in the LRU if `dirty`.
Span *insert_free(size_t first, size_t n, bool dirty, uint64_t when) {
  Span *s = &g_res.spans[first];
  s->kind = SpanKind::Free;
  s->slice_count = uint32_t(n);
  s->start = slice_addr(first);
  s->flags = 0;
  s->heap.store(nullptr, std::memory_order_relaxed);
  int b = bin_of(n);
  s->prev = nullptr;
  s->next = g_bins[b];
  if (s->next) s->next->prev = s;
  g_bins[b] = s;
  g_bin_mask |= uint64_t(1) << b;
  if (dirty) lru_push(s, when);
  map_span(s, false);
  return s;
}

// First free span that holds `n` slices starting at a multiple of `align_slices`.
Span *find_fit(size_t n, size_t align_slices, size_t *out_first) {
  for (uint64_t mask = g_bin_mask & (~uint64_t(0) << bin_of(n)); mask; mask &= mask - 1) {
    for (Span *s = g_bins[__builtin_ctzll(mask)]; s; s = s->next) {
      size_t first = span_index(s);
      size_t aligned = align_up(first, align_slices);
      if (aligned + n <= first + s->slice_count) {
        *out_first = aligned;
        return s;
      }
    }
  }
  return nullptr;
}

// How much committed free memory to keep: a quarter of what is in use (so a program churning
// large blocks reuses them without page faults), at least the configured cache, at most 1 GiB.
// As a program tears down, in-use falls and the cache is trimmed with it.
size_t cache_limit() {
  size_t quarter = g_in_use.load(std::memory_order_relaxed) / 4;
  size_t limit = quarter > g_cfg.cache_bytes ? quarter : g_cfg.cache_bytes;
  return limit < (size_t(1) << 30) ? limit : (size_t(1) << 30);
}

void purge_locked(bool all, uint64_t now) {
  size_t limit = cache_limit();
  while (Span *s = g_lru_head) {
    size_t dirty = g_committed.load(std::memory_order_relaxed) -
                   g_in_use.load(std::memory_order_relaxed);
    bool expired = now - s->freed_at_ms >= g_cfg.purge_delay_ms;
    if (!all && !expired && dirty <= limit) break;
    lru_remove(s);
    decommit_range(span_index(s), s->slice_count);
  }
}

void reset_descriptor(Span *s, size_t n) {
  s->slice_count = uint32_t(n);
  s->start = slice_addr(span_index(s));
  s->kind = SpanKind::Unused;
  s->flags = 0;
  s->free = s->local_free = nullptr;
  s->next = s->prev = nullptr;
  s->thread_free.store(0, std::memory_order_relaxed);
  s->heap.store(nullptr, std::memory_order_relaxed);
  s->in_full.store(0, std::memory_order_relaxed);
  s->used.store(0, std::memory_order_relaxed);
  s->owner = nullptr;
}

}  // namespace

void span_heap_configure(const SpanHeapConfig &cfg) { g_cfg = cfg; }

Span *span_alloc(size_t n, size_t align, bool commit, bool *zeroed) {
  size_t align_slices = align > kSliceSize ? align >> kSliceShift : 1;
  if (n == 0 || n > g_res.slice_total) {
    errno = ENOMEM;
    return nullptr;
  }
  uint64_t now = os::now_ms();
  LockGuard guard(g_lock);
  purge_locked(false, now);  // expired free memory goes back on any activity
  size_t first;
  if (Span *s = find_fit(n, align_slices, &first)) {
    size_t sfirst = span_index(s), sn = s->slice_count;
    bool dirty = s->flags & kSpanInLru;
    uint64_t when = s->freed_at_ms;
    bin_remove(s);
    if (first > sfirst) insert_free(sfirst, first - sfirst, dirty, when);
    if (first + n < sfirst + sn) insert_free(first + n, sfirst + sn - first - n, dirty, when);
  } else {
    first = align_up(g_top, align_slices);
    if (first + n > g_res.slice_total) {
      errno = ENOMEM;
      return nullptr;
    }
    if (first > g_top) insert_free(g_top, first - g_top, false, 0);
    g_top = first + n;
  }
  size_t was_committed = count_committed(first, n);
  if (!commit) {
    // Reserved only: whatever was still committed here goes back now, so the span starts
    // with an empty committed prefix.
    decommit_range(first, n);
  } else if (!commit_range(first, n)) {
    insert_free(first, n, was_committed != 0, now);
    return nullptr;
  }
  if (commit) g_in_use.fetch_add(n << kSliceShift, std::memory_order_relaxed);
  if (zeroed) *zeroed = !commit || was_committed == 0;
  Span *s = &g_res.spans[first];
  reset_descriptor(s, n);
  s->capacity = commit ? uint32_t(n) : 0;
  return s;
}

// `in_use_slices`: how many of its slices were counted in use (committed).
static void free_locked(Span *s, size_t in_use_slices, bool decommit_now, uint64_t now) {
  size_t first = span_index(s), n = s->slice_count;
  g_in_use.fetch_sub(in_use_slices << kSliceShift, std::memory_order_relaxed);
  bool dirty = true;
  if (first > 1) {
    Span *left = span_at_slice(first - 1);
    if (left->kind == SpanKind::Free) {
      size_t lfirst = span_index(left);
      bin_remove(left);
      n += first - lfirst;
      first = lfirst;
    }
  }
  if (first + n < g_top) {
    Span *right = span_at_slice(first + n);
    if (right->kind == SpanKind::Free) {
      size_t rn = right->slice_count;
      bin_remove(right);
      n += rn;
    }
  }
  if (decommit_now) {
    decommit_range(first, n);
    dirty = false;
  }
  insert_free(first, n, dirty, now);
}

// Clear the map entries the span's kind had set.
static void unmap_by_kind(Span *s) {
  if (s->kind == SpanKind::Slab) unmap_span(s, true);
  else if (s->kind == SpanKind::Large) unmap_span(s, false);
  s->kind = SpanKind::Unused;
}

void span_free(Span *s, bool decommit_now) {
  uint64_t now = os::now_ms();
  size_t used = span_committed_slices(s);
  LockGuard guard(g_lock);
  unmap_by_kind(s);
  free_locked(s, used, decommit_now, now);
  purge_locked(false, now);
}

void span_free_moved(Span *s) {
  uint64_t now = os::now_ms();
  size_t used = span_committed_slices(s);
  LockGuard guard(g_lock);
  size_t first = span_index(s), n = s->slice_count;
  size_t c = count_committed(first, n);
  for (size_t i = first; i < first + n; i++) set_bit(i, false);
  g_committed.fetch_sub(c << kSliceShift, std::memory_order_relaxed);
  unmap_by_kind(s);
  free_locked(s, used, false, now);
}

bool span_try_extend(Span *s, size_t n, bool *tail_zeroed) {
  size_t first = span_index(s), have = s->slice_count;
  if (n <= have) return true;
  size_t need = n - have, at = first + have;
  LockGuard guard(g_lock);
  if (at == g_top) {
    if (at + need > g_res.slice_total) return false;
    g_top = at + need;
  } else {
    Span *right = span_at_slice(at);
    if (right->kind != SpanKind::Free || right->slice_count < need) return false;
    size_t rn = right->slice_count;
    bool dirty = right->flags & kSpanInLru;
    uint64_t when = right->freed_at_ms;
    bin_remove(right);
    if (rn > need) insert_free(at + need, rn - need, dirty, when);
  }
  size_t was = count_committed(at, need);
  if (!commit_range(at, need)) {
    // Give the slices back exactly as they were found.
    if (at + need == g_top) g_top = at;
    else insert_free(at, need, was != 0, os::now_ms());
    return false;
  }
  g_in_use.fetch_add(need << kSliceShift, std::memory_order_relaxed);
  for (size_t i = at; i < at + need; i++) g_res.spans[i].kind = SpanKind::Unused;
  if (have > 1) g_res.map[at - 1] = 0;  // the old last slice is interior now
  s->slice_count = uint32_t(n);
  s->capacity = uint32_t(n);
  if (tail_zeroed) *tail_zeroed = was == 0;
  return true;
}

void span_shrink(Span *s, size_t n) {
  size_t first = span_index(s), have = s->slice_count;
  if (n == 0 || n >= have) return;
  uint64_t now = os::now_ms();
  LockGuard guard(g_lock);
  Span *tail = &g_res.spans[first + n];
  if (g_res.map[first + have - 1] == first) g_res.map[first + have - 1] = 0;
  reset_descriptor(tail, have - n);
  s->slice_count = uint32_t(n);
  s->capacity = uint32_t(n);
  free_locked(tail, have - n, false, now);
  purge_locked(false, now);
}

bool span_set_committed(Span *s, size_t k, bool *zeroed) {
  size_t first = span_index(s), have = s->capacity;
  if (k > s->slice_count) return false;
  if (zeroed) *zeroed = true;
  if (k == have) return true;
  LockGuard guard(g_lock);
  if (k > have) {
    size_t was = count_committed(first + have, k - have);
    if (!commit_range(first + have, k - have)) return false;
    if (zeroed) *zeroed = was == 0;
    g_in_use.fetch_add((k - have) << kSliceShift, std::memory_order_relaxed);
  } else {
    decommit_range(first + k, have - k);
    g_in_use.fetch_sub((have - k) << kSliceShift, std::memory_order_relaxed);
  }
  s->capacity = uint32_t(k);
  return true;
}

void span_purge(bool all) {
  LockGuard guard(g_lock);
  purge_locked(all, os::now_ms());
}

size_t span_heap_committed() { return g_committed.load(std::memory_order_relaxed); }
size_t span_heap_in_use() { return g_in_use.load(std::memory_order_relaxed); }
size_t span_heap_top() {
  LockGuard guard(g_lock);
  return g_top;
}

void span_heap_fork_prepare() { g_lock.lock(); }
void span_heap_fork_parent() { g_lock.unlock(); }
void span_heap_fork_child() { g_lock.reset(); }

}  // namespace ray
