// Helper for oom_test.cpp: runs under RLIMIT_AS (set by the parent before exec), with rayalloc
// replacing malloc. The limit shrinks rayalloc's reservation at start-up; this program then
// exhausts it and checks every answer on the way:
//   1. malloc of 1 MiB blocks until NULL, errno ENOMEM (untouched, so no RSS is spent);
//   2. at exhaustion: calloc/realloc/aligned/posix_memalign fail with ENOMEM (realloc leaves
//      its block intact); operator new throws std::bad_alloc, new(nothrow) gives nullptr,
//      std::vector / std::string growth throws;
//   3. after everything is freed, the same amount can be allocated again (full recovery).
// Prints "blocks=N recovered=M" and exits 0, or prints what failed and exits 1.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr size_t kBlock = size_t(1) << 20;
constexpr size_t kMaxBlocks = size_t(1) << 20;
void *g_blocks[kMaxBlocks];  // static: the bookkeeping must not need the heap

#define REQUIRE(cond)                                                \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "oom_helper: line %d: %s\n", __LINE__, #cond); \
      return false;                                                  \
    }                                                                \
  } while (0)

size_t fill_up() {
  size_t n = 0;
  for (;;) {
    errno = 0;
    void *p = malloc(kBlock);
    if (!p) break;
    g_blocks[n++] = p;
    if (n == kMaxBlocks) break;
  }
  return n;
}

void free_all(size_t n) {
  for (size_t i = 0; i < n; i++) free(g_blocks[i]);
}

bool check_exhausted() {
  errno = 0;
  REQUIRE(malloc(kBlock) == nullptr && errno == ENOMEM);
  errno = 0;
  REQUIRE(calloc(1, kBlock) == nullptr && errno == ENOMEM);
  errno = 0;
  REQUIRE(aligned_alloc(4096, kBlock) == nullptr && errno == ENOMEM);
  void *out = nullptr;
  REQUIRE(posix_memalign(&out, 64, kBlock) == ENOMEM);
  // Small blocks: the current slabs may still serve some; then they fail too.
  size_t small = 0;
  void *p;
  static void *smalls[1 << 16];
  while (small < (1 << 16) && (p = malloc(48)) != nullptr) smalls[small++] = p;
  REQUIRE(small < (1 << 16));
  REQUIRE(errno == ENOMEM);
  for (size_t i = 0; i < small; i++) free(smalls[i]);
  return true;
}

bool check_realloc_keeps_block(size_t n) {
  // Free one block to get a small one that realloc then cannot grow.
  free(g_blocks[n - 1]);
  char *b = static_cast<char *>(malloc(kBlock));
  REQUIRE(b != nullptr);
  g_blocks[n - 1] = b;
  memset(b, 0x5A, 4096);
  errno = 0;
  REQUIRE(realloc(b, 64 * kBlock) == nullptr && errno == ENOMEM);
  for (int i = 0; i < 4096; i++) REQUIRE(b[i] == 0x5A);
  return true;
}

bool check_cxx() {
  bool threw = false;
  try {
    char *volatile c = new char[kBlock];
    delete[] c;
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  REQUIRE(threw);
  REQUIRE(new (std::nothrow) char[kBlock] == nullptr);
  threw = false;
  try {
    std::vector<int> v(kBlock);
    v[0] = 1;
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  REQUIRE(threw);
  threw = false;
  try {
    std::string s;
    for (int i = 0; i < 30; i++) s.append(size_t(1) << i, 'x');
  } catch (const std::bad_alloc &) {
    threw = true;
  } catch (const std::length_error &) {
  }
  REQUIRE(threw);
  return true;
}

bool run() {
  size_t first = fill_up();
  REQUIRE(errno == ENOMEM);
  REQUIRE(first >= 16);         // at least 16 MiB were usable
  REQUIRE(first < kMaxBlocks);  // and the limit did bite
  if (!check_exhausted()) return false;
  if (!check_realloc_keeps_block(first)) return false;
  if (!check_cxx()) return false;
  free_all(first);
  // Full recovery: the same space is there again (less at most a few slabs' worth).
  size_t again = fill_up();
  REQUIRE(again + 4 >= first);
  free_all(again);
  void *p = malloc(100);
  REQUIRE(p != nullptr);
  free(p);
  printf("blocks=%zu recovered=%zu\n", first, again);
  return true;
}

}  // namespace

int main() {
  return run() ? 0 : 1;
}
