// Engine start-up, per-thread heaps, thread exit and fork.
//
// Start-up never allocates through malloc: the reservation and the thread-heap pool come
// straight from the OS layer, options are read with getenv. pthread_atfork may call malloc on
// some libcs: by then the core is ready, and a re-entrant call on the initialising thread is
// let through (tls_in_init) instead of waiting on itself.
//
// Start-up runs in two steps. The core (state 0 -> 1) runs under g_init_lock. Then one thread
// registers the thread-exit key and the fork handlers (1 -> 2), outside the lock, while others
// wait for it. A fork may come while another thread is in either step. Handlers registered when
// the library loads make fork wait for the core step (otherwise the child would inherit
// g_init_lock held by a thread it does not have), and let the child redo a registration it did
// not see finish. The core step must not call pthread_atfork: fork holds the lock that
// pthread_atfork takes while the prepare handlers run, and one of them waits for g_init_lock.
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include <new>

#include "arena/span_heap.hpp"
#include "heap/abandon.hpp"
#include "heap/heap.hpp"
#include "os/os.hpp"
#include "debug/hooks.hpp"
#include "support/options.hpp"
#include "support/record_pool.hpp"
#include "support/stats.hpp"

namespace ray {

constinit Heap g_empty_heap{&g_empty_span};
__thread Heap *tls_heap = &g_empty_heap;

namespace {

struct ThreadHeaps {
  Heap heaps[2];  // [kPurposeMalloc], [kPurposeArray]
  ThreadHeaps *next_free;
  ThreadHeaps *next_all;   // every record ever made, for statistics (never unlinked)
  std::atomic<bool> live;  // its thread runs
};

SpinLock g_init_lock;
std::atomic<int> g_state;         // 0: not started, 1: core ready, 2: fully ready
std::atomic<bool> g_registering;  // a thread has taken the 1 -> 2 step
__thread bool tls_in_init;
pthread_key_t g_key;

RecordPool<ThreadHeaps> g_records;
ThreadHeaps *g_all;  // every record ever made, under g_records.lock

ThreadHeaps *pool_take() {
  LockGuard g(g_records.lock);
  bool fresh;
  ThreadHeaps *t = g_records.take_locked(&fresh);
  if (t && fresh) {
    t->next_all = g_all;
    g_all = t;
  }
  return t;
}

void thread_done(void *arg) {
  auto *t = static_cast<ThreadHeaps *>(arg);
  tls_heap = &g_empty_heap;
  heap_abandon(&t->heaps[0]);
  heap_abandon(&t->heaps[1]);
  t->live.store(false, std::memory_order_relaxed);
  stats_thread_exit(&t->heaps[0]);  // its counts move to the exited-threads totals
  g_records.give(t);
}

void fork_prepare() {
  g_records.lock.lock();
  abandon_fork_prepare();
  span_heap_fork_prepare();
}
void fork_parent() {
  span_heap_fork_parent();
  abandon_fork_parent();
  g_records.lock.unlock();
}
void fork_child() {
  span_heap_fork_child();
  abandon_fork_child();
  g_records.lock.reset();
}

// Registered at load, before any thread can be starting the engine (see the note on top).
void init_fork_prepare() {
  g_init_lock.lock();
}
void init_fork_parent() {
  g_init_lock.unlock();
}
void init_fork_child() {
  g_init_lock.reset();
  // A registration the parent had under way is not finished in the child: the next
  // engine_init here does it.
  if (g_state.load(std::memory_order_relaxed) == 1)
    g_registering.store(false, std::memory_order_relaxed);
}
__attribute__((constructor)) void register_init_fork_handlers() {
  pthread_atfork(init_fork_prepare, init_fork_parent, init_fork_child);
}

// The core step (0 -> 1), under g_init_lock. False if the OS refused the reservation.
bool init_core() {
  LockGuard guard(g_init_lock);
  if (g_state.load(std::memory_order_relaxed) != 0) return true;
  tls_in_init = true;
  block_secret_init();
  options_init();
  bool ok = reservation_init(g_options.reserve);
  // Slabs keep a count beside a block address in one word (slab.cpp: thread_free): the
  // reservation must lie below 2^48, as Linux places mappings made without an address hint.
  ok = ok && g_res.base + g_res.size <= (uintptr_t(1) << 48);
  if (ok) {
    debug_taken_back(reinterpret_cast<void *>(g_res.base), g_res.size);  // valgrind: not yet ours
    SpanHeapConfig cfg;
    cfg.cache_bytes = g_options.cache_bytes;
    cfg.purge_delay_ms = g_options.decommit_delay_ms;
    span_heap_configure(cfg);
    if (g_options.verbose) options_print(g_res.size);
    g_state.store(1, std::memory_order_release);
  }
  tls_in_init = false;
  return ok;
}

}  // namespace

bool engine_ready() {
  return g_state.load(std::memory_order_acquire) == 2;
}

bool engine_init() {
  if (RAY_LIKELY(g_state.load(std::memory_order_acquire) == 2)) return true;
  if (tls_in_init) return g_state.load(std::memory_order_relaxed) >= 1;
  if (!init_core()) return false;
  // The 1 -> 2 step, by one thread, outside g_init_lock (see the note on top).
  bool expected = false;
  if (g_registering.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    tls_in_init = true;
    pthread_key_create(&g_key, thread_done);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    g_state.store(2, std::memory_order_release);
    tls_in_init = false;
    return true;
  }
  while (g_state.load(std::memory_order_acquire) != 2) sched_yield();
  return true;
}

Heap *thread_heap() {
  Heap *h = tls_heap;
  if (RAY_LIKELY(h->kind != HeapKind::Empty)) return h;
  if (!engine_init()) return nullptr;
  h = tls_heap;  // a re-entrant call during start-up may have set it up
  if (h->kind != HeapKind::Empty) return h;
  ThreadHeaps *t = pool_take();
  if (!t) return nullptr;
  heap_init(&t->heaps[0], HeapKind::Thread, kPurposeMalloc, &kGlobalSource);
  heap_init(&t->heaps[1], HeapKind::Thread, kPurposeArray, &kGlobalSource);
  t->live.store(true, std::memory_order_relaxed);
  tls_heap = &t->heaps[0];
  // Set before pthread_setspecific: glibc may calloc for keys >= 32, which must find a heap.
  if (g_state.load(std::memory_order_acquire) == 2) pthread_setspecific(g_key, t);
  return tls_heap;
}

void for_each_thread_heap(void (*fn)(Heap *h, bool live, void *ctx), void *ctx) {
  LockGuard g(g_records.lock);
  for (ThreadHeaps *t = g_all; t; t = t->next_all)
    fn(&t->heaps[0], t->live.load(std::memory_order_relaxed), ctx);
}

}  // namespace ray
