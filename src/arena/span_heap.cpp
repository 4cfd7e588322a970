#include "arena/span_heap.hpp"

#include <errno.h>

#include "debug/asan_poison.hpp"
#include "debug/hooks.hpp"
#include "os/os.hpp"
#include "support/lock.hpp"

namespace ray {
namespace {

constexpr int kBins = 48;

SpinLock g_lock;
// Free spans are binned by size in two sets: [1] those that may hold committed slices (in the
// LRU), [0] those that hold none. Allocation tries the first set first, so freed memory is
// reused while it is still committed instead of faulting in fresh pages and purging the old.
Span *g_bins[2][kBins];
uint64_t g_bin_mask[2];
Span *g_lru_head, *g_lru_tail;  // free spans that may hold committed slices, oldest first
size_t g_top = 1;               // slice 0 is the dummy and never handed out
std::atomic<size_t> g_committed;
std::atomic<size_t> g_in_use;
std::atomic<size_t> g_in_use_peak;  // high-water mark of g_in_use (statistics)
SpanHeapConfig g_cfg;

// Slices [first, first + bytes) are handed out (committed). Every rise of in-use happens under
// g_lock, so the peak needs no compare-exchange. The debug variant tells valgrind the range is
// addressable again (debug/hooks.hpp; nothing in other variants).
void in_use_add(size_t first, size_t bytes) {
  debug_handed_out(reinterpret_cast<void *>(slice_addr(first)), bytes);
  size_t now = g_in_use.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (now > g_in_use_peak.load(std::memory_order_relaxed))
    g_in_use_peak.store(now, std::memory_order_relaxed);
}

int bin_of(size_t n) {
  if (n <= 16) return int(n) - 1;
  return 12 + (63 - __builtin_clzll(n));
}

// ---- commit bitmap ----
bool bit(size_t i) {
  return (g_res.commit_bits[i >> 6] >> (i & 63)) & 1;
}
void set_bit(size_t i, bool on) {
  uint64_t m = uint64_t(1) << (i & 63);
  if (on)
    g_res.commit_bits[i >> 6] |= m;
  else
    g_res.commit_bits[i >> 6] &= ~m;
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
    if (bit(i)) {
      i++;
      continue;
    }
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

// Returns false if the OS kept some of the pages (they stay committed, to be retried).
bool decommit_range(size_t first, size_t n) {
  size_t i = first, end = first + n;
  bool all = true;
  while (i < end) {
    if (!bit(i)) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < end && bit(j)) j++;
    // If the OS refuses, the pages stay resident but are still ours: count them as given back
    // only when it worked.
    if (os::decommit(reinterpret_cast<void *>(slice_addr(i)), (j - i) << kSliceShift)) {
      for (size_t k = i; k < j; k++) set_bit(k, false);
      g_committed.fetch_sub((j - i) << kSliceShift, std::memory_order_relaxed);
    } else {
      all = false;
    }
    i = j;
  }
  return all;
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

// A free span's set follows kSpanInLru: change the flag only while the span is unlinked.
void bin_link(Span *s) {
  int d = (s->flags & kSpanInLru) ? 1 : 0, b = bin_of(s->slice_count);
  s->prev = nullptr;
  s->next = g_bins[d][b];
  if (s->next) s->next->prev = s;
  g_bins[d][b] = s;
  g_bin_mask[d] |= uint64_t(1) << b;
}
void bin_unlink(Span *s) {
  int d = (s->flags & kSpanInLru) ? 1 : 0, b = bin_of(s->slice_count);
  (s->prev ? s->prev->next : g_bins[d][b]) = s->next;
  if (s->next) s->next->prev = s->prev;
  if (!g_bins[d][b]) g_bin_mask[d] &= ~(uint64_t(1) << b);
}

void bin_remove(Span *s) {
  bin_unlink(s);
  lru_remove(s);
  unmap_span(s, false);
}

// Make [first, first+n) one free span (kind Free), binned, in the LRU if `dirty`.
Span *insert_free(size_t first, size_t n, bool dirty, uint64_t when) {
  Span *s = &g_res.spans[first];
  span_set_kind(s, SpanKind::Free);
  s->slice_count = uint32_t(n);
  s->start = slice_addr(first);
  s->flags = 0;
  s->heap.store(nullptr, std::memory_order_relaxed);
  if (dirty) lru_push(s, when);
  bin_link(s);
  map_span(s, false);
  return s;
}

Span *find_fit_in(int d, size_t n, size_t align_slices, size_t *out_first) {
  for (uint64_t mask = g_bin_mask[d] & (~uint64_t(0) << bin_of(n)); mask; mask &= mask - 1) {
    for (Span *s = g_bins[d][__builtin_ctzll(mask)]; s; s = s->next) {
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

// First free span that holds `n` slices starting at a multiple of `align_slices`, among those
// that may hold committed slices if one fits.
Span *find_fit(size_t n, size_t align_slices, size_t *out_first) {
  for (int d = 1; d >= 0; d--) {
    if (Span *s = find_fit_in(d, n, align_slices, out_first)) return s;
  }
  return nullptr;
}

// How much committed free memory to keep. Free memory is worth keeping when the program will
// ask for it again soon, so the cache follows recent demand: the bytes of spans handed out,
// decayed by 1/256 per span operation. A program churning large blocks (bench `large`: 24 live
// blocks of up to 32 MiB) keeps enough to reuse them without page faults (0.51 s -> 0.22 s and
// 285K -> 95K faults against 256 MiB and 1/64); a teardown, which is a run of frees with no
// allocations, decays the demand and so the cache with it (bench `frag`). The cache only
// bounds a burst: whatever waits past the purge delay goes back regardless.
// Never more than twice the memory in use (or 512 MiB), never less than
// RAYALLOC_CACHE, at most 1 GiB. What stays unused past the purge delay goes back on the next span
// operation.
std::atomic<size_t> g_interior_decommitted;  // see span_note_interior_decommit
size_t g_demand;                             // decayed bytes of recent span allocations
// The cache may exceed twice the in-use memory up to this much: a program churning a few large
// blocks has little in use at times, yet reuses what it freed a moment ago.
constexpr size_t kCacheFloorCap = size_t(512) << 20;

void note_span_op(size_t allocated_bytes) {
  g_demand = g_demand - g_demand / 256 + allocated_bytes;
}

size_t cache_limit() {
  size_t in_use = g_in_use.load(std::memory_order_relaxed) -
                  g_interior_decommitted.load(std::memory_order_relaxed);
  size_t cap = 2 * in_use > kCacheFloorCap ? 2 * in_use : kCacheFloorCap;
  size_t limit = g_demand < cap ? g_demand : cap;
  if (limit < g_cfg.cache_bytes) limit = g_cfg.cache_bytes;
  return limit < (size_t(1) << 30) ? limit : (size_t(1) << 30);
}

void purge_locked(bool all, uint64_t now) {
  size_t limit = cache_limit();
  Span *refused = nullptr;
  while (Span *s = g_lru_head) {
    size_t dirty =
        g_committed.load(std::memory_order_relaxed) - g_in_use.load(std::memory_order_relaxed);
    bool expired = now - s->freed_at_ms >= g_cfg.purge_delay_ms;
    if (!all && !expired && dirty <= limit) break;
    bin_unlink(s);
    lru_remove(s);
    if (!decommit_range(span_index(s), s->slice_count)) {
      s->lru_next = refused;  // the OS kept its pages: listed again below, retried later
      refused = s;
    } else {
      bin_link(s);  // among the clean ones now
    }
  }
  while (Span *s = refused) {
    refused = s->lru_next;
    lru_push(s, s->freed_at_ms);
    bin_link(s);
  }
}

void reset_descriptor(Span *s, size_t n) {
  s->slice_count = uint32_t(n);
  s->start = slice_addr(span_index(s));
  span_set_kind(s, SpanKind::Unused);
  s->flags = 0;
  s->free = s->local_free = nullptr;
  s->free_unmarked = false;
  s->next = s->prev = nullptr;
  s->thread_free.store(0, std::memory_order_relaxed);
  s->heap.store(nullptr, std::memory_order_relaxed);
  s->in_full.store(0, std::memory_order_relaxed);
  s->used.store(0, std::memory_order_relaxed);
  s->owner = nullptr;
}

}  // namespace

void span_heap_configure(const SpanHeapConfig &cfg) {
  g_cfg = cfg;
}

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
  if (commit) in_use_add(first, n << kSliceShift);
  if (zeroed) *zeroed = !commit || was_committed == 0;
  Span *s = &g_res.spans[first];
  reset_descriptor(s, n);
  asan_unpoison(reinterpret_cast<void *>(s->start), n << kSliceShift);
  s->capacity = commit ? uint32_t(n) : 0;
  note_span_op(commit ? n << kSliceShift : 0);
  return s;
}

// `in_use_slices`: how many of its slices were counted in use (committed).
static void free_locked(Span *s, size_t in_use_slices, bool decommit_now, uint64_t now) {
  size_t first = span_index(s), n = s->slice_count;
  g_in_use.fetch_sub(in_use_slices << kSliceShift, std::memory_order_relaxed);
  bool dirty = true;
  if (first > 1) {
    Span *left = span_at_slice_racy(first - 1);
    if (span_kind_racy(left) == SpanKind::Free) {
      size_t lfirst = span_index(left);
      bin_remove(left);
      n += first - lfirst;
      first = lfirst;
    }
  }
  if (first + n < g_top) {
    Span *right = span_at_slice_racy(first + n);
    if (span_kind_racy(right) == SpanKind::Free) {
      size_t rn = right->slice_count;
      bin_remove(right);
      n += rn;
    }
  }
  if (decommit_now) dirty = !decommit_range(first, n);  // refused pages stay listed: retried
  insert_free(first, n, dirty, now);
  note_span_op(0);
}

// Clear the map entries the span's kind had set.
static void unmap_by_kind(Span *s) {
  if (s->kind == SpanKind::Slab && s->slab.decommitted_mask != 0) {
    // Its given-back chunks count as committed again (as cached free memory) until purged.
    span_note_interior_recommit(size_t(__builtin_popcount(s->slab.decommitted_mask)) *
                                slab_chunk_bytes(s));
    s->slab.decommitted_mask = 0;
  }
  if (s->kind == SpanKind::Slab)
    unmap_span(s, true);
  else if (s->kind == SpanKind::Large)
    unmap_span(s, false);
  span_set_kind(s, SpanKind::Unused);
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
    Span *right = span_at_slice_racy(at);
    if (span_kind_racy(right) != SpanKind::Free || right->slice_count < need) return false;
    size_t rn = right->slice_count;
    bool dirty = right->flags & kSpanInLru;
    uint64_t when = right->freed_at_ms;
    bin_remove(right);
    if (rn > need) insert_free(at + need, rn - need, dirty, when);
  }
  size_t was = count_committed(at, need);
  if (!commit_range(at, need)) {
    // Give the slices back exactly as they were found.
    if (at + need == g_top)
      g_top = at;
    else
      insert_free(at, need, was != 0, os::now_ms());
    return false;
  }
  in_use_add(at, need << kSliceShift);
  note_span_op(need << kSliceShift);
  for (size_t i = at; i < at + need; i++) span_set_kind(&g_res.spans[i], SpanKind::Unused);
  if (have > 1) g_res.map[at - 1] = 0;  // the old last slice is interior now
  s->slice_count = uint32_t(n);
  s->capacity = uint32_t(n);
  asan_unpoison(reinterpret_cast<void *>(slice_addr(at)), need << kSliceShift);
  if (tail_zeroed) *tail_zeroed = was == 0;
  return true;
}

void span_shrink(Span *s, size_t n, bool decommit_now) {
  size_t first = span_index(s), have = s->slice_count;
  if (n == 0 || n >= have) return;
  uint64_t now = os::now_ms();
  LockGuard guard(g_lock);
  Span *tail = &g_res.spans[first + n];
  if (g_res.map[first + have - 1] == first) g_res.map[first + have - 1] = 0;
  reset_descriptor(tail, have - n);
  s->slice_count = uint32_t(n);
  s->capacity = uint32_t(n);
  free_locked(tail, have - n, decommit_now, now);
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
    in_use_add(first + have, (k - have) << kSliceShift);
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

void span_note_interior_decommit(size_t bytes) {
  g_interior_decommitted.fetch_add(bytes, std::memory_order_relaxed);
}
void span_note_interior_recommit(size_t bytes) {
  g_interior_decommitted.fetch_sub(bytes, std::memory_order_relaxed);
}
size_t span_heap_committed() {
  return g_committed.load(std::memory_order_relaxed) -
         g_interior_decommitted.load(std::memory_order_relaxed);
}
size_t span_heap_in_use() {
  return g_in_use.load(std::memory_order_relaxed);
}
size_t span_heap_in_use_peak() {
  return g_in_use_peak.load(std::memory_order_relaxed);
}

void span_heap_walk(void (*fn)(Span *s, void *ctx), void *ctx) {
  LockGuard guard(g_lock);
  for (size_t i = 1; i < g_top;) {
    Span *s = &g_res.spans[i];
    if (s->kind != SpanKind::Free) fn(s, ctx);
    i += s->slice_count ? s->slice_count : 1;
  }
}
size_t span_heap_top() {
  LockGuard guard(g_lock);
  return g_top;
}

void span_heap_fork_prepare() {
  g_lock.lock();
}
void span_heap_fork_parent() {
  g_lock.unlock();
}
void span_heap_fork_child() {
  g_lock.reset();
}

}  // namespace ray
