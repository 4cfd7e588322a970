// rayalloc/pool.hpp: ray::pool<T> (typed pool that constructs and destroys objects) and
// ray::pool_allocator<T> (a stateless allocator for node containers: std::map, std::set,
// std::list, std::unordered_map).
//
//   ray::pool<Node> nodes;                    // or ray::pool<Node> nodes(arena);
//   Node *n = nodes.create(1, 2);             // Node(1, 2) in the pool
//   nodes.destroy(n);                         // ~Node, slot reused by the next create
//   // ~pool: runs ~Node on every live object, then frees the pool's pages at once
//
//   std::map<int, int, std::less<int>, ray::pool_allocator<std::pair<const int, int>>> m;
//
// Objects are packed at their exact size (rounded to their alignment), with no header.
#pragma once
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "rayalloc.h"
#include "rayalloc/arena.hpp"

extern "C" {
/* The calling thread's pool for objects of `obj_size` bytes aligned to `align` (0: default),
 * in the default arena; made on first use, lives as long as the process (pools of exited
 * threads are adopted by later ones). NULL if none can be had (then use ray_malloc). Any thread
 * may free its objects (ray_free / free / ray_pool_free). This is what pool_allocator uses. */
RAY_API ray_pool *ray_pool_thread_local(size_t obj_size, size_t align);
}

namespace ray {

template <class T>
class pool {
 public:
  // A pool in the default (thread-safe) arena, or in `a` (as thread-safe as `a`).
  explicit pool(ray_arena *a = nullptr) : p_(ray_pool_new(sizeof(T), alignof(T), a)) {
    if (!p_) detail::throw_bad_alloc();
  }
  explicit pool(ray::arena &a) : pool(a.get()) {}
  // Runs ~T on every live object, then frees all of the pool's memory at once.
  ~pool() { drop(); }
  pool(pool &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  pool &operator=(pool &&o) noexcept {
    if (this != &o) {
      drop();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  pool(const pool &) = delete;
  pool &operator=(const pool &) = delete;

  // A new T(args...) in the pool. Throws std::bad_alloc when out of memory (arena limit).
  template <class... Args>
  T *create(Args &&...args) {
    void *m = ray_pool_alloc(p_);
    if (!m) detail::throw_bad_alloc();
#if defined(__cpp_exceptions)
    try {
      return ::new (m) T(std::forward<Args>(args)...);
    } catch (...) {
      ray_pool_free(p_, m);
      throw;
    }
#else
    return ::new (m) T(std::forward<Args>(args)...);
#endif
  }
  // ~T, and the slot goes back to the pool. nullptr does nothing.
  void destroy(T *obj) noexcept {
    if (!obj) return;
    obj->~T();
    ray_pool_free(p_, obj);
  }
  // f(T&) for every live object; f may destroy() the object it is given, nothing else.
  template <class F>
  void visit(F &&f) {
    auto call = [](void *obj, void *ctx) { (*static_cast<F *>(ctx))(*static_cast<T *>(obj)); };
    ray_pool_visit(p_, call, const_cast<void *>(static_cast<const void *>(&f)));
  }
  ray_pool *get() const noexcept {
    return p_;
  }

 private:
  void drop() noexcept {
    if (!p_) return;
    if constexpr (!std::is_trivially_destructible_v<T>)
      ray_pool_visit(
          p_, [](void *obj, void *) { static_cast<T *>(obj)->~T(); }, nullptr);
    ray_pool_destroy(p_);
    p_ = nullptr;
  }
  ray_pool *p_;
};

// Single objects come from the calling thread's pool for sizeof(T) (exact size, no header);
// arrays (n > 1) from ray_malloc. Any thread may deallocate. All instances are equal.
template <class T>
struct pool_allocator {
  using value_type = T;
  using is_always_equal = std::true_type;

  pool_allocator() noexcept = default;
  template <class U>
  pool_allocator(const pool_allocator<U> &) noexcept {}

  T *allocate(std::size_t n) {
    void *p = nullptr;
    if (n == 1) {
      static thread_local ray_pool *mine = nullptr;
      if (!mine) mine = ray_pool_thread_local(sizeof(T), alignof(T));
      if (mine) p = ray_pool_alloc(mine);
    }
    if (!p && n <= std::size_t(-1) / sizeof(T)) {
      if constexpr (alignof(T) <= 16)
        p = ray_malloc(n * sizeof(T));
      else
        p = ray_aligned_alloc(alignof(T), (n * sizeof(T) + alignof(T) - 1) & ~(alignof(T) - 1));
    }
    if (!p) detail::throw_bad_alloc();
    return static_cast<T *>(p);
  }
  void deallocate(T *p, std::size_t) noexcept { ray_free(p); }
};

template <class T, class U>
bool operator==(const pool_allocator<T> &, const pool_allocator<U> &) noexcept {
  return true;
}

}  // namespace ray
