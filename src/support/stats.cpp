// Statistics: ray_stats_get, the table (ray_stats_print), the JSON form (ray_stats_print_json)
// and the exit-time print asked for by RAYALLOC_STATS.
//
// Owns: g_counters, the per-thread counter folding at thread exit, and the snapshot: one walk
// over the span descriptors under the span-heap lock (so every figure of one snapshot is
// consistent with the others) plus one pass over the thread heaps under the pool lock. Nothing
// here runs on an allocation path: the release build pays for statistics only when it asks.
//
// Invariants kept: reserved >= committed >= allocated (allocated counts handed-out blocks,
// which lie in committed spans; it is clamped to committed against a racing reader), and
// peak_allocated >= allocated. The JSON and the table print the same snapshot that
// ray_stats_get returns, so their totals agree with it.
#include "support/stats.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena/span_heap.hpp"
#include "face/arena_internal.hpp"
#include "face/array_stats.hpp"
#include "os/os.hpp"
#include "rayalloc.h"
#include "support/options.hpp"
#ifdef RAY_DEBUG
#include "debug/quarantine.hpp"
#endif

namespace ray {

Counters g_counters;

namespace {

std::atomic<size_t> g_peak_seen;  // highest `allocated` any snapshot computed

size_t load(const size_t &v) {
  return __atomic_load_n(&v, __ATOMIC_RELAXED);
}

struct ClassTally {
  size_t slabs, blocks_used, blocks_built, blocks_max, bytes_used, slab_bytes;
};

struct Snapshot {
  ray_stats s;
  ClassTally cls[kNumClasses];  // [0]: exact-size slabs (pools)
  size_t large_blocks, large_bytes, large_committed, large_reserved;
  size_t face_bytes[2];   // bytes in use: [0] malloc family and pools, [1] arrays
  size_t remote_pending;  // bytes freed by other threads, not yet collected by their owner
  size_t quarantined;     // debug: bytes of freed blocks held back for delayed reuse
  size_t threads_live;
};

void tally_span(Span *s, void *ctx) {
  auto *w = static_cast<Snapshot *>(ctx);
  int face = (s->flags & kSpanArray) ? 1 : 0;
  if (s->kind == SpanKind::Slab) {
    ClassTally &c = w->cls[s->size_class < kNumClasses ? s->size_class : 0];
    size_t used = s->used.load(std::memory_order_relaxed);
    c.slabs++;
    c.blocks_used += used;
    c.blocks_built += s->capacity;
    c.blocks_max += s->reserved_blocks;
    c.bytes_used += used * s->block_size;
    c.slab_bytes += size_t(s->slice_count) << kSliceShift;
    w->face_bytes[face] += used * s->block_size;
  } else if (s->kind == SpanKind::Large) {
    size_t committed = size_t(s->capacity) << kSliceShift;
    size_t bytes = s->large_size < committed ? s->large_size : committed;
    w->large_blocks++;
    w->large_bytes += bytes;
    w->large_committed += committed;
    w->large_reserved += size_t(s->slice_count) << kSliceShift;
    w->face_bytes[face] += bytes;
  }
}

struct ThreadTally {
  size_t mallocs, frees, pushed, live;
  size_t arrays[kArrayCounterCount];
};

void tally_thread(Heap *h, bool live, void *ctx) {
  auto *t = static_cast<ThreadTally *>(ctx);
  t->mallocs += load(h->n_malloc) + load(h->n_large);
  t->frees += load(h->n_free) + load(h->n_remote_free);
  t->pushed += load(h->remote_pushed_bytes);
  for (unsigned i = 0; i < kArrayCounterCount; i++) t->arrays[i] += load(h->array_counts[i]);
  t->live += live;
}

size_t relaxed(const std::atomic<size_t> &c) {
  return c.load(std::memory_order_relaxed);
}

void take_snapshot(Snapshot *w) {
  memset(w, 0, sizeof *w);
  engine_init();  // so a process that never allocated still reports its reservation
  span_heap_walk(tally_span, w);
  ThreadTally t{};
  for_each_thread_heap(tally_thread, &t);
  const Counters &g = g_counters;
  size_t pushed = t.pushed + relaxed(g.remote_pushed_dead);
  size_t collected = relaxed(g.remote_collected);
  // Modular sums (a thread's total drops below zero when it collects more than it pushed):
  // the difference is what matters, and a racing reader may see it briefly negative.
  ptrdiff_t pending = ptrdiff_t(pushed - collected);
  w->remote_pending = pending > 0 ? size_t(pending) : 0;
  w->threads_live = t.live;
  ray_stats &s = w->s;
  s.mallocs = t.mallocs + relaxed(g.mallocs_dead_threads);
  s.frees = t.frees + relaxed(g.frees_dead_threads) + relaxed(g.frees_unowned);
#ifdef RAY_DEBUG
  w->quarantined = debug_quarantine_bytes();
  s.frees += debug_quarantine_blocks();  // freed by the program, released to the engine later
#endif
  size_t in_blocks = w->face_bytes[0] + w->face_bytes[1];
  size_t not_live = w->remote_pending + w->quarantined;
  s.reserved = g_res.size;
  s.committed = span_heap_committed();
  s.allocated = in_blocks > not_live ? in_blocks - not_live : 0;
  if (s.allocated > s.committed) s.allocated = s.committed;  // a racing reader, never at rest
  if (s.committed > s.reserved) s.committed = s.reserved;
  size_t peak = span_heap_in_use_peak();
  size_t seen = g_peak_seen.load(std::memory_order_relaxed);
  while (s.allocated > seen &&
         !g_peak_seen.compare_exchange_weak(seen, s.allocated, std::memory_order_relaxed)) {
  }
  if (seen > peak) peak = seen;
  s.peak_allocated = peak > s.allocated ? peak : s.allocated;
  size_t arrays[kArrayCounterCount];
  for (unsigned i = 0; i < kArrayCounterCount; i++)
    arrays[i] = t.arrays[i] + relaxed(g.array_counts[i]);
  s.arrays_grown_in_place = arrays[kArraysGrownInPlace];
  s.arrays_moved = arrays[kArraysMoved];
  s.arrays_remapped = arrays[kArraysRemapped];
  s.bytes_copied_by_growth = arrays[kBytesCopiedByGrowth];
  // Modular sum of signed changes: a racing reader may see it briefly below zero.
  ptrdiff_t slack = ptrdiff_t(arrays[kArraySlack]);
  s.array_slack = slack > 0 ? size_t(slack) : 0;
}

const char *human(size_t n, char *buf, size_t cap) {
  format_bytes(n, buf, cap);
  return buf;
}

void print_table(FILE *out, const Snapshot &w) {
  const ray_stats &s = w.s;
  char a[32], b[32], c[32], d[32];
  fprintf(out, "rayalloc statistics (%s variant, pid %d)\n", variant_name(), int(getpid()));
  fprintf(out, "  reserved   %12s   address space managed\n", human(s.reserved, a, sizeof a));
  fprintf(out, "  committed  %12s   memory taken from the OS (in use or cached)\n",
          human(s.committed, a, sizeof a));
  fprintf(out, "  allocated  %12s   in blocks handed out (peak %s)\n",
          human(s.allocated, a, sizeof a), human(s.peak_allocated, b, sizeof b));
  fprintf(out, "  mallocs    %12zu   frees %zu%s\n", s.mallocs, s.frees,
#ifdef RAY_STATS
          ""
#else
          "  (operation counts: use the stats or debug variant)"
#endif
  );
  fprintf(out, "  faces      malloc and pools %s, arrays %s; threads live: %zu\n",
          human(w.face_bytes[0], a, sizeof a), human(w.face_bytes[1], b, sizeof b), w.threads_live);
  fprintf(out,
          "  arrays     grown in place %zu, moved %zu, remapped %zu; copied by growth %s; "
          "slack %s\n",
          s.arrays_grown_in_place, s.arrays_moved, s.arrays_remapped,
          human(s.bytes_copied_by_growth, a, sizeof a), human(s.array_slack, b, sizeof b));
  if (w.remote_pending || w.quarantined)
    fprintf(out, "  pending    %s freed by other threads, %s held in the debug quarantine\n",
            human(w.remote_pending, a, sizeof a), human(w.quarantined, b, sizeof b));
  fprintf(out, "\n  %5s %8s %6s %21s %12s %12s %5s\n", "class", "block", "slabs",
          "blocks used / built", "in use", "slab bytes", "use%");
  for (unsigned k = 0; k < kNumClasses; k++) {
    const ClassTally &t = w.cls[k];
    if (t.slabs == 0) continue;
    size_t block = k ? class_size(k) : 0;  // row 0: exact-size (pool) slabs of any size
    char cls[8], blk[16];
    snprintf(cls, sizeof cls, "%u", k);
    if (k)
      snprintf(blk, sizeof blk, "%zu", block);
    else
      snprintf(blk, sizeof blk, "exact");
    fprintf(out, "  %5s %8s %6zu %10zu / %-8zu %12s %12s %5.1f\n", k ? cls : "pool", blk, t.slabs,
            t.blocks_used, t.blocks_built, human(t.bytes_used, a, sizeof a),
            human(t.slab_bytes, b, sizeof b),
            t.slab_bytes ? 100.0 * double(t.bytes_used) / double(t.slab_bytes) : 0.0);
  }
  fprintf(out, "  %5s %8s %6zu %21s %12s %12s\n", "large", "-", w.large_blocks, "",
          human(w.large_bytes, c, sizeof c), human(w.large_committed, d, sizeof d));
}

void print_json(FILE *out, const Snapshot &w) {
  const ray_stats &s = w.s;
  fprintf(out,
          "{\"variant\":\"%s\",\"pid\":%d,\"reserved\":%zu,\"committed\":%zu,\"allocated\":%zu,"
          "\"peak_allocated\":%zu,\"mallocs\":%zu,\"frees\":%zu,\"arrays_grown_in_place\":%zu,"
          "\"arrays_moved\":%zu,\"arrays_remapped\":%zu,\"bytes_copied_by_growth\":%zu,"
          "\"array_slack\":%zu,\"threads_live\":%zu,\"remote_pending_bytes\":%zu,"
          "\"quarantined_bytes\":%zu,\"faces\":{\"malloc_bytes\":%zu,\"array_bytes\":%zu},"
          "\"size_classes\":[",
          variant_name(), int(getpid()), s.reserved, s.committed, s.allocated, s.peak_allocated,
          s.mallocs, s.frees, s.arrays_grown_in_place, s.arrays_moved, s.arrays_remapped,
          s.bytes_copied_by_growth, s.array_slack, w.threads_live, w.remote_pending, w.quarantined,
          w.face_bytes[0], w.face_bytes[1]);
  bool first = true;
  for (unsigned k = 0; k < kNumClasses; k++) {
    const ClassTally &t = w.cls[k];
    if (t.slabs == 0) continue;
    fprintf(out,
            "%s{\"class\":%u,\"block_size\":%zu,\"slabs\":%zu,\"blocks_used\":%zu,"
            "\"blocks_built\":%zu,\"blocks_max\":%zu,\"bytes_used\":%zu,\"slab_bytes\":%zu}",
            first ? "" : ",", k, k ? class_size(k) : size_t(0), t.slabs, t.blocks_used,
            t.blocks_built, t.blocks_max, t.bytes_used, t.slab_bytes);
    first = false;
  }
  fprintf(out, "],\"large\":{\"blocks\":%zu,\"bytes\":%zu,\"committed\":%zu,\"reserved\":%zu}}\n",
          w.large_blocks, w.large_bytes, w.large_committed, w.large_reserved);
}

// RAYALLOC_STATS=1 prints to the stderr the program started with: programs may close theirs in
// an atexit handler (coreutils do), which runs before the library's destructor. So a copy of
// descriptor 2 is kept from load time (numbered from 100 so the program's own open() calls get
// the numbers they expect; close-on-exec, so children do not inherit it).
int g_stats_fd = -1;

__attribute__((constructor)) void keep_stderr_for_stats() {
  const char *v = getenv("RAYALLOC_STATS");
  if (!v || strcmp(v, "1") != 0) return;
  g_stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);  // high: out of the way of the program's own
  if (g_stats_fd < 0) g_stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
}

void print_table_at_exit() {
  int fd = g_stats_fd >= 0 && fcntl(g_stats_fd, F_GETFD) != -1 ? g_stats_fd : 2;
  FILE *f = fdopen(dup(fd), "w");
  if (!f) return;
  ray_stats_print(f);
  fclose(f);
}

// RAYALLOC_STATS at exit. A destructor of the library: it runs after the program's own
// destructors and atexit handlers, so the figures include its teardown.
__attribute__((destructor)) void print_at_exit() {
  if (!engine_ready()) engine_init();  // a program that never allocated: options not read yet
  if (g_options.stats == kStatsOff) return;
  if (g_options.stats == kStatsTable) return print_table_at_exit();
  char path[sizeof g_options.stats_path + 16];
  const char *p = g_options.stats_path, *pid = strstr(p, "%p");
  if (pid)
    snprintf(path, sizeof path, "%.*s%d%s", int(pid - p), p, int(getpid()), pid + 2);
  else
    snprintf(path, sizeof path, "%s", p);
  FILE *f = fopen(path, "w");
  if (!f) {
    char msg[400];
    snprintf(msg, sizeof msg, "rayalloc: RAYALLOC_STATS: cannot write %s: %s\n", path,
             strerror(errno));
    os::write_stderr(msg);
    return;
  }
  ray_stats_print_json(f);
  fclose(f);
}

}  // namespace

void stats_thread_exit(Heap *h) {
  count(g_counters.mallocs_dead_threads, h->n_malloc + h->n_large);
  count(g_counters.frees_dead_threads, h->n_free + h->n_remote_free);
  count(g_counters.remote_pushed_dead, h->remote_pushed_bytes);
  h->n_malloc = h->n_large = h->n_free = h->n_remote_free = 0;
  h->remote_pushed_bytes = 0;
  for (unsigned i = 0; i < kArrayCounterCount; i++) {
    count(g_counters.array_counts[i], h->array_counts[i]);
    h->array_counts[i] = 0;
  }
}

#ifdef RAY_STATS
void stats_count_free_here(const Span *s) {
  const Heap *o = s->owner;
  if (!o || o->kind != HeapKind::Thread || o->purpose != kPurposeMalloc) return;
  Heap *me = tls_heap;
  if (me->kind != HeapKind::Empty)
    me->n_remote_free++;
  else
    count(g_counters.frees_unowned);
}
#endif

}  // namespace ray

using namespace ray;

extern "C" RAY_API int ray_stats_get(ray_arena *a, ray_stats *out) {
  if (!out) return EINVAL;
  if (a) return arena_fill_stats(a, out);
  Snapshot w;
  take_snapshot(&w);
  *out = w.s;
  return 0;
}

extern "C" RAY_API void ray_stats_print(FILE *out) {
  Snapshot w;
  take_snapshot(&w);
  print_table(out ? out : stderr, w);
}

extern "C" RAY_API void ray_stats_print_json(FILE *out) {
  Snapshot w;
  take_snapshot(&w);
  print_json(out ? out : stderr, w);
}
