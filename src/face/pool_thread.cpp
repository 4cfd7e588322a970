// Per-thread pools for ray::pool_allocator<T>, which is stateless: each thread has its own
// default-arena pool per object geometry, so an allocation takes an uncontended lock, and a
// free from any thread goes through that pool's lock (pool.hpp). When a thread exits, its pools
// wait on an orphan list; the next thread asking for the same geometry adopts one, so the live
// objects stay valid and the free slots are reused instead of stranded.
#include <errno.h>
#include <pthread.h>

#include "face/pool.hpp"

using namespace ray;

namespace {

constexpr int kSlots = 16;  // geometries per thread; past that, callers fall back to malloc

struct ThreadPools {
  size_t block_size[kSlots], align[kSlots];
  ray_pool *pool[kSlots];
  int count;
};
// A pointer only: static TLS is scarce for a library that may be dlopen'ed.
__thread ThreadPools *tls_pools;

SpinLock g_orphan_lock;
ray_pool *g_orphans;
ForkLocks g_orphan_fork;

pthread_key_t g_key;
std::atomic<bool> g_key_ready;
SpinLock g_key_lock;

void thread_exit(void *arg) {
  auto *t = static_cast<ThreadPools *>(arg);
  {
    LockGuard g(g_orphan_lock);
    for (int i = 0; i < t->count; i++) {
      t->pool[i]->orphan_next = g_orphans;
      g_orphans = t->pool[i];
    }
  }
  tls_pools = nullptr;
  heap_free(t);
}

bool key_ready() {
  if (g_key_ready.load(std::memory_order_acquire)) return true;
  LockGuard g(g_key_lock);
  if (!g_key_ready.load(std::memory_order_relaxed)) {
    if (pthread_key_create(&g_key, thread_exit) != 0) return false;
    g_orphan_fork.first = &g_orphan_lock;
    fork_locks_add(&g_orphan_fork);
    g_key_ready.store(true, std::memory_order_release);
  }
  return true;
}

ray_pool *adopt_orphan(size_t block_size, size_t align) {
  LockGuard g(g_orphan_lock);
  for (ray_pool **link = &g_orphans; *link; link = &(*link)->orphan_next) {
    ray_pool *p = *link;
    if (p->block_size == block_size && p->align == align) {
      *link = p->orphan_next;
      p->orphan_next = nullptr;
      return p;
    }
  }
  return nullptr;
}

}  // namespace

extern "C" RAY_API ray_pool *ray_pool_thread_local(size_t obj_size, size_t align) {
  size_t block_size;
  if (int err = pool_geometry(obj_size, &align, &block_size)) {
    errno = err;
    return nullptr;
  }
  ThreadPools *t = tls_pools;
  if (t) {
    for (int i = 0; i < t->count; i++)
      if (t->block_size[i] == block_size && t->align[i] == align) return t->pool[i];
    if (t->count == kSlots) return nullptr;
  }
  if (!key_ready()) return nullptr;
  if (!t) {
    t = static_cast<ThreadPools *>(heap_malloc(sizeof(ThreadPools)));
    if (!t) return nullptr;
    t->count = 0;
    tls_pools = t;
    pthread_setspecific(g_key, t);  // thread_exit runs when the thread ends
  }
  ray_pool *p = adopt_orphan(block_size, align);
  if (!p) p = ray_pool_new(obj_size, align, nullptr);
  if (!p) return nullptr;
  t->block_size[t->count] = block_size;
  t->align[t->count] = align;
  t->pool[t->count] = p;
  t->count++;
  return p;
}
