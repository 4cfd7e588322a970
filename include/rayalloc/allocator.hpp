// rayalloc/allocator.hpp: standard-library glue for rayalloc's default arena.
//
//  - ray::allocator<T>: a stateless allocator (all instances equal) for any std container,
//    with allocate_at_least, which returns the block's real size (ray_usable_size), so a
//    container that uses it (std::vector in C++23) gets the slack as capacity for free.
//  - ray::memory_resource: a default-constructible std::pmr::memory_resource over the same
//    memory; ray::default_memory_resource() is one shared instance.
// Both use the ray_-prefixed entry points, so they work in the prefixed library too (where the
// system malloc stays in place).
#pragma once
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <type_traits>

#include "rayalloc.h"
#include "rayalloc/array.hpp"

namespace ray {

#if defined(__cpp_lib_allocate_at_least) && __cpp_lib_allocate_at_least >= 202106L
template <class P>
using allocation_result = std::allocation_result<P>;
#else
// std::allocation_result where the standard library has it (C++23); the same shape otherwise.
template <class P>
struct allocation_result {
  P ptr;
  size_t count;
};
#endif

namespace array_detail {
inline void *raw_allocate(size_t bytes, size_t align) {
  if (align <= 16) return ray_malloc(bytes);
  return ray_aligned_alloc(align, bytes);
}
}  // namespace array_detail

template <class T>
class allocator {
 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;

  constexpr allocator() noexcept = default;
  template <class U>
  constexpr allocator(const allocator<U> &) noexcept {}

  [[nodiscard]] T *allocate(size_t n) { return allocate_at_least(n).ptr; }

  // At least n objects; `count` is how many fit in the block rayalloc handed out.
  [[nodiscard]] allocation_result<T *> allocate_at_least(size_t n) {
    if (n > size_t(PTRDIFF_MAX) / sizeof(T)) array_detail::throw_bad_alloc();
    void *p = array_detail::raw_allocate(n * sizeof(T), alignof(T));
    if (!p) array_detail::throw_bad_alloc();
    size_t count = ray_usable_size(p) / sizeof(T);
    return {static_cast<T *>(p), count < n ? n : count};
  }

  void deallocate(T *p, size_t) noexcept { ray_free(p); }

  template <class U>
  friend constexpr bool operator==(const allocator &, const allocator<U> &) noexcept {
    return true;
  }
};

// std::pmr::memory_resource over rayalloc's default arena. Stateless: every instance is
// interchangeable with every other (do_is_equal), so memory from one may go back to another.
class memory_resource : public std::pmr::memory_resource {
 public:
  memory_resource() noexcept = default;

 protected:
  void *do_allocate(size_t bytes, size_t align) override {
    void *p = array_detail::raw_allocate(bytes ? bytes : 1, align);
    if (!p) array_detail::throw_bad_alloc();
    return p;
  }
  void do_deallocate(void *p, size_t, size_t) override { ray_free(p); }
  bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override {
#if defined(__GXX_RTTI) || defined(_CPPRTTI)
    return this == &other || dynamic_cast<const memory_resource *>(&other) != nullptr;
#else
    return this == &other;
#endif
  }
};

// One shared instance, e.g. for std::pmr::set_default_resource(ray::default_memory_resource()).
inline memory_resource *default_memory_resource() noexcept {
  static memory_resource r;
  return &r;
}

}  // namespace ray
