// Slab compaction: a sparse slab gives back the pages no live block touches.
//
// A program that frees most of its small objects but keeps a scattered few pins every slab
// they sit on; without this, that memory never returns to the OS (bench `frag`). The slab is
// cut into at most 32 power-of-two chunks. Invariant (slab.hpp): a block touching a
// decommitted chunk is free and on no list. The owner runs these on its slow path only.
// The free blocks are found by their free marks (slab/block.hpp) in one pass in address order;
// a slab whose marks cannot be trusted has its free list walked instead.
#include <atomic>
#include <cstring>

#include "arena/span_heap.hpp"
#include "os/os.hpp"
#include "slab/block.hpp"
#include "slab/slab.hpp"

namespace ray {
namespace {

std::atomic<uint64_t> g_scanned, g_walked;

constexpr unsigned kMaxBlocks = 4096;  // 64 KiB slab / 16-byte blocks: the most a slab holds

struct BlockSet {
  uint64_t bits[kMaxBlocks / 64];
  void clear(uint32_t n) { memset(bits, 0, (n + 63) / 64 * 8); }  // the words for blocks < n
  void set(uint32_t i) { bits[i >> 6] |= uint64_t(1) << (i & 63); }
  bool has(uint32_t i) const { return bits[i >> 6] >> (i & 63) & 1; }
  void set_range(uint32_t lo, uint32_t hi) {  // [lo, hi]
    for (uint32_t i = lo; i <= hi;) {
      if ((i & 63) == 0 && i + 63 <= hi) {
        bits[i >> 6] = ~uint64_t(0);
        i += 64;
      } else {
        set(i++);
      }
    }
  }
  bool all(uint32_t lo, uint32_t hi) const {  // every one of [lo, hi] set
    for (uint32_t i = lo; i <= hi;) {
      if ((i & 63) == 0 && i + 63 <= hi) {
        if (bits[i >> 6] != ~uint64_t(0)) return false;
        i += 64;
      } else if (!has(i++)) {
        return false;
      }
    }
    return true;
  }
};

uint32_t index_at(const Span *s, size_t off) {  // block holding byte `off` (no division)
  return uint32_t((off * s->block_inverse) >> 42);
}

// Blocks [lo, hi] touching chunk c; false if none are built (< n).
bool chunk_blocks(const Span *s, unsigned c, unsigned shift, uint32_t n, uint32_t *lo,
                  uint32_t *hi) {
  *lo = index_at(s, size_t(c) << shift);
  if (*lo >= n) return false;
  *hi = index_at(s, (size_t(c + 1) << shift) - 1);
  if (*hi >= n) *hi = n - 1;
  return true;
}

// Add to `set` the built blocks (< n) touching any chunk in `mask`.
void mark_chunk_blocks(BlockSet &set, const Span *s, unsigned shift, unsigned chunks, uint32_t n,
                       uint32_t mask) {
  uint32_t lo = 0, hi = 0;
  for (unsigned c = 0; c < chunks; c++)
    if ((mask >> c & 1) && chunk_blocks(s, c, shift, n, &lo, &hi)) set.set_range(lo, hi);
}

// Push the blocks of `set` not in `minus` (both < n) onto `head`, so that they come off in
// address order; returns the new head.
Block *push_blocks(const Span *s, const BlockSet &set, const BlockSet *minus, uint32_t n,
                   Block *head) {
  for (uint32_t w = (n + 63) / 64; w-- > 0;) {
    uint64_t bits = set.bits[w] & (minus ? ~minus->bits[w] : ~uint64_t(0));
    if (w == (n - 1) / 64 && (n & 63)) bits &= (uint64_t(1) << (n & 63)) - 1;
    while (bits) {
      unsigned top = 63u - unsigned(__builtin_clzll(bits));
      bits &= ~(uint64_t(1) << top);
      Block *b = reinterpret_cast<Block *>(s->start + size_t(w * 64 + top) * s->block_size);
      block_set_next(b, head);
      block_mark_free(b);
      head = b;
    }
  }
  return head;
}

}  // namespace

// Compacting can free a chunk only once fewer blocks are live than there are chunks.
uint32_t slab_first_compact_at(const Span *s) {
  uint32_t chunks = uint32_t((size_t(s->slice_count) << 16) >> slab_chunk_shift(s));
  uint32_t at = s->reserved_blocks / 16 < chunks / 2 ? s->reserved_blocks / 16 : chunks / 2;
  return at > 2 ? at : 2;
}

namespace {

// One slab's compaction, in three steps so that several can walk their free lists together.
struct CompactJob {
  Span *s;
  uint32_t n;  // blocks built
  unsigned shift, chunks;
  uint32_t gone;  // chunks already decommitted
  BlockSet free_set;
};

bool compact_begin(CompactJob &j, Span *s) {
  if (s->reserved_blocks > kMaxBlocks) return false;  // pool slabs (never compacted) hold more
  slab_collect(s);
  j.s = s;
  j.n = s->capacity;
  j.shift = slab_chunk_shift(s);
  j.chunks = unsigned((size_t(s->slice_count) << 16) >> j.shift);
  j.gone = s->slab.decommitted_mask;
  j.free_set.clear(j.n);
  return true;
}

// Find the free blocks by their marks (slab/block.hpp): one pass in address order over the
// built blocks outside given-back chunks, which the hardware prefetches, where the list is a
// chain of misses. It reads live blocks' second words, which their threads may be writing:
// any value but the block's own mark means live, so the race is benign and is kept out of the
// sanitizers' view. False if the slab's list may hold unmarked blocks, or if the count is not
// that of the free blocks (n - used - those touching given-back chunks): a live block showing
// a mark is then caught, and the caller walks the list.
__attribute__((no_sanitize_address, no_sanitize_thread)) bool compact_scan(CompactJob &j) {
  Span *s = j.s;
  if (s->free_unmarked) return false;
  uint32_t n = j.n;
  BlockSet gone_set;
  gone_set.clear(n);
  mark_chunk_blocks(gone_set, s, j.shift, j.chunks, n, j.gone);
  uint32_t found = 0, gone_count = 0;
  uintptr_t base = s->start;
  size_t size = s->block_size;
  for (uint32_t w = 0; w < (n + 63) / 64; w++) {
    uint64_t valid = w == n / 64 ? (uint64_t(1) << (n & 63)) - 1 : ~uint64_t(0);
    gone_count += unsigned(__builtin_popcountll(gone_set.bits[w] & valid));
    uint64_t marked = 0;
    for (uint64_t cand = ~gone_set.bits[w] & valid; cand; cand &= cand - 1) {
      unsigned bit = unsigned(__builtin_ctzll(cand));
      uintptr_t b = base + (size_t(w) * 64 + bit) * size;
      uintptr_t word = __atomic_load_n(reinterpret_cast<uintptr_t *>(b) + 1, __ATOMIC_RELAXED);
      if (word == block_free_mark(reinterpret_cast<void *>(b))) marked |= uint64_t(1) << bit;
    }
    j.free_set.bits[w] = marked;
    found += unsigned(__builtin_popcountll(marked));
  }
  return found == n - s->used.load(std::memory_order_relaxed) - gone_count;
}

// Mark every listed free block. A free list runs through its slab in the order the blocks
// were freed, often random, so walking it is a chain of dependent cache misses; walking
// several slabs' lists in step keeps that many misses in flight at once.
void compact_walk(CompactJob *jobs, unsigned k) {
  Block *cur[kCompactBatch];
  for (unsigned i = 0; i < k; i++) cur[i] = jobs[i].s->free;
  for (bool more = true; more;) {
    more = false;
    for (unsigned i = 0; i < k; i++) {
      if (Block *b = cur[i]) {
        jobs[i].free_set.set(index_at(jobs[i].s, uintptr_t(b) - jobs[i].s->start));
        block_mark_free(b);  // so that the next pass over this slab can scan
        cur[i] = block_next(b);
        more = true;
      }
    }
  }
  for (unsigned i = 0; i < k; i++) jobs[i].s->free_unmarked = false;
}

void compact_finish(CompactJob &j) {
  Span *s = j.s;
  uint32_t n = j.n, gone = j.gone;
  unsigned shift = j.shift, chunks = j.chunks;
  BlockSet &free_set = j.free_set;
  mark_chunk_blocks(free_set, s, shift, chunks, n, gone);  // by the invariant, free too
  uint32_t lo = 0, hi = 0;
  // Only chunks wholly inside the built blocks: slab_extend later lists the blocks past
  // `capacity`, which must never touch a decommitted chunk (slab_recommit would list them
  // twice).
  size_t built_end = size_t(n) * s->block_size;
  uint32_t newly = 0;
  for (unsigned c = 0; c < chunks && (size_t(c + 1) << shift) <= built_end; c++) {
    if (gone >> c & 1) continue;
    chunk_blocks(s, c, shift, n, &lo, &hi);
    if (free_set.all(lo, hi)) newly |= 1u << c;
  }
  if (newly == 0) return;
  for (unsigned c = 0; c < chunks;) {  // give back runs of chunks; a refused run stays
    if (!(newly >> c & 1)) {
      c++;
      continue;
    }
    unsigned e = c;
    while (e < chunks && (newly >> e & 1)) e++;
    if (os::decommit(reinterpret_cast<void *>(s->start + (size_t(c) << shift)), size_t(e - c)
                                                                                    << shift)) {
      for (unsigned k = c; k < e; k++) gone |= 1u << k;
      span_note_interior_decommit(size_t(e - c) << shift);
    }
    c = e;
  }
  s->slab.decommitted_mask = gone;
  // Relist the free blocks that touch no decommitted chunk (from the set: links inside
  // decommitted chunks were zeroed by the OS). Word at a time: free & ~(touching gone).
  BlockSet excluded;
  excluded.clear(n);
  mark_chunk_blocks(excluded, s, shift, chunks, n, gone);
  s->free = push_blocks(s, free_set, &excluded, n, nullptr);
}

}  // namespace

void slab_compact_batch(Span *const *slabs, unsigned k) {
  CompactJob jobs[kCompactBatch];
  unsigned m = 0;  // jobs the scan could not settle: their lists are walked together
  for (unsigned i = 0; i < k && i < kCompactBatch; i++) {
    if (!compact_begin(jobs[m], slabs[i])) continue;
    if (compact_scan(jobs[m])) {
      compact_finish(jobs[m]);
      g_scanned.fetch_add(1, std::memory_order_relaxed);
    } else {
      jobs[m].free_set.clear(jobs[m].n);
      m++;
    }
  }
  compact_walk(jobs, m);
  for (unsigned i = 0; i < m; i++) compact_finish(jobs[i]);
  g_walked.fetch_add(m, std::memory_order_relaxed);
}

CompactCounts slab_compact_counts() {
  return {g_scanned.load(std::memory_order_relaxed), g_walked.load(std::memory_order_relaxed)};
}

void slab_recommit(Span *s) {
  uint32_t gone = s->slab.decommitted_mask;
  if (gone == 0) return;
  unsigned shift = slab_chunk_shift(s);
  unsigned chunks = unsigned((size_t(s->slice_count) << 16) >> shift);
  uint32_t n = s->capacity;
  BlockSet set;
  set.clear(n);
  mark_chunk_blocks(set, s, shift, chunks, n, gone);
  s->free = push_blocks(s, set, nullptr, n, s->free);
  span_note_interior_recommit(size_t(__builtin_popcount(gone)) << shift);
  s->slab.decommitted_mask = 0;
  s->slab.compact_at = slab_first_compact_at(s);
}

}  // namespace ray
