/* Shared by the bug-class programs: each prints the pointer its bug is about ("PTR 0x..."),
 * then commits the bug. check_report.py runs it against a library variant and checks that the
 * report names that pointer and the kind of error. */
#ifndef RAYALLOC_BUG_COMMON_H
#define RAYALLOC_BUG_COMMON_H
#include <stdio.h>

static inline void announce(const void *p) {
  printf("PTR %p\n", p);
  fflush(stdout);
}

/* Keeps the compiler from removing or reordering the deliberate bug. */
static inline void *opaque(void *p) {
  __asm__ volatile("" : "+r"(p));
  return p;
}
#endif
