// Linked against librayalloc.so, every name of the malloc face resolves to rayalloc (checked
// with dlsym(RTLD_DEFAULT) + dladdr, the way the dynamic linker binds other libraries'
// calls), including the rarely used valloc/pvalloc and the mangled operator new/delete names.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rayalloc.h"

namespace {

const char *const kMallocFace[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "malloc_trim", "mallinfo", "mallinfo2", "malloc_stats", "malloc_info",
    // operator new: plain, array, nothrow, aligned, aligned nothrow
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    // operator delete: plain, array, sized, aligned, sized+aligned, nothrow, aligned nothrow
    "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdlPvRKSt9nothrow_t",
    "_ZdaPvRKSt9nothrow_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    "_ZdaPvSt11align_val_tRKSt9nothrow_t"};

const char *const kPrefixed[] = {"ray_malloc",
                                 "ray_calloc",
                                 "ray_realloc",
                                 "ray_reallocarray",
                                 "ray_free",
                                 "ray_free_sized",
                                 "ray_free_aligned_sized",
                                 "ray_memalign",
                                 "ray_posix_memalign",
                                 "ray_aligned_alloc",
                                 "ray_valloc",
                                 "ray_pvalloc",
                                 "ray_usable_size",
                                 "ray_malloc_usable_size",
                                 "ray_malloc_trim",
                                 "ray_owns",
                                 "ray_set_error_handler"};

// The file that defines the symbol the process binds `name` to.
std::string defining_file(const char *name) {
  void *sym = dlsym(RTLD_DEFAULT, name);
  if (!sym) return "(unresolved)";
  Dl_info info;
  if (!dladdr(sym, &info) || !info.dli_fname) return "(unknown)";
  return info.dli_fname;
}

bool is_rayalloc(const std::string &file) {
  size_t slash = file.rfind('/');
  std::string base = slash == std::string::npos ? file : file.substr(slash + 1);
  return base.rfind("librayalloc.so", 0) == 0;
}

TEST(Exports, EveryMallocFaceNameResolvesToRayalloc) {
  for (const char *name : kMallocFace)
    EXPECT_TRUE(is_rayalloc(defining_file(name))) << name << " -> " << defining_file(name);
}

TEST(Exports, EveryPrefixedNameIsExported) {
  for (const char *name : kPrefixed)
    EXPECT_TRUE(is_rayalloc(defining_file(name))) << name << " -> " << defining_file(name);
}

TEST(Exports, PvallocAndVallocFoundByDlsymWork) {
  using alloc_fn = void *(*)(size_t);
  auto pv = reinterpret_cast<alloc_fn>(dlsym(RTLD_DEFAULT, "pvalloc"));
  auto v = reinterpret_cast<alloc_fn>(dlsym(RTLD_DEFAULT, "valloc"));
  ASSERT_NE(pv, nullptr);
  ASSERT_NE(v, nullptr);
  void *a = pv(100), *b = v(100);
  EXPECT_TRUE(ray_owns(a));
  EXPECT_TRUE(ray_owns(b));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 4096, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 4096, 0u);
  free(a);
  free(b);
}

// A program that reports its heap through glibc's calls reads rayalloc's figures, not glibc's
// empty arenas.
TEST(Exports, MallinfoAndMallocInfoReportRayallocsHeap) {
  struct mallinfo2 before = mallinfo2();
  std::vector<void *> blocks;
  for (int i = 0; i < 1024; i++) {  // 64 MiB in 64 KiB blocks, touched
    blocks.push_back(malloc(65536));
    memset(blocks.back(), 1, 65536);
  }
  struct mallinfo2 during = mallinfo2();
  ray_stats s{};
  ray_stats_get(nullptr, &s);
  EXPECT_GE(during.uordblks, before.uordblks + (size_t(64) << 20));
  EXPECT_GE(during.arena, during.uordblks);
  EXPECT_EQ(during.fordblks, during.arena - during.uordblks);
  EXPECT_GE(during.usmblks, during.uordblks);
  // The same figures as ray_stats_get, give or take what gtest allocated between the calls.
  EXPECT_LE(
      during.uordblks > s.allocated ? during.uordblks - s.allocated : s.allocated - during.uordblks,
      size_t(1) << 20);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  struct mallinfo old = mallinfo();  // int fields (glibc deprecates it; programs still call it)
#pragma GCC diagnostic pop
  EXPECT_GE(old.uordblks, 64 << 20);
  EXPECT_GE(old.arena, old.uordblks);

  char *xml = nullptr;
  size_t xml_len = 0;
  FILE *f = open_memstream(&xml, &xml_len);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(malloc_info(0, f), 0);
  fclose(f);
  std::string text(xml, xml_len);
  free(xml);
  EXPECT_EQ(text.rfind("<malloc version=", 0), 0u) << text;
  EXPECT_NE(text.find("</malloc>"), std::string::npos) << text;
  size_t at = text.find("<system type=\"current\" size=\"");
  ASSERT_NE(at, std::string::npos) << text;
  size_t current = strtoull(text.c_str() + at + 29, nullptr, 10);
  EXPECT_GE(current, size_t(64) << 20) << text;
  errno = 0;
  EXPECT_EQ(malloc_info(1, stdout), -1);  // glibc accepts only options 0
  EXPECT_EQ(errno, EINVAL);

  for (void *p : blocks) free(p);
  EXPECT_LE(mallinfo2().uordblks + (size_t(60) << 20), during.uordblks);
}

// malloc_stats prints glibc's layout with rayalloc's totals on stderr.
TEST(Exports, MallocStatsPrintsTheTotals) {
  void *p = malloc(size_t(8) << 20);
  memset(p, 1, size_t(8) << 20);
  testing::internal::CaptureStderr();
  malloc_stats();
  std::string out = testing::internal::GetCapturedStderr();
  free(p);
  EXPECT_NE(out.find("Total (incl. mmap):"), std::string::npos) << out;
  size_t at = out.find("in use bytes     =");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_GE(strtoull(out.c_str() + at + 18, nullptr, 10), size_t(8) << 20) << out;
}

}  // namespace
