// Process-wide counters for ray_stats. Array-growth counters are kept in every variant (they
// sit on growth paths, which are rare next to pushes); malloc/free operation counters are
// per heap and only maintained in the statistics variant (RAY_STATS).
#pragma once
#include <atomic>
#include <cstddef>

namespace ray {

struct Counters {
  std::atomic<size_t> arrays_grown_in_place{0};
  std::atomic<size_t> arrays_moved{0};
  std::atomic<size_t> arrays_remapped{0};
  std::atomic<size_t> bytes_copied_by_growth{0};
  std::atomic<size_t> mallocs_dead_threads{0};  // operation counts of exited threads' heaps
  std::atomic<size_t> frees_dead_threads{0};
};
extern Counters g_counters;

inline void count(std::atomic<size_t> &c, size_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace ray
