// array_slack bookkeeping; the policy and its cost are explained in array_stats.hpp.
#include "face/array_stats.hpp"

#include "support/stats.hpp"

namespace ray {

void slack_update(ArrayHeader *h, size_t before) {
  size_t now = h->cap > h->len ? (h->cap - h->len) * h->elem_size : 0;
  h->slack_len = h->len;
  if (now != before) count_array(kArraySlack, now - before);  // modular: may be negative
}

void slack_forget(const ArrayHeader *h) {
  if (size_t counted = slack_counted(h)) count_array(kArraySlack, 0 - counted);
}

}  // namespace ray
