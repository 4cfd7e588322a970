// The array header: what the allocator keeps about an array, just before its first element.
//
// Layout (32 bytes, ending at the data pointer; the last three words are public ABI, see
// rayalloc.h, so C macros and ray::array<T> read len/cap with one load each):
//   data - 32: check (u16), hints (u8), align_shift (u8), elem_size (u32)
//   data - 24: slack_len  (the len last counted into the array_slack statistic)
//   data - 16: cap
//   data -  8: len
//
// Where the header sits in its block: the data pointer is `offset = max(32, align)` bytes past
// the block's start, for slab blocks and large spans alike, so the block is found from the data
// pointer and the alignment alone. Blocks are always bigger than `offset` (an empty array still
// gets room for an element), so a data pointer is never the start of a block: the engine's free
// and usable-size paths see an interior pointer of a kSpanArray span and ask the array hooks.
//
// Invariants:
//  - len <= cap; cap * elem_size bytes from data are ours (a slab block's end, or the committed
//    prefix of a large span; for STABLE arrays never more than max_cap elements).
//  - check == array_check(data) while the array is live; it is cleared when the array is freed,
//    so a stale or forged pointer fails validation (16 bits of tag, on top of the structural
//    checks in array_validate: right span kind, offset, block start).
#pragma once
#include <cstddef>
#include <cstdint>

#include "arena/reservation.hpp"
#include "rayalloc.h"
#include "slab/block.hpp"

namespace ray {

struct ArrayHeader {
  uint16_t check;
  uint8_t hints;
  uint8_t align_shift;
  uint32_t elem_size;
  size_t slack_len;
  size_t cap;
  size_t len;
};
static_assert(sizeof(ArrayHeader) == 32);
constexpr size_t kArrayHeader = sizeof(ArrayHeader);
// Largest element we describe (elem_size is 32 bits).
constexpr size_t kMaxElemSize = 0xffffffffu;

RAY_INLINE ArrayHeader *header_of(const void *data) {
  return reinterpret_cast<ArrayHeader *>(uintptr_t(data) - kArrayHeader);
}
RAY_INLINE void *data_of(ArrayHeader *h) {
  return reinterpret_cast<char *>(h) + kArrayHeader;
}

// Bytes from a block's start to the data: the header, or the alignment when that is larger.
RAY_INLINE size_t array_offset(unsigned align_shift) {
  size_t a = size_t(1) << align_shift;
  return a > kArrayHeader ? a : kArrayHeader;
}
RAY_INLINE void *block_of(const ArrayHeader *h) {
  return reinterpret_cast<char *>(const_cast<ArrayHeader *>(h)) + kArrayHeader -
         array_offset(h->align_shift);
}

// A 16-bit tag of the data address under the per-process secret (never 0, so a cleared header
// never validates).
RAY_INLINE uint16_t array_check(const void *data) {
  uint64_t x = (uint64_t(uintptr_t(data)) ^ g_block_secret) * 0x9e3779b97f4a7c15ull;
  uint16_t c = uint16_t(x >> 48);
  return c ? c : 1;
}

// Internal hint (ray::string, rayalloc/string.hpp): the element at [len] is a terminator the
// owner keeps there, so the debug variant treats it as live rather than as a write past len.
constexpr unsigned kHintTerminated = 1u << 7;

// End (in elements) of what the debug variant must leave unpoisoned for length `len`.
RAY_INLINE size_t live_end(const ArrayHeader *h, size_t len) {
  return (h->hints & kHintTerminated) && len < h->cap ? len + 1 : len;
}

}  // namespace ray
