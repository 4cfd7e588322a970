// The layout of a block of the debug variant's malloc family, and how to find it again.
//
// An engine block (a slab block or a large span) carries one user block:
//
//   start              user - 32            user               user + size          end
//   | [lead] ... gap   | DebugHeader (32 B) | user bytes        | redzone (>= 16 B)  | [guard page]
//
// - user = start + 32 for the default alignment, start + align for alignments above 32. In that
//   case a DebugLead at `start` records the offset, so the header is found from the block's start
//   (leak report) as well as from the user pointer (free).
// - The first word of the block stays free for the engine's free-list link: the header's magic
//   and state survive the block's return to the engine, so a late double free is still named.
// - Large blocks end with a guard page (PROT_NONE): a sequential overflow past the last page
//   faults at once; the redzone up to it is checked on free.
// - Fill patterns: new bytes kAllocFill (calloc: zero), the redzone kRedzoneFill, freed bytes
//   kFreeFill (checked when the block leaves the quarantine: debug/quarantine.hpp).
//
// Only spans of a thread's malloc heap carry debug blocks; other faces' blocks (arrays, pools,
// arena blocks) have no header and keep the engine's own checks.
#pragma once
#include <cstddef>
#include <cstdint>

#include "heap/heap.hpp"

namespace ray {

constexpr size_t kHeaderBytes = 32;
constexpr size_t kMinRedzone = 16;
constexpr unsigned char kAllocFill = 0xAB;
constexpr unsigned char kFreeFill = 0xDF;
constexpr unsigned char kRedzoneFill = 0xFD;
constexpr uint32_t kStateLive = 0x4556494c;   // "LIVE"
constexpr uint32_t kStateFreed = 0x45455246;  // "FREE"

struct DebugHeader {
  uintptr_t link;        // the engine's free-list link when the header starts its block
  uint64_t magic;        // header_magic(user)
  uint64_t size;         // bytes the program asked for
  uint32_t state;        // kStateLive / kStateFreed (changed with a compare-exchange)
  uint32_t align_shift;  // log2 of the alignment asked for
};
struct DebugLead {
  uintptr_t link;
  uint64_t magic;   // lead_magic(start)
  uint64_t offset;  // user - start
  uint64_t unused;
};
static_assert(sizeof(DebugHeader) == kHeaderBytes && sizeof(DebugLead) == kHeaderBytes);

inline uint64_t header_magic(uintptr_t user) {
  return (uint64_t(user) * 0x9e3779b97f4a7c15ull) ^ g_block_secret ^ 0x4442474844524831ull;
}
inline uint64_t lead_magic(uintptr_t start) {
  return (uint64_t(start) * 0xc2b2ae3d27d4eb4full) ^ g_block_secret ^ 0x444247454c454144ull;
}
inline DebugHeader *header_of_user(uintptr_t user) {
  return reinterpret_cast<DebugHeader *>(user - kHeaderBytes);
}

// An engine block: a slab block or a large span.
struct EngineBlock {
  uintptr_t start;
  size_t size;  // slab: the block size; large: the span's handed-out bytes (guard page included)
  Span *span;
};

// The chunk map holds only the first and last slice of a large span, and a debug block aligned
// to 64 KiB or more starts in an interior one: the span is the one whose head is the nearest
// mapped slice to the left (a free span's head, if `idx` lies in a free span).
inline Span *large_span_covering(size_t idx) {
  constexpr size_t kMaxScan = kMaxAlign >> kSliceShift;  // the widest alignment gap
  for (size_t j = idx, scanned = 0; j > 0 && scanned <= kMaxScan; j--, scanned++) {
    uint32_t head = g_res.map[j];
    if (head == 0) continue;
    Span *s = &g_res.spans[head];
    return s->kind == SpanKind::Large && idx < head + s->slice_count ? s : nullptr;
  }
  return nullptr;
}

// The engine block holding `p` (any byte of it), if `p` lies in a slab or a large span.
inline bool engine_block_of(const void *p, EngineBlock *out) {
  if (!in_reservation(p)) return false;
  Span *s = span_of(p);
  if (s->kind != SpanKind::Slab && s->kind != SpanKind::Large) {
    s = large_span_covering(slice_index(p));
    if (!s) return false;
  }
  uintptr_t a = uintptr_t(p);
  if (s->kind == SpanKind::Slab) {
    size_t i = (a - s->start) / s->block_size;
    if (i >= s->capacity) return false;
    *out = EngineBlock{s->start + i * s->block_size, s->block_size, s};
    return true;
  }
  if (s->kind == SpanKind::Large && a - s->start < s->large_size) {
    *out = EngineBlock{s->start, s->large_size, s};
    return true;
  }
  return false;
}

// Spans whose blocks carry debug headers: those of a thread's malloc heap.
inline bool debug_span(const Span *s) {
  const Heap *o = s->owner;
  return !(s->flags & kSpanArray) && o && o->kind == HeapKind::Thread &&
         o->purpose == kPurposeMalloc;
}

// The user pointer of the debug block in `b`, or 0 when its start holds none (never allocated
// by the debug layer, or reused since). Reads protected bytes: call inside vg::Quiet.
inline uintptr_t debug_user_of(const EngineBlock &b) {
  if (b.size >= kHeaderBytes + kMinRedzone &&
      header_of_user(b.start + kHeaderBytes)->magic == header_magic(b.start + kHeaderBytes))
    return b.start + kHeaderBytes;
  auto *lead = reinterpret_cast<const DebugLead *>(b.start);
  if (lead->magic != lead_magic(b.start)) return 0;
  uint64_t off = lead->offset;
  if (off < 2 * kHeaderBytes || off >= b.size) return 0;
  uintptr_t user = b.start + off;
  return header_of_user(user)->magic == header_magic(user) ? user : 0;
}

// Where the redzone of a block ends: the guard page of a large block, else the block's end.
inline uintptr_t redzone_end(const EngineBlock &b) {
  return (b.span->flags & kSpanGuarded) ? b.start + b.size - kPage : b.start + b.size;
}

}  // namespace ray
