// Linked against librayalloc.so, every name of the malloc face resolves to rayalloc (checked
// with dlsym(RTLD_DEFAULT) + dladdr, the way the dynamic linker binds other libraries'
// calls), including the rarely used valloc/pvalloc and the mangled operator new/delete names.
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include <gtest/gtest.h>

#include "rayalloc.h"

namespace {

const char *const kMallocFace[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "malloc_trim",
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

}  // namespace
