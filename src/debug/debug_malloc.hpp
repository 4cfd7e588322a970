// The malloc family of the debug variant. face/malloc_impl.hpp routes every api_* call here
// when RAY_DEBUG is defined; the release and stats variants never include this header.
//
// What it adds over the engine (layout in debug_block.hpp): a header and a redzone around every
// block, fill patterns, a guard page after every large block, double/invalid/interior free and
// redzone checks on free and realloc, delayed reuse with a check of the freed fill
// (quarantine.hpp), valgrind client requests (valgrind.hpp), and the leak report at exit
// (leak_report.cpp). Blocks of other faces (arrays, pools, arena blocks) reach free() and
// realloc() too: they carry no header and go to the engine's own checks.
#pragma once
#include <cstddef>

namespace ray {

// align: a power of two (16 or more; the callers validated it). zero: calloc.
void *debug_malloc(size_t n, size_t align, bool zero);
void *debug_calloc(size_t count, size_t size);
void *debug_realloc(void *p, size_t n);
// `call` names the entry point in reports ("free()", "realloc()", ...).
void debug_free(void *p, const char *call);
size_t debug_usable_size(const void *p);
// 1: a live block of the debug malloc family.
int debug_owns(const void *p);
// malloc_trim: release the quarantine (each block checked) before the engine trims.
void debug_trim();
// The library's destructor (leak_report.cpp): checks the quarantine, reports leaks.
void debug_at_exit();

}  // namespace ray
