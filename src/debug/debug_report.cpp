// Messages of the debug variant (the design note is in debug_report.hpp).
#ifdef RAY_DEBUG
#include "debug/debug_report.hpp"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "support/error.hpp"

namespace ray {

const char *debug_error_name(DebugError e) {
  switch (e) {
    case DebugError::DoubleFree:
      return "double free";
    case DebugError::InvalidFree:
      return "invalid free";
    case DebugError::InteriorPointer:
      return "interior pointer";
    case DebugError::Redzone:
      return "redzone overwritten";
    case DebugError::WriteAfterFree:
      return "write after free";
    case DebugError::ArrayCapacity:
      return "write into unused array capacity";
  }
  return "error";
}

void describe_block(const EngineBlock &b, char *buf, size_t cap) {
  const Span *s = b.span;
  const Heap *o = s->owner;
  bool abandoned = s->kind == SpanKind::Slab && s->heap.load(std::memory_order_relaxed) == nullptr;
  const char *owner = !o                           ? "no owner"
                      : o->kind == HeapKind::Arena ? "arena heap"
                      : abandoned                  ? "heap of an exited thread"
                                                   : "thread heap";
  if (s->kind == SpanKind::Slab)
    snprintf(buf, cap, "size class %u (%u-byte blocks), %s %p", unsigned(s->size_class),
             s->block_size, owner, static_cast<const void *>(o));
  else
    snprintf(buf, cap, "large block of %zu bytes, %s %p", b.size, owner,
             static_cast<const void *>(o));
}

void debug_report(DebugError e, const char *call, const void *ptr, const char *fmt, ...) {
  char detail[150], msg[200];  // the default handler prints within 256 bytes
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "%s in %s: %s", debug_error_name(e), call, detail);
  int err = (e == DebugError::Redzone || e == DebugError::WriteAfterFree ||
             e == DebugError::ArrayCapacity)
                ? EFAULT
                : EINVAL;
  report_error(err, msg, ptr);
}

}  // namespace ray
#endif  // RAY_DEBUG
