// The array_slack statistic: capacity of live arrays not in use, in bytes.
//
// Cost choice: a push that fits must stay a compare, a store and an increment (it is inlined
// into user code), so it cannot touch a shared counter. Instead each array remembers, in its
// header (slack_len), the length it had when its slack was last counted; every library call
// that changes cap, or changes len out of line (growth, shrink, set_len, resize, append/push
// slow paths, clone, free), re-counts that array with one add to the calling thread's counter
// (support/stats.hpp: count_array; ray_stats_get sums the threads'). The figure is
// therefore exact as of each array's last call into the library; elements pushed since by the
// inline fits path (ray::array::push_back, RAY_ARR_PUSH, ray_array_push/append when they fit)
// still count as slack until that array's next such call.
#pragma once
#include <cstddef>

#include "face/array_header.hpp"

namespace ray {

// The slack counted for `h` now (call before changing its cap).
inline size_t slack_counted(const ArrayHeader *h) {
  return h->cap > h->slack_len ? (h->cap - h->slack_len) * h->elem_size : 0;
}
// `h` (possibly moved or resized) replaces an array that had `before` counted: count
// (cap - len) * elem_size instead and remember len.
void slack_update(ArrayHeader *h, size_t before);
// The array is going away: take what was counted for it out.
void slack_forget(const ArrayHeader *h);

}  // namespace ray
