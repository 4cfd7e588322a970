// How the debug variant names what it finds. Every report goes through report_error (the
// error handler), with a message that starts with the kind of error, so a handler or a reader
// of stderr can tell them apart:
//
//   "<kind> in <call>: <what, with the block's size and its size class or owner>"
//
// and the pointer the error is about (the one the program passed, or for corruption the
// block's own pointer, or the first changed byte of poisoned array capacity).
#pragma once
#include <cstddef>

#include "debug/debug_block.hpp"

namespace ray {

enum class DebugError {
  DoubleFree,       // "double free"
  InvalidFree,      // "invalid free"
  InteriorPointer,  // "interior pointer"
  Redzone,          // "redzone overwritten"
  WriteAfterFree,   // "write after free"
  ArrayCapacity,    // "write into unused array capacity"
};
const char *debug_error_name(DebugError e);

// "size class 5 (80-byte blocks), thread heap 0x..." or "large block of 69632 bytes, ...".
void describe_block(const EngineBlock &b, char *buf, size_t cap);

// Formats "<kind> in <call>: <detail>" and calls report_error(err, msg, ptr).
void debug_report(DebugError e, const char *call, const void *ptr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

}  // namespace ray
