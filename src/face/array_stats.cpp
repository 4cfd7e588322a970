// array_slack bookkeeping; the policy and its cost are explained in array_stats.hpp.
#include "face/array_stats.hpp"

#include <atomic>

namespace ray {
namespace {
// Signed so that re-counts arriving out of order from several threads never wrap the reader.
std::atomic<long long> g_array_slack{0};
}  // namespace

void slack_update(ArrayHeader *h, size_t before) {
  size_t now = h->cap > h->len ? (h->cap - h->len) * h->elem_size : 0;
  h->slack_len = h->len;
  if (now != before)
    g_array_slack.fetch_add((long long)now - (long long)before, std::memory_order_relaxed);
}

void slack_forget(const ArrayHeader *h) {
  if (size_t counted = slack_counted(h))
    g_array_slack.fetch_sub((long long)counted, std::memory_order_relaxed);
}

size_t array_slack_bytes() {
  long long v = g_array_slack.load(std::memory_order_relaxed);
  return v > 0 ? size_t(v) : 0;
}

}  // namespace ray
