// Pointers rayalloc never handed out (a static buffer, a stack address, the inside of a block,
// an address just past the reservation, a large block freed twice) reach the error handler,
// named, and the call then does nothing. Without a handler the default prints a message
// naming the pointer and aborts. Linked statically, so the reservation's bounds are visible.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include <gtest/gtest.h>

#include "arena/reservation.hpp"
#include "core/core_support.hpp"
#include "rayalloc.h"

namespace {

using core_test::ErrorLog;

char g_static_buffer[256];

// Hides where a pointer came from, so the compiler neither warns about nor folds the
// deliberate frees of non-heap memory below.
template <class T>
void *opaque(T *p) {
  void *v = p;
  asm volatile("" : "+r"(v));
  return v;
}

void *past_the_reservation() {
  return reinterpret_cast<void *>(ray::g_res.base + ray::g_res.size);
}

class InvalidFree : public ::testing::Test {
 protected:
  void SetUp() override {
    free(malloc(1));  // the engine is up, so the reservation bounds are set
    log_ = ErrorLog{};
    log_.install();
  }
  void TearDown() override { ErrorLog::restore_default(); }

  // `call` must report exactly once, naming `ptr`.
  template <class F>
  void expect_reported(void *ptr, F call, const char *what) {
    int before = log_.calls;
    call();
    EXPECT_EQ(log_.calls, before + 1) << what << " was not reported";
    EXPECT_EQ(log_.last_ptr, ptr) << what;
    EXPECT_EQ(log_.last_err, EINVAL) << what;
    EXPECT_STRNE(log_.last_msg, "") << what;
  }
  ErrorLog log_;
};

TEST_F(InvalidFree, StaticStackAndPastTheEndAreReported) {
  char on_stack[64];
  void *bad[] = {opaque(g_static_buffer), opaque(g_static_buffer + 16), opaque(on_stack),
                 past_the_reservation(), reinterpret_cast<char *>(past_the_reservation()) + 4096};
  for (void *p : bad) {
    expect_reported(
        p, [p] { free(p); }, "free");
    expect_reported(
        p, [p] { ray_free(p); }, "ray_free");
    errno = 0;
    void *r = nullptr;
    expect_reported(
        p, [&] { r = realloc(p, 100); }, "realloc");
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(errno, EINVAL);
    expect_reported(
        p, [p] { (void)malloc_usable_size(p); }, "malloc_usable_size");
  }
  // The static buffer was not touched by the rejected calls.
  for (char c : g_static_buffer) ASSERT_EQ(c, 0);
}

TEST_F(InvalidFree, InteriorPointerIsReportedAndTheBlockSurvives) {
  for (size_t n : {size_t(64), size_t(1000), size_t(40000), size_t(200000)}) {
    char *p = static_cast<char *>(malloc(n));
    ASSERT_NE(p, nullptr);
    core_test::fill_pattern(p, n, 9);
    for (size_t off : {size_t(1), size_t(8), size_t(16), n / 2}) {
      char *inner = static_cast<char *>(opaque(p + off));
      expect_reported(
          inner, [inner] { free(inner); }, "interior free");
      errno = 0;
      void *r = nullptr;
      expect_reported(
          inner, [&] { r = realloc(inner, 10); }, "interior realloc");
      EXPECT_EQ(r, nullptr);
      EXPECT_EQ(errno, EINVAL);
    }
    // The block is still allocated and intact: a new allocation of the same size does not
    // get it, and it can be freed normally.
    void *other = malloc(n);
    EXPECT_NE(other, p);
    memset(other, 0, n);
    EXPECT_EQ(core_test::check_pattern(p, n, 9), n) << "rejected free changed the block";
    int before = log_.calls;
    free(p);
    free(other);
    EXPECT_EQ(log_.calls, before) << "a valid free was reported";
  }
}

TEST_F(InvalidFree, LargeDoubleFreeIsReported) {
  void *p = malloc(size_t(1) << 20);
  ASSERT_NE(p, nullptr);
  free(p);
  expect_reported(
      p, [p] { free(p); }, "second free of a large block");
}

TEST_F(InvalidFree, ReservedButNeverHandedOutIsReported) {
  // An address inside the reservation far beyond anything handed out.
  void *p = reinterpret_cast<void *>(ray::g_res.base + ray::g_res.size / 2 + 4096 * 3);
  expect_reported(
      p, [p] { free(p); }, "free of unused reserved space");
}

TEST_F(InvalidFree, HandlerCanBeReplacedAndReset) {
  ErrorLog second;
  second.install();
  free(opaque(g_static_buffer));
  EXPECT_EQ(second.calls, 1);
  EXPECT_EQ(log_.calls, 0);
  log_.install();
  free(opaque(g_static_buffer));
  EXPECT_EQ(log_.calls, 1);
  EXPECT_EQ(second.calls, 1);
}

std::string pointer_text(const void *p) {
  char buf[32];
  snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

// Regex-escape nothing needed: "%p" prints 0x and hex digits only.
TEST(InvalidFreeDeath, DefaultHandlerNamesThePointerAndAborts) {
  // "fast" (fork without exec): the child has the same addresses, so the message can be
  // matched against this process's pointer values. The process is single-threaded here.
  GTEST_FLAG_SET(death_test_style, "fast");
  ray_set_error_handler(nullptr, nullptr);
  char on_stack[16];
  void *stack_ptr = opaque(on_stack);
  EXPECT_DEATH(free(opaque(g_static_buffer)), pointer_text(g_static_buffer));
  EXPECT_DEATH(free(stack_ptr), "rayalloc.*" + pointer_text(stack_ptr));
  char *p = static_cast<char *>(malloc(100));
  EXPECT_DEATH(free(opaque(p + 8)), "rayalloc.*" + pointer_text(p + 8));
  EXPECT_EXIT(free(opaque(g_static_buffer)), ::testing::KilledBySignal(SIGABRT), "rayalloc");
  free(p);
}

}  // namespace
