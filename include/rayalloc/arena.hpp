// rayalloc/arena.hpp: ray::arena, an owning handle of a ray_arena (RAII).
//
//   ray::arena a({.limit = 64 << 20});
//   auto *p = static_cast<Node *>(a.malloc(sizeof(Node)));
//   ray::pool<Node> nodes(a);
//   a.reset();  // everything made in it is gone at once; the arena stays
//
// Destroying (or resetting) the arena frees every block, array and pool made in it.
#pragma once
#include <cstddef>
#include <new>
#include <utility>

#include "rayalloc.h"

namespace ray {

namespace detail {
[[noreturn]] inline void throw_bad_alloc() {
#if defined(__cpp_exceptions)
  throw std::bad_alloc();
#else
  __builtin_trap();
#endif
}
}  // namespace detail

class arena {
 public:
  // A thread-safe arena with no limit and no callbacks. Throws std::bad_alloc on failure.
  arena() : a_(ray_arena_new(nullptr)) {
    if (!a_) detail::throw_bad_alloc();
  }
  // Throws std::bad_alloc on failure (also for bad options: errno tells EINVAL).
  explicit arena(const ray_arena_opts &opts) : a_(ray_arena_new(&opts)) {
    if (!a_) detail::throw_bad_alloc();
  }
  ~arena() { ray_arena_destroy(a_); }
  arena(arena &&o) noexcept : a_(std::exchange(o.a_, nullptr)) {}
  arena &operator=(arena &&o) noexcept {
    if (this != &o) {
      ray_arena_destroy(a_);
      a_ = std::exchange(o.a_, nullptr);
    }
    return *this;
  }
  arena(const arena &) = delete;
  arena &operator=(const arena &) = delete;

  ray_arena *get() const noexcept { return a_; }
  // 16-aligned block in this arena; nullptr (errno ENOMEM) past the limit. free() takes it.
  void *malloc(std::size_t size) noexcept { return ray_arena_malloc(a_, size); }
  // Frees everything made in the arena; the arena stays usable.
  void reset() noexcept { ray_arena_reset(a_); }
  // This arena's statistics (reserved, committed, allocated, peak_allocated, ...).
  ray_stats stats() const noexcept {
    ray_stats s{};
    ray_stats_get(a_, &s);
    return s;
  }
  // Gives up ownership: the caller destroys the arena.
  ray_arena *release() noexcept { return std::exchange(a_, nullptr); }

 private:
  ray_arena *a_;
};

}  // namespace ray
