// Engine start-up, per-thread heaps, thread exit and fork.
//
// Start-up never allocates through malloc: the reservation and the thread-heap pool come
// straight from the OS layer, options are read with getenv. pthread_atfork may call malloc on
// some libcs: by then the core is ready, and a re-entrant call on the initialising thread is
// let through (tls_in_init) instead of waiting on itself.
#include <errno.h>
#include <pthread.h>

#include <new>

#include "arena/span_heap.hpp"
#include "heap/abandon.hpp"
#include "heap/heap.hpp"
#include "os/os.hpp"
#include "support/options.hpp"

namespace ray {

constinit Heap g_empty_heap{&g_empty_span};
__thread Heap *tls_heap = &g_empty_heap;

namespace {

struct ThreadHeaps {
  Heap heaps[2];  // [kPurposeMalloc], [kPurposeArray]
  ThreadHeaps *next_free;
};

SpinLock g_init_lock;
std::atomic<int> g_state;  // 0: not started, 1: core ready, 2: fully ready
__thread bool tls_in_init;
pthread_key_t g_key;

SpinLock g_pool_lock;
ThreadHeaps *g_pool_free;
char *g_pool_bump, *g_pool_end;

ThreadHeaps *pool_take() {
  LockGuard g(g_pool_lock);
  if (ThreadHeaps *t = g_pool_free) {
    g_pool_free = t->next_free;
    return t;
  }
  size_t sz = align_up(sizeof(ThreadHeaps), 64);
  if (g_pool_bump == nullptr || g_pool_bump + sz > g_pool_end) {
    constexpr size_t kChunk = 256 * 1024;
    char *m = static_cast<char *>(os::reserve(kChunk, kPage));
    if (!m) return nullptr;
    g_pool_bump = m;
    g_pool_end = m + kChunk;
  }
  void *mem = g_pool_bump;
  g_pool_bump += sz;
  return new (mem) ThreadHeaps();
}

void pool_give(ThreadHeaps *t) {
  LockGuard g(g_pool_lock);
  t->next_free = g_pool_free;
  g_pool_free = t;
}

void thread_done(void *arg) {
  auto *t = static_cast<ThreadHeaps *>(arg);
  tls_heap = &g_empty_heap;
  heap_abandon(&t->heaps[0]);
  heap_abandon(&t->heaps[1]);
  pool_give(t);
}

void fork_prepare() {
  g_pool_lock.lock();
  abandon_fork_prepare();
  span_heap_fork_prepare();
}
void fork_parent() {
  span_heap_fork_parent();
  abandon_fork_parent();
  g_pool_lock.unlock();
}
void fork_child() {
  span_heap_fork_child();
  abandon_fork_child();
  g_pool_lock.reset();
}

}  // namespace

bool engine_ready() { return g_state.load(std::memory_order_acquire) == 2; }

bool engine_init() {
  if (RAY_LIKELY(g_state.load(std::memory_order_acquire) == 2)) return true;
  if (tls_in_init) return g_state.load(std::memory_order_relaxed) >= 1;
  LockGuard guard(g_init_lock);
  if (g_state.load(std::memory_order_relaxed) == 2) return true;
  tls_in_init = true;
  block_secret_init();
  options_init();
  bool ok = reservation_init(g_options.reserve);
  if (ok) {
    SpanHeapConfig cfg;
    cfg.cache_bytes = g_options.cache_bytes;
    cfg.purge_delay_ms = g_options.decommit_delay_ms;
    span_heap_configure(cfg);
    g_state.store(1, std::memory_order_release);
    pthread_key_create(&g_key, thread_done);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    g_state.store(2, std::memory_order_release);
  }
  tls_in_init = false;
  return ok;
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
  tls_heap = &t->heaps[0];
  // Set before pthread_setspecific: glibc may calloc for keys >= 32, which must find a heap.
  if (g_state.load(std::memory_order_acquire) == 2) pthread_setspecific(g_key, t);
  return tls_heap;
}

}  // namespace ray
