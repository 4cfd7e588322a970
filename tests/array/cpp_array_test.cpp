// ray::array<T> (API.md section 6): the std::vector interface on one pointer, relocation rules
// (memcpy/mremap only for trivially relocatable T, element-wise moves otherwise), exception
// safety, and agreement with the C view of the same array.
#include <gtest/gtest.h>
#include <stdint.h>

#include <algorithm>
#include <list>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "array_support.hpp"
#include "rayalloc.hpp"

namespace {

static_assert(sizeof(ray::array<int>) == sizeof(int *));
static_assert(sizeof(ray::array<std::string>) == sizeof(std::string *));
static_assert(sizeof(ray::string) < sizeof(std::string));

TEST(CppArray, VectorBasics) {
  ray::array<int> a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.data(), nullptr);
  for (int i = 0; i < 1000; i++) a.push_back(i);
  EXPECT_EQ(a.size(), 1000u);
  EXPECT_GE(a.capacity(), 1000u);
  EXPECT_EQ(ray_array_len(a.data()), a.size());
  EXPECT_EQ(ray_array_cap(a.data()), a.capacity());
  EXPECT_EQ(ray_array_elem_size(a.data()), sizeof(int));
  EXPECT_EQ(a.front(), 0);
  EXPECT_EQ(a.back(), 999);
  EXPECT_EQ(std::accumulate(a.begin(), a.end(), 0), 999 * 1000 / 2);
  EXPECT_EQ(*a.rbegin(), 999);
  EXPECT_EQ(a.at(5), 5);
  EXPECT_THROW((void)a.at(1000), std::out_of_range);
  a.pop_back();
  EXPECT_EQ(a.size(), 999u);
  size_t cap = a.capacity();
  a.clear();
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.capacity(), cap);  // clear keeps capacity
  a.shrink_to_fit();
  EXPECT_LT(a.capacity(), cap);
}

TEST(CppArray, ConstructorsAndAssignment) {
  ray::array<int> a{1, 2, 3};
  ray::array<int> b(a);
  EXPECT_EQ(a, b);
  ray::array<int> c(std::move(b));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(c, a);
  ray::array<int> d(5, 7);
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d[4], 7);
  ray::array<int> e(10);
  EXPECT_EQ(e.size(), 10u);
  EXPECT_EQ(e[9], 0);
  std::vector<int> v{4, 5, 6, 7};
  ray::array<int> f(v.begin(), v.end());
  EXPECT_EQ(f.size(), 4u);
  std::list<int> l{1, 2};
  ray::array<int> g(l.begin(), l.end());
  EXPECT_EQ(g.size(), 2u);
  d = a;
  EXPECT_EQ(d, a);
  d = {9, 8};
  EXPECT_EQ(d.size(), 2u);
  d.assign(3, 1);
  EXPECT_EQ(d, (ray::array<int>{1, 1, 1}));
  d.assign(d.begin(), d.begin() + 2);  // a range of itself
  EXPECT_EQ(d, (ray::array<int>{1, 1}));
}

TEST(CppArray, OptionsAreLastingProperties) {
  ray_array_opts o{4096, RAY_HINT_ZERO, 0, nullptr};
  ray::array<uint64_t> a(o);
  ASSERT_NE(a.data(), nullptr);  // a real empty array
  for (uint64_t i = 0; i < 100000; i++) a.push_back(i);
  EXPECT_EQ(uintptr_t(a.data()) % 4096, 0u);
  ray::array<uint64_t> b(a);
  EXPECT_EQ(uintptr_t(b.data()) % 4096, 0u);
  ray_array_opts bad{3, 0, 0, nullptr};
  EXPECT_THROW(ray::array<int>{bad}, std::invalid_argument);
}

TEST(CppArray, InsertEraseResize) {
  ray::array<int> a{1, 2, 3, 4, 5};
  a.insert(a.begin() + 2, 10);
  EXPECT_EQ(a, (ray::array<int>{1, 2, 10, 3, 4, 5}));
  a.insert(a.begin(), 2, 0);
  EXPECT_EQ(a, (ray::array<int>{0, 0, 1, 2, 10, 3, 4, 5}));
  std::vector<int> v{7, 8};
  a.insert(a.end(), v.begin(), v.end());
  EXPECT_EQ(a.back(), 8);
  a.insert(a.begin() + 1, {42, 43});
  EXPECT_EQ(a[1], 42);
  EXPECT_EQ(a[2], 43);
  a.insert(a.begin(), a.begin() + 1, a.begin() + 3);  // from itself
  EXPECT_EQ(a[0], 42);
  EXPECT_EQ(a[1], 43);
  a.emplace(a.begin() + 3, 99);
  EXPECT_EQ(a[3], 99);
  a.erase(a.begin());
  EXPECT_EQ(a[0], 43);
  a.erase(a.begin(), a.begin() + 3);
  size_t n = a.size();
  a.resize(n + 3);
  EXPECT_EQ(a.back(), 0);
  a.resize(2);
  EXPECT_EQ(a.size(), 2u);
  a.resize(4, 6);
  EXPECT_EQ(a[3], 6);
  EXPECT_EQ(ray::erase(a, 6), 2u);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(ray::erase_if(a, [](int x) { return x >= 0; }), 2u);
}

TEST(CppArray, Comparisons) {
  ray::array<int> a{1, 2, 3}, b{1, 2, 4}, c{1, 2};
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(c < a);
  EXPECT_TRUE(a != b);
  EXPECT_TRUE((a <=> a) == 0);
  EXPECT_TRUE(b > a);
}

// Element-wise moves for a non-trivially-relocatable type.
TEST(CppArray, StdStringElementsSurviveGrowth) {
  ray::array<std::string> a;
  for (int i = 0; i < 20000; i++) a.push_back("a fairly long string number " + std::to_string(i));
  for (int i = 0; i < 20000; i += 7)
    ASSERT_EQ(a[i], "a fairly long string number " + std::to_string(i));
  a.insert(a.begin() + 5, "inserted");
  EXPECT_EQ(a[5], "inserted");
  a.erase(a.begin() + 5);
  EXPECT_EQ(a[5], "a fairly long string number 5");
  a.push_back(a[0]);  // a reference into the array while it may grow
  EXPECT_EQ(a.back(), a[0]);
  ray::array<std::string> b = a;
  EXPECT_EQ(a, b);
  a.shrink_to_fit();
  EXPECT_EQ(a, b);
}

TEST(CppArray, MoveOnlyElements) {
  ray::array<std::unique_ptr<int>> a;
  for (int i = 0; i < 5000; i++) a.push_back(std::make_unique<int>(i));
  a.emplace_back(new int(-1));
  EXPECT_EQ(*a.back(), -1);
  a.erase(a.begin());
  EXPECT_EQ(*a.front(), 1);
  a.insert(a.begin(), std::make_unique<int>(100));
  EXPECT_EQ(*a.front(), 100);
  ray::array<std::unique_ptr<int>> b(std::move(a));
  EXPECT_EQ(b.size(), 5001u);
  for (size_t i = 1; i < 5000; i++) ASSERT_EQ(*b[i], int(i));
}

// Counts the ways an element is moved.
struct Tracked {
  static inline int moves = 0, copies = 0, live = 0;
  int v;
  explicit Tracked(int x) : v(x) { live++; }
  Tracked(const Tracked &o) : v(o.v) { copies++, live++; }
  Tracked(Tracked &&o) noexcept : v(o.v) { moves++, live++; }
  Tracked &operator=(const Tracked &) = default;
  Tracked &operator=(Tracked &&) = default;
  ~Tracked() { live--; }
};
// The same, declared relocatable by memcpy.
struct Relocated : Tracked {
  using Tracked::Tracked;
};

}  // namespace

template <>
struct ray::is_trivially_relocatable<Relocated> : std::true_type {};

namespace {

TEST(CppArray, RelocationRules) {
  Tracked::moves = Tracked::copies = 0;
  {
    ray::array<Tracked> a;
    for (int i = 0; i < 1000; i++) a.emplace_back(i);
    EXPECT_GT(Tracked::moves, 1000);  // grown by moving element by element
    EXPECT_EQ(Tracked::copies, 0);    // noexcept moves, never copies
    for (int i = 0; i < 1000; i++) ASSERT_EQ(a[i].v, i);
  }
  EXPECT_EQ(Tracked::live, 0);
  Tracked::moves = Tracked::copies = 0;
  {
    ray::array<Relocated> a;
    for (int i = 0; i < 100000; i++) a.emplace_back(i);
    EXPECT_EQ(Tracked::moves, 0);  // relocated by the C calls (memcpy / mremap)
    EXPECT_EQ(Tracked::copies, 0);
    for (int i = 0; i < 100000; i++) ASSERT_EQ(a[i].v, i);
  }
  EXPECT_EQ(Tracked::live, 0);
}

// Copying throws on the n-th copy; moving may throw too (not noexcept), so growth copies.
struct Fragile {
  static inline int budget = 1 << 30, live = 0;
  int v;
  explicit Fragile(int x) : v(x) { live++; }
  Fragile(const Fragile &o) : v(o.v) {
    if (--budget < 0) throw std::runtime_error("copy failed");
    live++;
  }
  Fragile(Fragile &&o) : Fragile(static_cast<const Fragile &>(o)) {}
  Fragile &operator=(const Fragile &) = default;
  ~Fragile() { live--; }
};

TEST(CppArray, StrongGuaranteeOnGrowth) {
  {
    ray::array<Fragile> a;
    Fragile::budget = 1 << 30;
    for (int i = 0; i < 100; i++) a.emplace_back(i);
    while (a.size() < a.capacity()) a.emplace_back(int(a.size()));
    size_t n = a.size();
    Fragile::budget = 10;  // the growth must copy n elements: fails part way
    EXPECT_THROW(a.push_back(Fragile(-1)), std::runtime_error);
    Fragile::budget = 1 << 30;
    ASSERT_EQ(a.size(), n);  // unchanged
    for (size_t i = 0; i < n; i++) ASSERT_EQ(a[i].v, int(i));
    a.emplace_back(-2);
    EXPECT_EQ(a.back().v, -2);
  }
  EXPECT_EQ(Fragile::live, 0);
}

TEST(CppArray, PushBackOfOwnElementWhileRelocating) {
  ray::array<uint64_t> a{5};
  for (int i = 0; i < 200000; i++) a.push_back(a[0]);
  EXPECT_TRUE(std::all_of(a.begin(), a.end(), [](uint64_t x) { return x == 5; }));
}

TEST(CppArray, AdoptAndReleaseCArrays) {
  int *c = nullptr;
  for (int i = 0; i < 10; i++) RAY_ARR_PUSH(c, i);
  ray::array<int> a = ray::array<int>::adopt(c);
  EXPECT_EQ(a.size(), 10u);
  a.push_back(10);
  int *back = a.release();
  EXPECT_EQ(RAY_ARR_LEN(back), 11u);
  RAY_ARR_FREE(back);
  EXPECT_EQ(back, nullptr);
}

TEST(CppAllocator, AllocateAtLeastAndContainers) {
  ray::allocator<int> al;
  auto r = al.allocate_at_least(5);
  ASSERT_NE(r.ptr, nullptr);
  EXPECT_GE(r.count, 5u);
  EXPECT_EQ(r.count, ray_usable_size(r.ptr) / sizeof(int));
  al.deallocate(r.ptr, r.count);
  std::vector<int, ray::allocator<int>> v;
  for (int i = 0; i < 10000; i++) v.push_back(i);
  EXPECT_EQ(v[9999], 9999);
  std::list<std::string, ray::allocator<std::string>> l{"a", "b"};
  EXPECT_EQ(l.size(), 2u);
  EXPECT_TRUE(ray::allocator<int>() == ray::allocator<long>());
}

TEST(CppMemoryResource, PmrContainers) {
  ray::memory_resource mr;
  std::pmr::vector<int> v(&mr);
  for (int i = 0; i < 10000; i++) v.push_back(i);
  EXPECT_EQ(v[1234], 1234);
  ray::memory_resource other;
  EXPECT_TRUE(mr.is_equal(other));
  void *p = mr.allocate(100, 64);
  EXPECT_EQ(uintptr_t(p) % 64, 0u);
  other.deallocate(p, 100, 64);
  EXPECT_TRUE(ray::default_memory_resource()->is_equal(mr));
}

}  // namespace
