// Fork safety for the locks arenas and pools add. free() of an arena or pool block takes its
// lock, so a fork() while another thread holds one would leave the child's copy locked forever.
// Every such lock is registered here; pthread_atfork handlers (installed on first use) take
// them all before fork and release (parent) or reset (child) them after.
//
// Order: the registry lock, then each node's locks in registration order. Our prepare handler
// is registered after the engine's, so it runs before it: arena/pool locks are taken before the
// span-heap lock, the same order as every allocation path.
#pragma once
#include "support/lock.hpp"

namespace ray {

struct ForkLocks {
  SpinLock *first = nullptr, *second = nullptr;  // second may be null
  ForkLocks *next = nullptr, *prev = nullptr;
};

void fork_locks_add(ForkLocks *n);
void fork_locks_remove(ForkLocks *n);

}  // namespace ray
