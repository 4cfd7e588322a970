#include "arena/reservation.hpp"

#include "os/os.hpp"

namespace ray {

Reservation g_res;

bool reservation_init(size_t want) {
  if (want == 0) want = kDefaultReserve;
  want = align_up(want, kSliceSize);
  for (size_t size = want; size >= kMinReserve; size /= 2) {
    void *base = os::reserve(size, size >= kReserveAlign ? kReserveAlign : kSliceSize);
    if (!base) continue;
    size_t slices = size >> kSliceShift;
    size_t map_bytes = align_up(slices * sizeof(uint32_t), kPage);
    size_t span_bytes = align_up(slices * sizeof(Span), kPage);
    size_t bit_bytes = align_up((slices + 63) / 64 * 8, kPage);
    void *meta = os::reserve(map_bytes + span_bytes + bit_bytes, kPage);
    if (!meta) {
      os::release(base, size);
      continue;
    }
    char *m = static_cast<char *>(meta);
    g_res.map = reinterpret_cast<uint32_t *>(m);
    g_res.spans = reinterpret_cast<Span *>(m + map_bytes);
    g_res.commit_bits = reinterpret_cast<uint64_t *>(m + map_bytes + span_bytes);
    g_res.slice_total = slices;
    g_res.size = size;
    g_res.base = reinterpret_cast<uintptr_t>(base);
    return true;
  }
  return false;
}

// Relaxed atomic stores: a neighbour's free reads these entries under the span-heap lock
// while we write them outside it (span_at_slice_racy).
static void set_map(size_t idx, uint32_t head) {
  std::atomic_ref<uint32_t>(g_res.map[idx]).store(head, std::memory_order_relaxed);
}

void map_span(Span *s, bool every_slice) {
  uint32_t head = uint32_t(span_index(s));
  uint32_t n = s->slice_count;
  if (every_slice) {
    for (uint32_t i = 0; i < n; i++) set_map(head + i, head);
  } else {
    set_map(head, head);
    set_map(head + n - 1, head);
  }
}

void unmap_span(Span *s, bool every_slice) {
  size_t head = span_index(s);
  uint32_t n = s->slice_count;
  if (every_slice) {
    for (uint32_t i = 0; i < n; i++) set_map(head + i, 0);
  } else {
    set_map(head, 0);
    set_map(head + n - 1, 0);
  }
}

}  // namespace ray
