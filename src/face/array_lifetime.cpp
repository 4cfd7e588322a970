// Lifetime-segregated heaps for RAY_HINT_SHORT_LIVED and RAY_HINT_LONG_LIVED arrays.
//
// Why: blocks that die young and blocks that live for the whole program should not share a
// slab. When they do, each long-lived block pins its slab after the short-lived ones around it
// are freed, and memory cannot go back. So each thread gets, on first use of a lifetime hint,
// two more array-purpose heaps: one for short-lived and one for long-lived arrays (arrays with
// no lifetime hint stay in the thread's ordinary array heap). Arenas keep one heap per purpose
// and ignore these hints.
//
// Owns: the per-thread pair (records come from the OS layer, never from malloc; recycled when
// a thread exits), the thread-exit hand-over (their slabs are abandoned like the thread's own,
// to be adopted by other array heaps) and fork safety of the record pool. The record is found
// through a pthread key, not a TLS variable: the library keeps one initial-exec TLS pointer
// (tls_heap) so that dlopen of it never runs out of static TLS.
#include <pthread.h>

#include <new>

#include "face/array_block.hpp"
#include "heap/abandon.hpp"
#include "support/record_pool.hpp"
#include "os/os.hpp"
#include "support/lock.hpp"

namespace ray {
namespace {

struct LifetimeHeaps {
  Heap heaps[2];  // [0] short-lived, [1] long-lived
  LifetimeHeaps *next_free;
};

RecordPool<LifetimeHeaps> g_records;
pthread_key_t g_key;
std::atomic<int> g_key_state;  // 0: none, 1: being created, 2: ready

void fork_prepare() {
  g_records.lock.lock();
}
void fork_parent() {
  g_records.lock.unlock();
}
void fork_child() {
  g_records.lock.reset();
}

void thread_done(void *arg) {
  auto *t = static_cast<LifetimeHeaps *>(arg);
  heap_abandon(&t->heaps[0]);
  heap_abandon(&t->heaps[1]);
  g_records.give(t);
}

bool key_ready() {
  int st = g_key_state.load(std::memory_order_acquire);
  if (RAY_LIKELY(st == 2)) return true;
  int expect = 0;
  if (g_key_state.compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) {
    if (pthread_key_create(&g_key, thread_done) != 0) {
      g_key_state.store(0, std::memory_order_release);
      return false;
    }
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    g_key_state.store(2, std::memory_order_release);
    return true;
  }
  while (g_key_state.load(std::memory_order_acquire) == 1) sched_yield();
  return g_key_state.load(std::memory_order_acquire) == 2;
}

RAY_NOINLINE LifetimeHeaps *setup_thread() {
  if (thread_heap() == nullptr || !key_ready()) return nullptr;  // engine first
  LifetimeHeaps *t = g_records.take();
  if (!t) return nullptr;
  heap_init(&t->heaps[0], HeapKind::Thread, kPurposeArray, &kGlobalSource);
  heap_init(&t->heaps[1], HeapKind::Thread, kPurposeArray, &kGlobalSource);
  if (pthread_setspecific(g_key, t) != 0) {
    g_records.give(t);
    return nullptr;
  }
  return t;
}

// The calling thread's record, or nullptr if it has none yet.
LifetimeHeaps *my_record() {
  if (g_key_state.load(std::memory_order_acquire) != 2) return nullptr;
  return static_cast<LifetimeHeaps *>(pthread_getspecific(g_key));
}

}  // namespace

Heap *lifetime_heap(bool long_lived) {
  LifetimeHeaps *t = my_record();
  if (RAY_UNLIKELY(t == nullptr) && (t = setup_thread()) == nullptr) return nullptr;
  return &t->heaps[long_lived ? 1 : 0];
}

void lifetime_heaps_trim() {
  if (LifetimeHeaps *t = my_record()) {
    heap_trim(&t->heaps[0]);
    heap_trim(&t->heaps[1]);
  }
}

bool is_my_lifetime_heap(const Heap *h) {
  // Only thread array heaps other than the caller's own can be: skip the key for the rest.
  if (h->kind != HeapKind::Thread || h->purpose != kPurposeArray || h == tls_heap + 1) return false;
  const LifetimeHeaps *t = my_record();
  return t != nullptr && (h == &t->heaps[0] || h == &t->heaps[1]);
}

}  // namespace ray
