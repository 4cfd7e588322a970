// os: the only layer that talks to the kernel about memory.
//
// Owns: reserving address space, committing/decommitting pages, moving page tables (mremap),
// huge-page advice. Everything above reaches the kernel through `PageSource`, so tests can
// install a fake that fails on demand (see `os_set_page_source`).
//
// Invariants: every call is async-signal-safe and never allocates; failures are reported as
// false/nullptr with errno left as the kernel set it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ray::os {

constexpr size_t kPageSize = 4096;

struct PageSource {
  // Reserve `bytes` of address space aligned to `align`, readable and writable but not charged
  // (MAP_NORESERVE): pages become resident only when touched.
  void *(*reserve)(size_t bytes, size_t align);
  void (*release)(void *addr, size_t bytes);
  // Logical commit: the kernel backs the pages on first touch. May fail (fault injection).
  bool (*commit)(void *addr, size_t bytes);
  // Give the physical pages back; the range stays reserved and reads as zero afterwards.
  bool (*decommit)(void *addr, size_t bytes);
  // Move the pages of [from, from+bytes) to `to` (inside the reservation) without copying, and
  // leave `from` reserved again. `to` must not overlap `from`.
  bool (*move_pages)(void *from, void *to, size_t bytes);
  void (*advise_huge)(void *addr, size_t bytes, bool on);
  // Make a range inaccessible / accessible again (guard pages in the debug variant).
  bool (*protect)(void *addr, size_t bytes, bool accessible);
};

// The source in use. Defaults to the Linux one; never null.
const PageSource &page_source();
// Test hook: install another source (nullptr restores Linux). Returns the previous one.
const PageSource *os_set_page_source(const PageSource *src);

inline void *reserve(size_t bytes, size_t align) {
  return page_source().reserve(bytes, align);
}
inline void release(void *p, size_t bytes) {
  page_source().release(p, bytes);
}
inline bool commit(void *p, size_t bytes) {
  return page_source().commit(p, bytes);
}
inline bool decommit(void *p, size_t bytes) {
  return page_source().decommit(p, bytes);
}
inline bool move_pages(void *from, void *to, size_t bytes) {
  return page_source().move_pages(from, to, bytes);
}
inline void advise_huge(void *p, size_t bytes, bool on) {
  page_source().advise_huge(p, bytes, on);
}
inline bool protect(void *p, size_t bytes, bool accessible) {
  return page_source().protect(p, bytes, accessible);
}

// Monotonic milliseconds (vDSO clock; no allocation).
uint64_t now_ms();
// Write a message to stderr without allocating.
void write_stderr(const char *msg);

}  // namespace ray::os
