// ray_stats_get and its printed forms, built once per library variant (release, stats,
// debug). What every variant must give: reserved >= committed >= allocated, allocated exact
// (it moves by exactly the usable size of what is allocated and freed, also when another thread
// frees), peak_allocated >= allocated, and a table and JSON that print the same figures.
// The operation counters (mallocs, frees) are exact where RAYALLOC_OPS_EXACT is defined (the
// stats and debug variants) and may read 0 in release.
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rayalloc.h"

namespace {

// Keeps the compiler from removing a malloc/free pair.
void *Opaque(void *p) {
  asm volatile("" : "+r"(p));
  return p;
}

ray_stats Get() {
  ray_stats s;
  EXPECT_EQ(ray_stats_get(nullptr, &s), 0);
  return s;
}

// Sizes across the fast path, the slow path, aligned classes and large blocks.
const size_t kSizes[] = {1, 16, 24, 100, 1000, 1024, 1025, 5000, 40000, 65536, 70000, 1 << 20};

void Settle() {
#ifdef RAYALLOC_DEBUG_VARIANT
  ray_malloc_trim(0);  // the debug quarantine holds freed blocks back
#endif
}

TEST(Stats, InvariantsHold) {
  void *keep = malloc(12345);
  ray_stats s = Get();
  EXPECT_GT(s.reserved, size_t(64) << 20);
  EXPECT_GE(s.reserved, s.committed);
  EXPECT_GE(s.committed, s.allocated);
  EXPECT_GE(s.allocated, size_t(12345));
  EXPECT_GE(s.peak_allocated, s.allocated);
  free(keep);
  EXPECT_EQ(ray_stats_get(nullptr, nullptr), EINVAL);
}

TEST(Stats, AllocatedMovesByExactlyWhatIsAllocated) {
  std::vector<void *> blocks;
  blocks.reserve(1000);  // the vector's own buffer is allocated before the first snapshot
  Settle();
  ray_stats before = Get();
  size_t usable = 0;
  for (int round = 0; round < 10; round++)
    for (size_t n : kSizes) {
      void *p = malloc(n);
      ASSERT_NE(p, nullptr);
      usable += malloc_usable_size(p);
      blocks.push_back(p);
    }
  ray_stats mid = Get();
#ifndef RAYALLOC_DEBUG_VARIANT  // the debug variant adds a header and a redzone to each block
  EXPECT_EQ(mid.allocated - before.allocated, usable);
#else
  EXPECT_GE(mid.allocated - before.allocated, usable);
#endif
  EXPECT_GE(mid.peak_allocated, mid.allocated);
  for (void *p : blocks) free(p);
  Settle();
  ray_stats after = Get();
  EXPECT_EQ(after.allocated, before.allocated);
#ifdef RAYALLOC_OPS_EXACT
  EXPECT_EQ(mid.mallocs - before.mallocs, blocks.size());
  EXPECT_EQ(after.frees - mid.frees, blocks.size());
#endif
}

TEST(Stats, RemoteFreesLeaveAllocatedAtOnce) {
  std::vector<void *> blocks;
  blocks.reserve(5000);
  std::atomic<int> stage{0};  // 1: blocks made, 2: blocks freed, 3: counted
  // Both threads exist before the first snapshot: creating a thread allocates too.
  std::thread freer([&] {
    while (stage.load() != 1) std::this_thread::yield();
    for (void *p : blocks) free(p);
    stage.store(2);
    // Ending a thread frees its std::thread state: not before the figures are taken.
    while (stage.load() != 3) std::this_thread::yield();
  });
  std::thread maker([&] {
    Settle();
    ray_stats before = Get();
    size_t usable = 0;
    for (int i = 0; i < 5000; i++) {
      blocks.push_back(malloc(size_t(16 + (i * 37) % 2000)));
      usable += malloc_usable_size(blocks.back());
    }
    ray_stats mid = Get();
#ifndef RAYALLOC_DEBUG_VARIANT
    EXPECT_EQ(mid.allocated - before.allocated, usable);
#endif
    stage.store(1);
    while (stage.load() != 2) std::this_thread::yield();
    // The maker is alive and has not allocated since: the blocks wait on its slabs'
    // thread_free lists, uncollected, and are no longer allocated all the same.
    Settle();
    ray_stats after = Get();
    EXPECT_EQ(after.allocated, before.allocated);
#ifdef RAYALLOC_OPS_EXACT
    EXPECT_EQ(after.mallocs - before.mallocs, 5000u);
    EXPECT_EQ(after.frees - before.frees, 5000u);
#endif
    stage.store(3);
  });
  maker.join();
  freer.join();
}

TEST(Stats, CountsOfExitedThreadsAreKept) {
  Settle();
  ray_stats before = Get();
  std::thread t([] {
    for (int i = 0; i < 1000; i++) free(Opaque(malloc(64)));
  });
  t.join();
  Settle();
  ray_stats after = Get();
#ifdef RAYALLOC_OPS_EXACT
  // The thread's 1000 pairs, and the few allocations of creating and ending a thread.
  EXPECT_GE(after.mallocs - before.mallocs, 1000u);
  EXPECT_LE(after.mallocs - before.mallocs, 1010u);
  EXPECT_GE(after.frees - before.frees, 1000u);
  EXPECT_LE(after.frees - before.frees, 1010u);
#endif
  EXPECT_LE(after.allocated, before.allocated + 4096);
}

TEST(Stats, PeakRemembersALargeBlock) {
  void *p = malloc(size_t(64) << 20);
  ASSERT_NE(p, nullptr);
  free(p);
  Settle();
  ray_stats s = Get();
  EXPECT_GE(s.peak_allocated, size_t(64) << 20);
  EXPECT_LT(s.allocated, size_t(64) << 20);
}

// Fields "name":value of a JSON object (flat scan: enough for the numbers ray prints).
size_t JsonField(const std::string &json, const char *name) {
  std::string key = std::string("\"") + name + "\":";
  size_t at = json.find(key);
  EXPECT_NE(at, std::string::npos) << name;
  return at == std::string::npos ? 0 : strtoull(json.c_str() + at + key.size(), nullptr, 10);
}

TEST(Stats, JsonAndTablePrintTheSameSnapshot) {
  static char buf[1 << 16];  // a FILE with its own buffer: printing allocates nothing
  static char name[] = "/tmp/rayalloc_stats_XXXXXX";
  int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  FILE *f = fdopen(fd, "w+");
  ASSERT_NE(f, nullptr);
  setvbuf(f, buf, _IOFBF, sizeof buf);
  ray_stats s = Get();
  ray_stats_print_json(f);
  ray_stats again = Get();
  fflush(f);
  rewind(f);
  std::string json(1 << 16, '\0');
  json.resize(fread(json.data(), 1, json.size(), f));
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
  EXPECT_EQ(JsonField(json, "reserved"), s.reserved);
  EXPECT_EQ(JsonField(json, "committed"), s.committed);
  EXPECT_EQ(JsonField(json, "allocated"), s.allocated);
  EXPECT_EQ(JsonField(json, "mallocs"), s.mallocs);
  EXPECT_EQ(JsonField(json, "frees"), s.frees);
  EXPECT_EQ(JsonField(json, "arrays_moved"), s.arrays_moved);
  EXPECT_EQ(again.allocated, s.allocated);  // nothing happened in between
  EXPECT_NE(json.find("\"size_classes\":[{\"class\":"), std::string::npos);
  // allocated = what the classes and large blocks hold, less what is pending or quarantined.
  size_t classes = 0;
  for (size_t at = 0; (at = json.find("\"bytes_used\":", at)) != std::string::npos; at++)
    classes += strtoull(json.c_str() + at + 13, nullptr, 10);
  size_t large_at = json.find("\"large\":");
  ASSERT_NE(large_at, std::string::npos);
  size_t large = JsonField(json.substr(large_at), "bytes");
  EXPECT_EQ(classes + large - JsonField(json, "remote_pending_bytes") -
                JsonField(json, "quarantined_bytes"),
            s.allocated);

  rewind(f);
  ASSERT_EQ(ftruncate(fd, 0), 0);
  ray_stats_print(f);
  fflush(f);
  rewind(f);
  std::string table(1 << 16, '\0');
  table.resize(fread(table.data(), 1, table.size(), f));
  EXPECT_NE(table.find("rayalloc statistics ("), std::string::npos) << table;
  for (const char *row : {"reserved", "committed", "allocated", "mallocs", "class", "large"})
    EXPECT_NE(table.find(row), std::string::npos) << row << "\n" << table;
  fclose(f);
  unlink(name);
}

TEST(Stats, AnArenaReportsItsOwnFigures) {
  ray_arena *a = ray_arena_new(nullptr);
  ASSERT_NE(a, nullptr);
  for (int i = 0; i < 100; i++) ASSERT_NE(ray_arena_malloc(a, 1000), nullptr);
  ray_stats s;
  ASSERT_EQ(ray_stats_get(a, &s), 0);
  EXPECT_GE(s.allocated, 100u * 1000u);
  EXPECT_GE(s.committed, s.allocated);
  EXPECT_GE(s.reserved, s.committed);
  EXPECT_EQ(ray_stats_get(a, nullptr), EINVAL);
  ray_arena_destroy(a);
}

}  // namespace
