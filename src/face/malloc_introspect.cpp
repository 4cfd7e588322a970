// glibc's malloc introspection (mallinfo, mallinfo2, malloc_stats, malloc_info), answered with
// rayalloc's own figures. Without these, a program on rayalloc that reports its heap through
// them reads glibc's arenas, which hold next to nothing: it would report zero. Override
// libraries only, like malloc_override.cpp.
//
// The glibc fields map as: arena = memory taken from the OS (ray_stats.committed), uordblks =
// bytes in blocks handed out (allocated), fordblks = the difference (free but committed),
// usmblks = the peak of allocated; hblks/hblkhd (mmapped chunks) are 0, since every block
// comes from the one reservation, as are the free-chunk counts, which rayalloc does not keep.
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>

#include "rayalloc.h"
#include "arena/layout.hpp"

#define RAY_OVERRIDE extern "C" RAY_EXPORT

namespace {

ray_stats now() {
  ray_stats s{};
  ray_stats_get(nullptr, &s);
  return s;
}

int clamp_int(size_t v) {
  return v > size_t(INT_MAX) ? INT_MAX : int(v);
}

}  // namespace

RAY_OVERRIDE struct mallinfo2 mallinfo2() {
  ray_stats s = now();
  struct mallinfo2 m {};
  m.arena = s.committed;
  m.uordblks = s.allocated;
  m.fordblks = s.committed - s.allocated;
  m.usmblks = s.peak_allocated;
  return m;
}

// The old form has int fields: figures past INT_MAX read INT_MAX (glibc wraps them instead).
RAY_OVERRIDE struct mallinfo mallinfo() {
  struct mallinfo2 w = mallinfo2();
  struct mallinfo m {};
  m.arena = clamp_int(w.arena);
  m.uordblks = clamp_int(w.uordblks);
  m.fordblks = clamp_int(w.fordblks);
  m.usmblks = clamp_int(w.usmblks);
  return m;
}

// glibc's layout (one arena, then the totals) with rayalloc's figures, on stderr.
RAY_OVERRIDE void malloc_stats() {
  ray_stats s = now();
  fprintf(stderr,
          "Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
          "Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
          "max mmap regions = %10d\nmax mmap bytes   = %10d\n",
          s.committed, s.allocated, s.committed, s.allocated, 0, 0);
}

// glibc's XML shape, with the totals only. `options` must be 0, as glibc requires.
RAY_OVERRIDE int malloc_info(int options, FILE *fp) {
  if (options != 0 || fp == nullptr) {
    errno = EINVAL;
    return -1;
  }
  ray_stats s = now();
  fprintf(fp,
          "<malloc version=\"1\">\n"
          "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
          "<total type=\"rest\" count=\"0\" size=\"%zu\"/>\n"
          "<total type=\"mmap\" count=\"0\" size=\"0\"/>\n"
          "<system type=\"current\" size=\"%zu\"/>\n"
          "<system type=\"max\" size=\"%zu\"/>\n"
          "<aspace type=\"total\" size=\"%zu\"/>\n"
          "<aspace type=\"mprotect\" size=\"%zu\"/>\n"
          "</malloc>\n",
          s.committed - s.allocated, s.committed, s.peak_allocated, s.reserved, s.committed);
  return 0;
}
