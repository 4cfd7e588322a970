// Linux implementation of the PageSource: mmap/madvise/mremap only (never brk).
#include "os/os.hpp"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace ray::os {
namespace {

void *linux_reserve(size_t bytes, size_t align) {
  // Over-reserve by `align` and trim, so the result is aligned without MAP_FIXED guessing.
  size_t total = bytes + (align > kPageSize ? align : 0);
  void *p = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(p);
  uintptr_t aligned = align > kPageSize ? (start + align - 1) & ~(uintptr_t)(align - 1) : start;
  if (aligned > start) munmap(p, aligned - start);
  uintptr_t end = start + total, want_end = aligned + bytes;
  if (end > want_end) munmap(reinterpret_cast<void *>(want_end), end - want_end);
  return reinterpret_cast<void *>(aligned);
}

void linux_release(void *p, size_t bytes) {
  munmap(p, bytes);
}

bool linux_commit(void *, size_t) {
  return true;
}  // overcommit: touch backs the page

bool linux_decommit(void *p, size_t bytes) {
  // MADV_DONTNEED (not MADV_FREE) so RSS drops at once and the pages read as zero after.
  return madvise(p, bytes, MADV_DONTNEED) == 0;
}

// MREMAP_DONTUNMAP (Linux 5.7; any mapping since 5.13) leaves the source mapped, empty: it
// reads as zero afterwards, and no hole ever opens in the reservation. A plain mremap would
// leave a hole until we mmap'ed it back, and in that window another thread's mmap(NULL) (a new
// thread's stack, say) can land in it; our MAP_FIXED refill then clobbers that mapping, and
// when its owner unmaps it, a slice of the reservation and the live blocks on it go with it.
// Without the flag (older kernels, valgrind) we report failure and the caller copies.
bool linux_move_pages(void *from, void *to, size_t bytes) {
  void *r = mremap(from, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
  return r != MAP_FAILED;
}

void linux_advise_huge(void *p, size_t bytes, bool on) {
  madvise(p, bytes, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
}

bool linux_protect(void *p, size_t bytes, bool accessible) {
  return mprotect(p, bytes, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
}

constexpr PageSource kLinux = {linux_reserve,    linux_release,     linux_commit, linux_decommit,
                               linux_move_pages, linux_advise_huge, linux_protect};
std::atomic<const PageSource *> g_source{&kLinux};

}  // namespace

const PageSource &page_source() {
  return *g_source.load(std::memory_order_acquire);
}

const PageSource *os_set_page_source(const PageSource *src) {
  return g_source.exchange(src ? src : &kLinux, std::memory_order_acq_rel);
}

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

void write_stderr(const char *msg) {
  size_t n = strlen(msg);
  while (n > 0) {
    ssize_t w = write(2, msg, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    msg += w;
    n -= size_t(w);
  }
}

}  // namespace ray::os
