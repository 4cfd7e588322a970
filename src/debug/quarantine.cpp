// The delayed-reuse ring of the debug variant; the design note is in quarantine.hpp.
#ifdef RAY_DEBUG
#include "debug/quarantine.hpp"

#include <pthread.h>

#include <atomic>

#include "heap/heap.hpp"
#include "support/lock.hpp"
#include "support/options.hpp"

namespace ray {
namespace {

constexpr size_t kRingCap = 8192;  // blocks held at most, whatever their size
constexpr size_t kBatch = 32;      // released per lock hold

struct Held {
  uintptr_t user;
  size_t bytes;
};

SpinLock g_lock;
Held g_ring[kRingCap];
size_t g_head, g_count;  // under g_lock
std::atomic<size_t> g_bytes, g_blocks;

// Under g_lock: take the oldest held blocks out while over the limits (all when `all`).
size_t take_overflow(Held *out, bool all) {
  size_t n = 0, budget = g_options.debug_quarantine;
  while (n < kBatch && g_count > 0 &&
         (all || g_count >= kRingCap || g_bytes.load(std::memory_order_relaxed) > budget)) {
    out[n++] = g_ring[g_head];
    g_head = (g_head + 1) % kRingCap;
    g_count--;
    g_bytes.fetch_sub(out[n - 1].bytes, std::memory_order_relaxed);
    g_blocks.fetch_sub(1, std::memory_order_relaxed);
  }
  return n;
}

void drain(bool all) {
  Held batch[kBatch];
  for (;;) {
    size_t n;
    {
      LockGuard g(g_lock);
      n = take_overflow(batch, all);
    }
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) release_freed_block(batch[i].user);
  }
}

void fork_prepare() {
  g_lock.lock();
}
void fork_parent() {
  g_lock.unlock();
}
void fork_child() {
  g_lock.reset();
}

// At load time: the engine first, so that whatever pthread_atfork allocates finds it ready.
__attribute__((constructor)) void register_fork_handlers() {
  thread_heap();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

}  // namespace

void quarantine_push(uintptr_t user, size_t engine_bytes) {
  if (engine_bytes > g_options.debug_quarantine / 4) {  // also when the quarantine is off (0)
    release_freed_block(user);
    return;
  }
  {
    LockGuard g(g_lock);
    if (g_count < kRingCap) {
      g_ring[(g_head + g_count) % kRingCap] = Held{user, engine_bytes};
      g_count++;
      g_bytes.fetch_add(engine_bytes, std::memory_order_relaxed);
      g_blocks.fetch_add(1, std::memory_order_relaxed);
      user = 0;
    }
  }
  if (user) release_freed_block(user);  // the ring is full of blocks being drained
  drain(false);
}

void quarantine_flush() {
  drain(true);
}
size_t debug_quarantine_bytes() {
  return g_bytes.load(std::memory_order_relaxed);
}
size_t debug_quarantine_blocks() {
  return g_blocks.load(std::memory_order_relaxed);
}

}  // namespace ray
#endif  // RAY_DEBUG
