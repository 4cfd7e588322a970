#include "face/user_arena_fork.hpp"

#include <pthread.h>

namespace ray {
namespace {

SpinLock g_registry;
ForkLocks *g_head;
std::atomic<bool> g_installed;
SpinLock g_install;

void prepare() {
  g_registry.lock();
  for (ForkLocks *n = g_head; n; n = n->next) {
    n->first->lock();
    if (n->second) n->second->lock();
  }
}
void parent() {
  for (ForkLocks *n = g_head; n; n = n->next) {
    if (n->second) n->second->unlock();
    n->first->unlock();
  }
  g_registry.unlock();
}
void child() {
  for (ForkLocks *n = g_head; n; n = n->next) {
    if (n->second) n->second->reset();
    n->first->reset();
  }
  g_registry.reset();
}

// pthread_atfork may allocate: call it holding none of our locks, once.
void install_once() {
  if (g_installed.load(std::memory_order_acquire)) return;
  LockGuard g(g_install);
  if (g_installed.load(std::memory_order_relaxed)) return;
  pthread_atfork(prepare, parent, child);
  g_installed.store(true, std::memory_order_release);
}

}  // namespace

void fork_locks_add(ForkLocks *n) {
  install_once();
  LockGuard g(g_registry);
  n->prev = nullptr;
  n->next = g_head;
  if (g_head) g_head->prev = n;
  g_head = n;
}

void fork_locks_remove(ForkLocks *n) {
  LockGuard g(g_registry);
  (n->prev ? n->prev->next : g_head) = n->next;
  if (n->next) n->next->prev = n->prev;
  n->next = n->prev = nullptr;
}

}  // namespace ray
