#include "support/error.hpp"

#include <stdio.h>
#include <stdlib.h>

#include <atomic>

#include "os/os.hpp"
#include "rayalloc.h"

namespace ray {
namespace {
struct Handler {
  ray_error_fn fn;
  void *ctx;
};
std::atomic<Handler *> g_handler{nullptr};
Handler g_slots[2];
std::atomic<int> g_slot;
}  // namespace

void report_error(int err, const char *msg, const void *ptr) {
  if (Handler *h = g_handler.load(std::memory_order_acquire)) {
    h->fn(err, msg, const_cast<void *>(ptr), h->ctx);
    return;
  }
  char buf[256];
  snprintf(buf, sizeof buf, "rayalloc: error %d: %s: %p\n", err, msg, ptr);
  os::write_stderr(buf);
  abort();
}

}  // namespace ray

extern "C" RAY_API void ray_set_error_handler(ray_error_fn fn, void *ctx) {
  using namespace ray;
  if (!fn) {
    g_handler.store(nullptr, std::memory_order_release);
    return;
  }
  // Two slots, alternated, so a concurrent report never sees a half-written handler.
  int slot = g_slot.fetch_add(1, std::memory_order_relaxed) & 1;
  g_slots[slot] = Handler{fn, ctx};
  g_handler.store(&g_slots[slot], std::memory_order_release);
}
