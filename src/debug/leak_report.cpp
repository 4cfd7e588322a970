// The debug variant's exit: every block still in the quarantine is checked (a write after
// free is reported even if the program ends before the block is reused), then the blocks of
// the malloc family still allocated are reported on stderr: how many, how many bytes, and the
// largest (pointer, size, size class). RAYALLOC_DEBUG_LEAKS=0 turns the report off.
//
// The walk runs under the span-heap lock and allocates nothing: it keeps the largest blocks in a
// small fixed array, and the report is written with write(2) after the lock is dropped.
// Blocks still allocated at exit include what the C library keeps for the whole run (stdio
// buffers); valgrind --leak-check=full tells reachable from lost.
#ifdef RAY_DEBUG
#include <stdio.h>

#include "arena/span_heap.hpp"
#include "debug/debug_block.hpp"
#include "debug/debug_report.hpp"
#include "debug/quarantine.hpp"
#include "debug/valgrind.hpp"
#include "os/os.hpp"
#include "support/options.hpp"

namespace ray {
namespace {

constexpr int kLargest = 8;

struct Leak {
  uintptr_t user;
  size_t size;
  EngineBlock block;
};

struct LeakTally {
  size_t blocks, bytes;
  Leak largest[kLargest];  // by size, largest first
  int kept;
};

void note(LeakTally *t, const EngineBlock &b) {
  uintptr_t user = debug_user_of(b);
  if (!user) return;
  const DebugHeader *h = header_of_user(user);
  if (h->state != kStateLive) return;
  t->blocks++;
  t->bytes += h->size;
  int i = t->kept < kLargest ? t->kept++ : kLargest;
  if (i == kLargest && h->size <= t->largest[kLargest - 1].size) return;
  if (i == kLargest) i = kLargest - 1;
  for (; i > 0 && t->largest[i - 1].size < h->size; i--) t->largest[i] = t->largest[i - 1];
  t->largest[i] = Leak{user, h->size, b};
}

void tally_span(Span *s, void *ctx) {
  if (s->flags & kSpanArray) return;
  auto *t = static_cast<LeakTally *>(ctx);
  if (s->kind == SpanKind::Slab) {
    if (s->block_size < kHeaderBytes + kMinRedzone) return;
    for (uint32_t i = 0; i < s->capacity; i++)
      note(t, EngineBlock{s->start + size_t(i) * s->block_size, s->block_size, s});
  } else if (s->kind == SpanKind::Large) {
    note(t, EngineBlock{s->start, s->large_size, s});
  }
}

void report_leaks() {
  LeakTally t{};
  {
    vg::Quiet quiet;  // headers are not addressable for memcheck
    span_heap_walk(tally_span, &t);
  }
  if (t.blocks == 0) return;
  char buf[256], size[32];
  format_bytes(t.bytes, size, sizeof size);
  snprintf(buf, sizeof buf,
           "rayalloc-debug: leak report: %zu block%s (%zu bytes, %s) still allocated at exit; "
           "the largest:\n",
           t.blocks, t.blocks == 1 ? "" : "s", t.bytes, size);
  os::write_stderr(buf);
  for (int i = 0; i < t.kept; i++) {
    char d[96];
    describe_block(t.largest[i].block, d, sizeof d);
    snprintf(buf, sizeof buf, "  leak: %p, %zu bytes (%s)\n",
             reinterpret_cast<void *>(t.largest[i].user), t.largest[i].size, d);
    os::write_stderr(buf);
  }
}

}  // namespace

__attribute__((destructor)) void debug_at_exit() {
  if (!engine_ready()) return;
  quarantine_flush();
  if (g_options.debug_leaks) report_leaks();
}

}  // namespace ray
#endif  // RAY_DEBUG
