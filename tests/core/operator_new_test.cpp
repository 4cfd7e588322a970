// Every C++ operator new / operator delete form goes to rayalloc: plain, array, nothrow,
// sized, aligned, aligned+sized. Failure throws std::bad_alloc (nothrow: NULL) after calling
// the installed new_handler until it gives up.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rayalloc.h"

namespace {

const std::align_val_t kAligns[] = {std::align_val_t(32), std::align_val_t(256),
                                    std::align_val_t(4096), std::align_val_t(size_t(1) << 16),
                                    std::align_val_t(size_t(1) << 20)};

size_t huge_size() {
  volatile size_t n = SIZE_MAX / 2;
  return n;
}

void expect_ours(void *p, size_t n, size_t align = 16) {
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ray_owns(p)) << p << " is not a rayalloc block";
  EXPECT_EQ(uintptr_t(p) % align, 0u) << p << " for alignment " << align;
  EXPECT_GE(ray_usable_size(p), n);
  memset(p, 0x3C, n);
}

TEST(OperatorNew, PlainArrayAndNothrowForms) {
  for (size_t n : {size_t(0), size_t(1), size_t(24), size_t(1000), size_t(100000)}) {
    void *a = ::operator new(n);
    expect_ours(a, n);
    ::operator delete(a);
    void *b = ::operator new[](n);
    expect_ours(b, n);
    ::operator delete[](b);
    void *c = ::operator new(n, std::nothrow);
    expect_ours(c, n);
    ::operator delete(c, std::nothrow);
    void *d = ::operator new[](n, std::nothrow);
    expect_ours(d, n);
    ::operator delete[](d, std::nothrow);
    void *e = ::operator new(n);
    ::operator delete(e, n);  // sized
    void *f = ::operator new[](n);
    ::operator delete[](f, n);  // sized array
  }
}

TEST(OperatorNew, AlignedForms) {
  for (std::align_val_t al : kAligns) {
    size_t a = size_t(al);
    for (size_t n : {size_t(1), a, a + 1, size_t(3000)}) {
      void *p = ::operator new(n, al);
      expect_ours(p, n, a);
      ::operator delete(p, al);
      void *q = ::operator new[](n, al);
      expect_ours(q, n, a);
      ::operator delete[](q, al);
      void *r = ::operator new(n, al, std::nothrow);
      expect_ours(r, n, a);
      ::operator delete(r, al, std::nothrow);
      void *s = ::operator new[](n, al, std::nothrow);
      expect_ours(s, n, a);
      ::operator delete[](s, al, std::nothrow);
      void *t = ::operator new(n, al);
      ::operator delete(t, n, al);  // aligned + sized
      void *u = ::operator new[](n, al);
      ::operator delete[](u, n, al);
    }
  }
}

struct alignas(512) Overaligned {
  char bytes[700];
};

TEST(OperatorNew, NewExpressionsUseRayalloc) {
  auto *one = new Overaligned;
  EXPECT_EQ(uintptr_t(one) % 512, 0u);
  EXPECT_TRUE(ray_owns(one));
  delete one;
  auto *many = new Overaligned[5];
  EXPECT_EQ(uintptr_t(many) % 512, 0u);
  delete[] many;
  auto *i = new int(42);
  EXPECT_TRUE(ray_owns(i));
  delete i;
  std::string s(1000, 'x');
  EXPECT_TRUE(ray_owns(s.data()));
  std::vector<int> v(10000, 7);
  EXPECT_TRUE(ray_owns(v.data()));
  auto sp = std::make_shared<std::vector<double>>(100, 1.5);
  EXPECT_EQ((*sp)[99], 1.5);
}

TEST(OperatorNew, FailureThrowsBadAlloc) {
  EXPECT_THROW((void)::operator new(huge_size()), std::bad_alloc);
  EXPECT_THROW((void)::operator new[](huge_size()), std::bad_alloc);
  EXPECT_THROW((void)::operator new(huge_size(), std::align_val_t(64)), std::bad_alloc);
  EXPECT_THROW((void)::operator new[](huge_size(), std::align_val_t(4096)), std::bad_alloc);
  // A caught bad_alloc leaves the allocator working.
  void *p = ::operator new(64);
  EXPECT_TRUE(ray_owns(p));
  ::operator delete(p);
}

TEST(OperatorNew, NothrowFailureReturnsNull) {
  EXPECT_EQ(::operator new(huge_size(), std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](huge_size(), std::nothrow), nullptr);
  EXPECT_EQ(::operator new(huge_size(), std::align_val_t(64), std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](huge_size(), std::align_val_t(64), std::nothrow), nullptr);
}

int g_handler_calls;
void handler_gives_up_on_third_call() {
  if (++g_handler_calls == 3) std::set_new_handler(nullptr);
}

TEST(OperatorNew, NewHandlerIsCalledUntilItGivesUp) {
  g_handler_calls = 0;
  std::set_new_handler(handler_gives_up_on_third_call);
  EXPECT_THROW((void)::operator new(huge_size()), std::bad_alloc);
  EXPECT_EQ(g_handler_calls, 3);

  g_handler_calls = 0;
  std::set_new_handler(handler_gives_up_on_third_call);
  EXPECT_EQ(::operator new(huge_size(), std::nothrow), nullptr);
  EXPECT_EQ(g_handler_calls, 3);

  g_handler_calls = 0;
  std::set_new_handler(handler_gives_up_on_third_call);
  EXPECT_THROW((void)::operator new(huge_size(), std::align_val_t(256)), std::bad_alloc);
  EXPECT_EQ(g_handler_calls, 3);
  std::set_new_handler(nullptr);
}

struct HandlerError {};
void handler_throws() {
  g_handler_calls++;
  throw HandlerError{};
}

TEST(OperatorNew, NewHandlerMayThrowItsOwnException) {
  g_handler_calls = 0;
  std::set_new_handler(handler_throws);
  EXPECT_THROW((void)::operator new[](huge_size()), HandlerError);
  EXPECT_EQ(g_handler_calls, 1);
  std::set_new_handler(nullptr);
}

// A handler that frees a reserve lets the retried allocation succeed.
void *g_reserve;
void handler_frees_reserve() {
  g_handler_calls++;
  free(g_reserve);
  g_reserve = nullptr;
  std::set_new_handler(nullptr);
}

TEST(OperatorNew, HandlerRunsOnlyWhenAllocationFails) {
  g_handler_calls = 0;
  g_reserve = malloc(100);
  std::set_new_handler(handler_frees_reserve);
  void *p = ::operator new(1000);  // succeeds: the handler is not involved
  EXPECT_EQ(g_handler_calls, 0);
  ::operator delete(p);
  EXPECT_THROW((void)::operator new(huge_size()), std::bad_alloc);
  EXPECT_EQ(g_handler_calls, 1);
  EXPECT_EQ(g_reserve, nullptr);
}

}  // namespace
