// rayalloc/array.hpp: ray::array<T>, the std::vector interface on one pointer.
//
// The object is the C array's data pointer (sizeof(ray::array<T>) == sizeof(T*)); length,
// capacity and element size live in the allocator's header before the data, so
// `ray_array_len(a.data()) == a.size()` and the data can be handed to C code as is. A
// default-constructed array holds NULL and allocates on first growth; one constructed from
// ray_array_opts starts as a real empty array with those hints, alignment and arena, which every
// later move and copy keeps.
//
// Relocation: when ray::is_trivially_relocatable<T> (default: std::is_trivially_copyable_v<T>;
// specialise it for types that can be moved by memcpy), growth goes through the C calls, which
// grow in place or move the pages (mremap) or the live bytes (memcpy). Other types grow in place
// when the block allows it, else are moved element by element into a new array
// (std::move_if_noexcept, as std::vector does, so a throwing copy leaves the array intact).
//
// Fast paths: push_back/emplace_back that fit are inlined (a compare, the construction, a store
// of the length), as are size(), capacity() and operator[]. Programs linked with the debug
// library define RAYALLOC_DEBUG, which routes every length change through the library so that
// it can poison and check the unused capacity.
#pragma once
#include <algorithm>
#include <cerrno>
#include <compare>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rayalloc.h"

namespace ray {

// Types that may be moved by copying their bytes (and not destroying the source).
template <class T>
struct is_trivially_relocatable : std::bool_constant<std::is_trivially_copyable_v<T>> {};
template <class T>
inline constexpr bool is_trivially_relocatable_v = is_trivially_relocatable<T>::value;

namespace array_detail {

#if defined(RAYALLOC_DEBUG)
inline constexpr bool kInlineArrays = false;
#else
inline constexpr bool kInlineArrays = true;
#endif

#if defined(__cpp_exceptions)
#define RAY_TRY try
#define RAY_CATCH_ALL catch (...)
#define RAY_RETHROW throw
[[noreturn]] inline void throw_bad_alloc() {
  throw std::bad_alloc();
}
[[noreturn]] inline void throw_length_error(const char *m) {
  throw std::length_error(m);
}
[[noreturn]] inline void throw_out_of_range(const char *m) {
  throw std::out_of_range(m);
}
[[noreturn]] inline void throw_invalid_argument(const char *m) {
  throw std::invalid_argument(m);
}
#else
#define RAY_TRY if (true)
#define RAY_CATCH_ALL if (false)
#define RAY_RETHROW
[[noreturn]] inline void throw_bad_alloc() {
  std::abort();
}
[[noreturn]] inline void throw_length_error(const char *) {
  std::abort();
}
[[noreturn]] inline void throw_out_of_range(const char *) {
  std::abort();
}
[[noreturn]] inline void throw_invalid_argument(const char *) {
  std::abort();
}
#endif

// The public header words before the data (rayalloc.h): [-1] length, [-2] capacity.
inline size_t *array_words(const void *d) noexcept {
  return static_cast<size_t *>(const_cast<void *>(d));
}

// Value-initialisation is all-zero bytes (what ray_array_resize gives).
template <class T>
inline constexpr bool zero_is_value_init_v =
    std::is_arithmetic_v<T> || std::is_pointer_v<T> || std::is_enum_v<T>;

}  // namespace array_detail

template <class T>
class array {
  static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                "ray::array<T>: T must be an object type");
  static constexpr bool kReloc = is_trivially_relocatable_v<T>;
  static constexpr bool kTrivial = std::is_trivially_copyable_v<T>;

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using reference = T &;
  using const_reference = const T &;
  using pointer = T *;
  using const_pointer = const T *;
  using iterator = T *;
  using const_iterator = const T *;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  // ---- construction ----
  array() noexcept = default;
  // A real empty array with these hints, alignment, max_cap and arena (kept for life).
  explicit array(const ray_array_opts &opts, size_type cap = 0) : d_(create(cap, &opts)) {}
  explicit array(size_type n) { resize(n); }
  array(size_type n, const T &v) { assign(n, v); }
  template <std::input_iterator It>
  array(It first, It last) {
    append_range(first, last);
  }
  array(std::initializer_list<T> il) { append_range(il.begin(), il.end()); }
  array(const array &o) : d_(copy_of(o)) {}
  array(array &&o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  ~array() { destroy(); }

  array &operator=(const array &o) {
    if (this != &o) {
      if constexpr (kTrivial) {
        if (d_ && o.size() <= capacity()) {
          if (o.size()) std::memcpy(static_cast<void *>(d_), o.d_, o.size() * sizeof(T));
          set_len(o.size());
          return *this;
        }
      }
      array tmp(o);
      swap(tmp);
    }
    return *this;
  }
  array &operator=(array &&o) noexcept {
    if (this != &o) {
      destroy();
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  array &operator=(std::initializer_list<T> il) {
    assign(il.begin(), il.end());
    return *this;
  }

  // Take ownership of a C array made with elem_size sizeof(T) (NULL: empty), and give it back.
  static array adopt(T *c_array) noexcept {
    array a;
    a.d_ = c_array;
    return a;
  }
  [[nodiscard]] T *release() noexcept { return std::exchange(d_, nullptr); }

  void assign(size_type n, const T &v) {
    if (n > capacity()) {
      array tmp = adopt(d_ ? like(n) : create(n, nullptr));
      for (size_type i = 0; i < n; i++) tmp.emplace_back(v);
      swap(tmp);
      return;
    }
    clear();
    for (size_type i = 0; i < n; i++) emplace_back(v);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    if constexpr (std::forward_iterator<It>) {
      if (aliases(first)) {  // a range of this very array
        array tmp(first, last);
        swap(tmp);
        return;
      }
    }
    clear();
    append_range(first, last);
  }
  void assign(std::initializer_list<T> il) { assign(il.begin(), il.end()); }

  // ---- element access ----
  reference at(size_type i) {
    if (i >= size()) array_detail::throw_out_of_range("ray::array::at");
    return d_[i];
  }
  const_reference at(size_type i) const {
    if (i >= size()) array_detail::throw_out_of_range("ray::array::at");
    return d_[i];
  }
  reference operator[](size_type i) noexcept { return d_[i]; }
  const_reference operator[](size_type i) const noexcept { return d_[i]; }
  reference front() noexcept { return d_[0]; }
  const_reference front() const noexcept { return d_[0]; }
  reference back() noexcept { return d_[size() - 1]; }
  const_reference back() const noexcept { return d_[size() - 1]; }
  T *data() noexcept { return d_; }
  const T *data() const noexcept { return d_; }

  // ---- iterators ----
  iterator begin() noexcept { return d_; }
  const_iterator begin() const noexcept { return d_; }
  const_iterator cbegin() const noexcept { return d_; }
  iterator end() noexcept { return d_ + size(); }
  const_iterator end() const noexcept { return d_ + size(); }
  const_iterator cend() const noexcept { return end(); }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  const_reverse_iterator crend() const noexcept { return rend(); }

  // ---- capacity ----
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  size_type size() const noexcept { return d_ ? array_detail::array_words(d_)[-1] : 0; }
  size_type capacity() const noexcept { return d_ ? array_detail::array_words(d_)[-2] : 0; }
  size_type max_size() const noexcept { return std::numeric_limits<ptrdiff_t>::max() / sizeof(T); }
  void reserve(size_type n) {
    if (n > capacity()) grow_to(n);
  }
  void shrink_to_fit() {
    if (!d_) return;
    if constexpr (kReloc) {
      if (void *p = ray_array_shrink_to_fit(d_)) d_ = static_cast<T *>(p);
    } else {
      if (capacity() == size()) return;
      relocate_into(like(size()));
    }
  }

  // ---- modifiers ----
  void clear() noexcept {
    if (!d_) return;
    std::destroy(begin(), end());
    set_len(0);
  }

  void push_back(const T &v) { emplace_back(v); }
  void push_back(T &&v) { emplace_back(std::move(v)); }

  template <class... A>
  reference emplace_back(A &&...args) {
    if constexpr (array_detail::kInlineArrays) {
      if (T *d = d_) [[likely]] {
        size_t *w = array_detail::array_words(d);
        size_t n = w[-1];
        if (n < w[-2]) [[likely]] {
          T *p = ::new (static_cast<void *>(d + n)) T(std::forward<A>(args)...);
          w[-1] = n + 1;
          return *p;
        }
      }
    }
    return emplace_back_slow(std::forward<A>(args)...);
  }

  void pop_back() noexcept {
    size_type n = size() - 1;
    d_[n].~T();
    set_len(n);
  }

  iterator insert(const_iterator pos, const T &v) { return emplace(pos, v); }
  iterator insert(const_iterator pos, T &&v) { return emplace(pos, std::move(v)); }
  iterator insert(const_iterator pos, size_type n, const T &v) {
    size_type i = size_type(pos - cbegin()), old = size();
    if (n == 0) return d_ + i;
    T copy(v);  // v may be an element of this array
    reserve(old + n);
    for (size_type k = 0; k < n; k++) emplace_back(copy);
    rotate_tail(i, old);
    return d_ + i;
  }
  template <std::input_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    size_type i = size_type(pos - cbegin()), old = size();
    if constexpr (std::forward_iterator<It>) {
      if (aliases(first)) {
        array tmp(first, last);
        return insert(cbegin() + i, std::make_move_iterator(tmp.begin()),
                      std::make_move_iterator(tmp.end()));
      }
    }
    append_range(first, last);
    rotate_tail(i, old);
    return d_ + i;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> il) {
    return insert(pos, il.begin(), il.end());
  }

  template <class... A>
  iterator emplace(const_iterator pos, A &&...args) {
    size_type i = size_type(pos - cbegin()), old = size();
    if (i == old) {
      emplace_back(std::forward<A>(args)...);
    } else {
      T tmp(std::forward<A>(args)...);  // args may refer to elements that are about to shift
      emplace_back(std::move(tmp));
      rotate_tail(i, old);
    }
    return d_ + i;
  }

  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    size_type i = size_type(first - cbegin()), k = size_type(last - first), n = size();
    if (k == 0) return d_ + i;
    if constexpr (kTrivial) {
      std::memmove(static_cast<void *>(d_ + i), d_ + i + k, (n - i - k) * sizeof(T));
    } else {
      std::move(d_ + i + k, d_ + n, d_ + i);
      std::destroy(d_ + n - k, d_ + n);
    }
    set_len(n - k);
    return d_ + i;
  }

  void resize(size_type n) {
    size_type old = size();
    if (n <= old) return truncate(n);
    if constexpr (kReloc && array_detail::zero_is_value_init_v<T>) {
      // The library zero-fills and knows which pages are fresh: no second pass over them.
      if (!d_) d_ = create(0, nullptr);
      void *p = ray_array_resize(d_, n);
      if (!p) array_detail::throw_bad_alloc();
      d_ = static_cast<T *>(p);
    } else {
      reserve(n);
      RAY_TRY {
        for (size_type k = old; k < n; k++) emplace_back();
      }
      RAY_CATCH_ALL {
        truncate(old);
        RAY_RETHROW;
      }
    }
  }
  void resize(size_type n, const T &v) {
    size_type old = size();
    if (n <= old) return truncate(n);
    T copy(v);
    reserve(n);
    RAY_TRY {
      for (size_type k = old; k < n; k++) emplace_back(copy);
    }
    RAY_CATCH_ALL {
      truncate(old);
      RAY_RETHROW;
    }
  }

  void swap(array &o) noexcept { std::swap(d_, o.d_); }
  friend void swap(array &a, array &b) noexcept { a.swap(b); }

  // ---- comparisons ----
  friend bool operator==(const array &a, const array &b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend auto operator<=>(const array &a, const array &b) requires std::three_way_comparable<T> {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator<(const array &a, const array &b) requires(!std::three_way_comparable<T>) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  T *d_ = nullptr;

  // A new C array for this T: `opts` (may be null) with the alignment T needs.
  static T *create(size_type cap, const ray_array_opts *opts) {
    ray_array_opts o = opts ? *opts : ray_array_opts{0, 0, 0, nullptr};
    if (o.align < alignof(T) && (o.align & (o.align - 1)) == 0) o.align = alignof(T);
    if (cap > std::numeric_limits<ptrdiff_t>::max() / sizeof(T))
      array_detail::throw_length_error("ray::array: too many elements");
    void *p = ray_array_new(sizeof(T), cap, &o);
    if (!p) {
      if (errno == EINVAL) array_detail::throw_invalid_argument("ray::array: bad ray_array_opts");
      array_detail::throw_bad_alloc();
    }
    return static_cast<T *>(p);
  }
  // A new empty C array with this one's properties.
  T *like(size_type cap) const {
    void *p = ray_array_new_like(d_, cap);
    if (!p) array_detail::throw_bad_alloc();
    return static_cast<T *>(p);
  }

  static T *copy_of(const array &o) {
    if (!o.d_) return nullptr;
    if constexpr (kTrivial) {
      void *p = ray_array_clone(o.d_);
      if (!p) array_detail::throw_bad_alloc();
      return static_cast<T *>(p);
    } else {
      array tmp(adopt(o.like(o.size())));
      for (const T &v : o) tmp.emplace_back(v);
      return tmp.release();
    }
  }

  void destroy() noexcept {
    if (!d_) return;
    std::destroy(begin(), end());
    ray_array_free(d_);
    d_ = nullptr;
  }

  bool aliases(const auto &it) const noexcept {
    if constexpr (std::contiguous_iterator<std::remove_cvref_t<decltype(it)>>) {
      const void *p = std::to_address(it);
      return d_ && p >= static_cast<const void *>(d_) &&
             p < static_cast<const void *>(d_ + capacity());
    } else {
      return false;
    }
  }

  // Length changes: direct stores in release builds; through the library in debug builds,
  // before new slots are written and after old ones are destroyed.
  void set_len(size_type n) noexcept {
    if constexpr (array_detail::kInlineArrays)
      array_detail::array_words(d_)[-1] = n;
    else
      (void)ray_array_set_len(d_, n);
  }
  void open_slot(size_type n) noexcept {
    if constexpr (!array_detail::kInlineArrays) (void)ray_array_set_len(d_, n + 1);
  }
  void truncate(size_type n) noexcept {
    if (n >= size()) return;
    std::destroy(begin() + n, end());
    set_len(n);
  }

  // Capacity for at least `n` elements (n > capacity()).
  void grow_to(size_type n) {
    if (n > max_size()) array_detail::throw_length_error("ray::array: too many elements");
    if (!d_) {
      d_ = create(n, nullptr);
      return;
    }
    if constexpr (kReloc) {
      void *p = ray_array_reserve(d_, n);
      if (!p) array_detail::throw_bad_alloc();
      d_ = static_cast<T *>(p);
    } else {
      if (ray_array_grow_in_place(d_, n) == 0) return;
      relocate_into(like(next_capacity(n)));
    }
  }
  size_type next_capacity(size_type n) const noexcept {
    size_type cap = capacity(), want = cap + cap / 2 + 1;
    return want > n ? want : n;
  }

  // Move every element into the empty C array `nd` (element by element) and switch to it.
  // Strong guarantee: if a copy throws, `nd` is freed and this array is untouched.
  void relocate_into(T *nd) {
    array fresh = adopt(nd);
    size_type n = size();
    for (size_type k = 0; k < n; k++) fresh.emplace_back(std::move_if_noexcept(d_[k]));
    swap(fresh);  // `fresh` now holds (and destroys) the old elements
  }

  template <class... A>
  __attribute__((noinline)) reference emplace_back_slow(A &&...args) {
    size_type n = size();
    if (n >= capacity()) {
      if constexpr (kReloc) {
        // Build the element first: args may refer into this array, whose pages may move.
        alignas(T) unsigned char buf[sizeof(T)];
        T *tmp = ::new (static_cast<void *>(buf)) T(std::forward<A>(args)...);
        RAY_TRY {
          grow_to(n + 1);
        }
        RAY_CATCH_ALL {
          tmp->~T();
          RAY_RETHROW;
        }
        open_slot(n);
        std::memcpy(static_cast<void *>(d_ + n), buf, sizeof(T));  // relocates tmp
        array_detail::array_words(d_)[-1] = n + 1;
        return d_[n];
      } else {
        if (!d_) {
          d_ = create(n + 1, nullptr);
        } else if (ray_array_grow_in_place(d_, n + 1) != 0) {
          return emplace_back_moving(std::forward<A>(args)...);
        }
      }
    }
    open_slot(n);
    T *p = ::new (static_cast<void *>(d_ + n)) T(std::forward<A>(args)...);
    array_detail::array_words(d_)[-1] = n + 1;
    return *p;
  }

  // Growth of a type that cannot be relocated by memcpy: build the new element in a new array
  // first (args may refer to the old elements), then move the old ones over.
  template <class... A>
  __attribute__((noinline)) reference emplace_back_moving(A &&...args) {
    size_type n = size(), built = 0;
    T *nd = like(next_capacity(n + 1));
    if constexpr (!array_detail::kInlineArrays)
      (void)ray_array_set_len(nd, n + 1);  // writable slots
    RAY_TRY {
      ::new (static_cast<void *>(nd + n)) T(std::forward<A>(args)...);
      RAY_TRY {
        for (; built < n; built++)
          ::new (static_cast<void *>(nd + built)) T(std::move_if_noexcept(d_[built]));
      }
      RAY_CATCH_ALL {
        nd[n].~T();
        RAY_RETHROW;
      }
    }
    RAY_CATCH_ALL {
      std::destroy(nd, nd + built);  // the old elements are intact (copied, not moved)
      (void)ray_array_set_len(nd, 0);
      ray_array_free(nd);
      RAY_RETHROW;
    }
    array_detail::array_words(nd)[-1] = n + 1;
    destroy();
    d_ = nd;
    return d_[n];
  }

  template <class It>
  void append_range(It first, It last) {
    if constexpr (std::forward_iterator<It>) {
      size_type k = size_type(std::distance(first, last));
      if (k == 0) return;
      if constexpr (kTrivial && std::contiguous_iterator<It> &&
                    std::is_same_v<std::remove_cvref_t<std::iter_reference_t<It>>, T>) {
        if (!d_) d_ = create(k, nullptr);
        void *p = ray_array_append(d_, std::to_address(first), k);  // handles self-aliasing
        if (!p) array_detail::throw_bad_alloc();
        d_ = static_cast<T *>(p);
        return;
      }
      reserve(size() + k);
    }
    size_type old = size();
    RAY_TRY {
      for (; first != last; ++first) emplace_back(*first);
    }
    RAY_CATCH_ALL {
      truncate(old);
      RAY_RETHROW;
    }
  }

  // The elements appended at [old, size()) move to position i; those at [i, old) follow them.
  void rotate_tail(size_type i, size_type old) {
    if (i < old) std::rotate(d_ + i, d_ + old, d_ + size());
  }
};

// An array is one pointer: moving it by memcpy is fine (so arrays of arrays grow by mremap).
template <class T>
struct is_trivially_relocatable<array<T>> : std::true_type {};

// C++20 uniform erasure.
template <class T, class U>
typename array<T>::size_type erase(array<T> &a, const U &v) {
  auto it = std::remove(a.begin(), a.end(), v);
  auto n = size_t(a.end() - it);
  a.erase(it, a.end());
  return n;
}
template <class T, class Pred>
typename array<T>::size_type erase_if(array<T> &a, Pred pred) {
  auto it = std::remove_if(a.begin(), a.end(), pred);
  auto n = size_t(a.end() - it);
  a.erase(it, a.end());
  return n;
}

}  // namespace ray
