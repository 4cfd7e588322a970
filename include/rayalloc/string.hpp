// rayalloc/string.hpp: ray::string, a byte string on a byte array (elem_size 1).
//
// The bytes live in a C byte array (`ray_array_len(s.data()) == s.size()`, so the data can be
// handed to C code, and adopted back, as is). A NUL is always kept at [size()], so c_str()
// needs no copy and the array's cap is always > len (capacity() reports cap - 1, the characters
// it can hold). A default-constructed string holds NULL and reads as "" until it first grows.
//
// The object also keeps a copy of the length and capacity next to the pointer (24 bytes, still
// less than std::string's 32). The allocator's header stays the source of truth (every length
// change is stored there too), but an append then needs no load from the header: with many
// strings appended to in random order that load is a cache miss before the copy can start,
// and it made appends about 1.6x slower than std::string's (bench/face/strings.cpp). ray::array
// keeps no such copy: its size is fixed at one pointer by the contract.
//
// Appends that fit are inlined (a compare, a memcpy, the NUL and two stores of the length);
// growth goes through ray_array_reserve (in place when it can, else a copy of the live bytes
// only, or a page move for large strings). The array is made with the internal hint
// array_detail::kHintTerminated so the debug library treats the NUL byte as live, not as a
// write past the length.
#pragma once
#include <compare>
#include <cstddef>
#include <cstring>
#include <functional>
#include <iosfwd>
#include <string_view>

#include "rayalloc.h"
#include "rayalloc/array.hpp"

namespace ray {

namespace array_detail {
inline constexpr unsigned kHintTerminated = 1u << 7;  // keep in step with src/face/array_header.hpp
inline char g_empty_cstr[1] = {'\0'};
}  // namespace array_detail

class string {
 public:
  using value_type = char;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using reference = char &;
  using const_reference = const char &;
  using pointer = char *;
  using const_pointer = const char *;
  using iterator = char *;
  using const_iterator = const char *;
  using traits_type = std::char_traits<char>;
  static constexpr size_type npos = std::string_view::npos;

  // ---- construction ----
  string() noexcept = default;
  // A real empty string with these hints, alignment and arena (kept for life).
  explicit string(const ray_array_opts &opts, size_type cap = 0) { create(cap, &opts); }
  string(const char *s) : string(std::string_view(s)) {}
  string(const char *s, size_type n) : string(std::string_view(s, n)) {}
  string(std::string_view v) { append(v.data(), v.size()); }
  string(size_type n, char c) { append(n, c); }
  string(const string &o) : string(o.view()) {}
  string(string &&o) noexcept : d_(o.d_), len_(o.len_), cap_(o.cap_) { o.forget(); }
  ~string() { ray_array_free(d_); }

  string &operator=(const string &o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  string &operator=(string &&o) noexcept {
    if (this != &o) {
      ray_array_free(d_);
      d_ = o.d_, len_ = o.len_, cap_ = o.cap_;
      o.forget();
    }
    return *this;
  }
  string &operator=(std::string_view v) { return assign(v); }
  string &operator=(const char *s) { return assign(std::string_view(s)); }
  string &operator=(char c) { return assign(std::string_view(&c, 1)); }

  string &assign(std::string_view v) {
    if (d_ && v.size() < cap_ && !inside(v.data())) {
      open(v.size());
      std::memcpy(d_, v.data(), v.size());
      set_size(v.size());
      return *this;
    }
    string tmp(v);  // also right when v views this very string
    swap(tmp);
    return *this;
  }

  // Take ownership of a C byte array that holds a NUL at [len] (or NULL), and give it back.
  static string adopt(char *c_array) noexcept {
    string s;
    s.d_ = c_array;
    if (c_array) s.len_ = ray_array_len(c_array), s.cap_ = ray_array_cap(c_array);
    return s;
  }
  [[nodiscard]] char *release() noexcept {
    char *d = d_;
    forget();
    return d;
  }

  // ---- access ----
  const char *c_str() const noexcept { return d_ ? d_ : array_detail::g_empty_cstr; }
  const char *data() const noexcept { return c_str(); }
  char *data() noexcept { return d_ ? d_ : array_detail::g_empty_cstr; }
  std::string_view view() const noexcept { return std::string_view(c_str(), len_); }
  operator std::string_view() const noexcept { return view(); }
  char &operator[](size_type i) noexcept { return data()[i]; }
  const char &operator[](size_type i) const noexcept { return c_str()[i]; }
  char &at(size_type i) {
    if (i >= len_) array_detail::throw_out_of_range("ray::string::at");
    return d_[i];
  }
  const char &at(size_type i) const {
    if (i >= len_) array_detail::throw_out_of_range("ray::string::at");
    return d_[i];
  }
  char &front() noexcept { return d_[0]; }
  char &back() noexcept { return d_[len_ - 1]; }
  const char &front() const noexcept { return d_[0]; }
  const char &back() const noexcept { return d_[len_ - 1]; }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + len_; }
  const_iterator begin() const noexcept { return c_str(); }
  const_iterator end() const noexcept { return c_str() + len_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  // ---- size ----
  size_type size() const noexcept { return len_; }
  size_type length() const noexcept { return len_; }
  [[nodiscard]] bool empty() const noexcept { return len_ == 0; }
  size_type capacity() const noexcept { return cap_ ? cap_ - 1 : 0; }
  size_type max_size() const noexcept { return size_type(PTRDIFF_MAX) - 1; }
  void reserve(size_type n) {
    if (n >= cap_) grow(n + 1);
  }
  void shrink_to_fit() {
    if (!d_) return;
    if (void *p = ray_array_shrink_to_fit(d_)) d_ = static_cast<char *>(p);
    cap_ = ray_array_cap(d_);
  }
  void clear() noexcept {
    if (d_) set_size(0);
  }
  void resize(size_type n, char c = '\0') {
    if (n > len_)
      append(n - len_, c);
    else if (d_)
      set_size(n);
  }

  // ---- appending ----
  string &append(const char *p, size_type n) {
    if constexpr (array_detail::kInlineArrays) {
      size_t len = len_;
      if (n < cap_ - len) [[likely]] {  // room for n bytes and the NUL (cap_ is 0 without d_)
        char *d = d_;
        std::memcpy(d + len, p, n);
        d[len + n] = '\0';
        len_ = len + n;
        array_detail::array_words(d)[-1] = len + n;
        return *this;
      }
    }
    return append_slow(p, n);
  }
  string &append(std::string_view v) { return append(v.data(), v.size()); }
  string &append(const char *s) { return append(std::string_view(s)); }
  string &append(const string &s) { return append(s.view()); }
  string &append(size_type n, char c) {
    reserve(len_ + n);
    size_type len = len_;
    open(len + n);
    std::memset(d_ + len, c, n);
    set_size(len + n);
    return *this;
  }
  void push_back(char c) {
    if constexpr (array_detail::kInlineArrays) {
      size_t len = len_;
      if (len + 1 < cap_) [[likely]] {
        char *d = d_;
        d[len] = c;
        d[len + 1] = '\0';
        len_ = len + 1;
        array_detail::array_words(d)[-1] = len + 1;
        return;
      }
    }
    append_slow(&c, 1);
  }
  void pop_back() noexcept { set_size(len_ - 1); }
  string &operator+=(std::string_view v) { return append(v.data(), v.size()); }
  string &operator+=(const char *s) { return append(std::string_view(s)); }
  string &operator+=(const string &s) { return append(s.view()); }
  string &operator+=(char c) {
    push_back(c);
    return *this;
  }

  string &insert(size_type pos, std::string_view v) {
    if (pos > len_) array_detail::throw_out_of_range("ray::string::insert");
    string tail(view().substr(pos));
    set_size(pos);
    append(v);
    return append(tail.view());
  }
  string &erase(size_type pos = 0, size_type n = npos) {
    size_type len = len_;
    if (pos > len) array_detail::throw_out_of_range("ray::string::erase");
    if (n > len - pos) n = len - pos;
    if (n == 0) return *this;
    std::memmove(d_ + pos, d_ + pos + n, len - pos - n);
    set_size(len - n);
    return *this;
  }

  // ---- searching (as std::string_view does) ----
  size_type find(std::string_view v, size_type pos = 0) const noexcept {
    return view().find(v, pos);
  }
  size_type find(char c, size_type pos = 0) const noexcept { return view().find(c, pos); }
  size_type rfind(std::string_view v, size_type pos = npos) const noexcept {
    return view().rfind(v, pos);
  }
  size_type rfind(char c, size_type pos = npos) const noexcept { return view().rfind(c, pos); }
  bool starts_with(std::string_view v) const noexcept { return view().starts_with(v); }
  bool ends_with(std::string_view v) const noexcept { return view().ends_with(v); }
  bool contains(std::string_view v) const noexcept { return view().find(v) != npos; }
  string substr(size_type pos = 0, size_type n = npos) const {
    if (pos > len_) array_detail::throw_out_of_range("ray::string::substr");
    return string(view().substr(pos, n));
  }
  int compare(std::string_view v) const noexcept { return view().compare(v); }

  void swap(string &o) noexcept {
    std::swap(d_, o.d_);
    std::swap(len_, o.len_);
    std::swap(cap_, o.cap_);
  }
  friend void swap(string &a, string &b) noexcept { a.swap(b); }

  // ---- comparison (with string, std::string_view and const char*) ----
  friend bool operator==(const string &a, const string &b) noexcept { return a.view() == b.view(); }
  friend bool operator==(const string &a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const string &a, const char *b) noexcept {
    return a.view() == std::string_view(b);
  }
  friend std::strong_ordering operator<=>(const string &a, const string &b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const string &a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  friend std::strong_ordering operator<=>(const string &a, const char *b) noexcept {
    return a.view() <=> std::string_view(b);
  }

  friend string operator+(const string &a, std::string_view b) {
    string r;
    r.reserve(a.size() + b.size());
    r.append(a.view());
    r.append(b);
    return r;
  }
  friend string operator+(string &&a, std::string_view b) {
    a.append(b);
    return std::move(a);
  }
  friend string operator+(std::string_view a, const string &b) {
    string r;
    r.reserve(a.size() + b.size());
    r.append(a);
    r.append(b.view());
    return r;
  }
  friend string operator+(const string &a, char c) {
    string r(a);
    r.push_back(c);
    return r;
  }

  template <class Traits>
  friend std::basic_ostream<char, Traits> &operator<<(std::basic_ostream<char, Traits> &os,
                                                      const string &s) {
    return os << s.view();
  }

 private:
  char *d_ = nullptr;
  size_t len_ = 0;  // == the header's len
  size_t cap_ = 0;  // == the header's cap (bytes, the NUL's included); 0 without an array

  void forget() noexcept { d_ = nullptr, len_ = 0, cap_ = 0; }
  bool inside(const char *p) const noexcept { return d_ && p >= d_ && p < d_ + cap_; }

  void create(size_type cap, const ray_array_opts *opts) {
    ray_array_opts o = opts ? *opts : ray_array_opts{0, 0, 0, nullptr};
    o.hints |= array_detail::kHintTerminated;
    if (cap >= size_type(PTRDIFF_MAX)) array_detail::throw_length_error("ray::string: too long");
    void *p = ray_array_new(1, cap + 1, &o);
    if (!p) {
      if (errno == EINVAL) array_detail::throw_invalid_argument("ray::string: bad ray_array_opts");
      array_detail::throw_bad_alloc();
    }
    d_ = static_cast<char *>(p);
    d_[0] = '\0';
    len_ = 0;
    cap_ = ray_array_cap(p);
  }
  // Room for `bytes` bytes (characters and the NUL).
  void grow(size_type bytes) {
    if (!d_) return create(bytes - 1, nullptr);
    if (bytes <= cap_) return;
    if (bytes - 1 > max_size()) array_detail::throw_length_error("ray::string: too long");
    void *p = ray_array_reserve(d_, bytes);
    if (!p) array_detail::throw_bad_alloc();
    d_ = static_cast<char *>(p);
    cap_ = array_detail::array_words(d_)[-2];
  }
  // Debug builds: let the library know bytes up to n (and the NUL after them) become live.
  void open(size_type n) noexcept {
    if constexpr (!array_detail::kInlineArrays) (void)ray_array_set_len(d_, n);
  }
  void set_size(size_type n) noexcept {
    if constexpr (array_detail::kInlineArrays)
      array_detail::array_words(d_)[-1] = n;
    else
      (void)ray_array_set_len(d_, n);
    len_ = n;
    d_[n] = '\0';
  }
  __attribute__((noinline)) string &append_slow(const char *p, size_type n) {
    size_type len = len_;
    if (len + n + 1 > cap_) {
      if (n > max_size() - len) array_detail::throw_length_error("ray::string: too long");
      if (inside(p)) {  // appending part of itself: the bytes may move with the array
        size_type off = size_type(p - d_);
        grow(len + n + 1);
        p = d_ + off;
      } else {
        grow(len + n + 1);
      }
    }
    open(len + n);
    std::memmove(d_ + len, p, n);
    set_size(len + n);
    return *this;
  }
};

// A string is a pointer and two sizes: moving it by memcpy is fine.
template <>
struct is_trivially_relocatable<string> : std::true_type {};

}  // namespace ray

template <>
struct std::hash<ray::string> {
  size_t operator()(const ray::string &s) const noexcept {
    return std::hash<std::string_view>()(s.view());
  }
};
