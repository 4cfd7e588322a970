// The debug variant's malloc family: placing blocks with their header, redzone and guard page,
// and checking every free and realloc. Design notes: debug_malloc.hpp (what), debug_block.hpp
// (the layout), quarantine.hpp (delayed reuse).
#ifdef RAY_DEBUG
#include "debug/debug_malloc.hpp"

#include <errno.h>
#include <string.h>

#include "debug/asan_poison.hpp"
#include "debug/debug_block.hpp"
#include "debug/debug_report.hpp"
#include "debug/quarantine.hpp"
#include "debug/valgrind.hpp"
#include "os/os.hpp"
#include "slab/size_class.hpp"
#include "support/error.hpp"

namespace ray {
namespace {

constexpr size_t kFreshFillMax = 64 * 1024;   // fill of a large block whose pages are fresh
constexpr size_t kReallocRedzoneCheck = 256;  // redzone bytes checked by an in-place realloc

// First byte of [p, p+n) that is not `fill`, or nullptr.
const unsigned char *first_not(uintptr_t p, size_t n, unsigned char fill) {
  auto *b = reinterpret_cast<const unsigned char *>(p);
  const uint64_t pattern = 0x0101010101010101ull * fill;
  size_t i = 0;
  for (; i < n && (uintptr_t(b + i) & 7); i++)
    if (b[i] != fill) return b + i;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    if (w != pattern) break;
  }
  for (; i < n; i++)
    if (b[i] != fill) return b + i;
  return nullptr;
}

void fill(uintptr_t p, unsigned char byte, size_t n) {
  memset(reinterpret_cast<void *>(p), byte, n);
}

struct Placed {
  uintptr_t user;
  EngineBlock block;
};

// An engine block for `n` user bytes with room for `room` (realloc growth) at `align`: a slab
// block when header + bytes + redzone fit one, else a large span with a guard page.
bool place(size_t n, size_t room, size_t align, Placed *out) {
  Heap *h = thread_heap();
  size_t want = n > room ? n : room;
  if (!h || want > g_res.size) {  // also keeps the sums below from overflowing
    errno = ENOMEM;
    return false;
  }
  size_t off = align > kHeaderBytes ? align : kHeaderBytes;
  size_t need = off + want + kMinRedzone;
  void *base;
  bool large = !(need <= kSlabMax && align <= kSlabMax && align_up(need, align) <= kSlabMax);
  if (!large) {
    base = align <= kMinAlign ? heap_alloc_class(h, size_class_of(need))
                              : heap_malloc_aligned(h, need, align);
  } else {
    base = heap_alloc_large(h, align_up(need, kPage) + kPage, align, false);
  }
  if (!base) {
    errno = ENOMEM;
    return false;
  }
  EngineBlock b{};
  engine_block_of(base, &b);  // a block the engine just handed out: always found
  if (large && os::protect(reinterpret_cast<void *>(b.start + b.size - kPage), kPage, false))
    b.span->flags |= kSpanGuarded;
  *out = Placed{b.start + off, b};
  return true;
}

// Header, fills and valgrind marks of a new block of `n` bytes.
void *open_block(const Placed &pl, size_t n, size_t align, bool zero) {
  uintptr_t start = pl.block.start, user = pl.user, end = redzone_end(pl.block);
  vg::undefined(reinterpret_cast<void *>(start), end - start);
  asan_unpoison(reinterpret_cast<void *>(start), end - start);
  {
    vg::Quiet quiet;
    if (user - start > kHeaderBytes) {
      auto *lead = reinterpret_cast<DebugLead *>(start);
      lead->magic = lead_magic(start);
      lead->offset = user - start;
      lead->unused = 0;
    }
    DebugHeader *h = header_of_user(user);
    h->link = 0;
    h->magic = header_magic(user);
    h->size = n;
    h->state = kStateLive;
    h->align_shift = uint32_t(__builtin_ctzll(align));
    bool fresh = pl.block.span->kind == SpanKind::Large && (pl.block.span->flags & kSpanZeroed);
    if (zero) {
      if (!fresh) fill(user, 0, n);
    } else {
      fill(user, kAllocFill, fresh && n > kFreshFillMax ? kFreshFillMax : n);
    }
    fill(user + n, kRedzoneFill, end - user - n);
  }
  vg::malloclike(reinterpret_cast<void *>(user), n, zero);
  vg::noaccess(reinterpret_cast<void *>(start), user - start);
  vg::noaccess(reinterpret_cast<void *>(user + n), end - user - n);
  return reinterpret_cast<void *>(user);
}

void *alloc_with_room(size_t n, size_t room, size_t align, bool zero) {
  Placed pl;
  if (!place(n, room, align, &pl)) return nullptr;
  return open_block(pl, n, align, zero);
}

// The redzone of a live block is intact (its first `limit` bytes)? Else report it (the caller
// then does nothing).
bool redzone_ok(const EngineBlock &b, uintptr_t user, size_t n, const char *call,
                size_t limit = ~size_t(0)) {
  const unsigned char *bad;
  {
    vg::Quiet quiet;
    size_t len = redzone_end(b) - user - n;
    bad = first_not(user + n, len < limit ? len : limit, kRedzoneFill);
  }
  if (!bad) return true;
  char d[96];
  describe_block(b, d, sizeof d);
  debug_report(DebugError::Redzone, call, reinterpret_cast<void *>(user),
               "byte %zu past the end of the %zu-byte block was changed (%s)",
               size_t(uintptr_t(bad) - user - n), n, d);
  return false;
}

// Why `p` (in debug block `b`, whose user pointer is `user` or 0) is not a block start.
void report_not_a_block(const EngineBlock &b, uintptr_t user, const void *p, const char *call) {
  char d[96];
  describe_block(b, d, sizeof d);
  uintptr_t a = uintptr_t(p);
  size_t n;
  {
    vg::Quiet quiet;
    n = user ? header_of_user(user)->size : 0;
  }
  if (user && a > user - kHeaderBytes && a < user + n)
    debug_report(DebugError::InteriorPointer, call, p,
                 "%zd bytes into the %zu-byte block at %p (%s)", ptrdiff_t(a - user), n,
                 reinterpret_cast<void *>(user), d);
  else
    debug_report(DebugError::InvalidFree, call, p, "not the start of a block (%s)", d);
}

void report_foreign(const void *p, const char *call) {
  debug_report(DebugError::InvalidFree, call, p,
               "pointer was not allocated by rayalloc (stack, static data or another allocator)");
}

// Free the live-or-not debug block at `user`: state, redzone, then the quarantine.
void free_user(const EngineBlock &b, uintptr_t user, const char *call) {
  DebugHeader *h = header_of_user(user);
  size_t n;
  uint32_t state = kStateLive;
  bool was_live;
  {
    vg::Quiet quiet;
    n = h->size;
    was_live = __atomic_compare_exchange_n(&h->state, &state, kStateFreed, false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_RELAXED);
  }
  if (!was_live) {
    char d[96];
    describe_block(b, d, sizeof d);
    if (state == kStateFreed)
      debug_report(DebugError::DoubleFree, call, reinterpret_cast<void *>(user),
                   "the %zu-byte block was already freed (%s)", n, d);
    else
      debug_report(DebugError::InvalidFree, call, reinterpret_cast<void *>(user),
                   "block header overwritten (a buffer underflow?) (%s)", d);
    return;
  }
  if (!redzone_ok(b, user, n, call)) {
    vg::Quiet quiet;
    __atomic_store_n(&h->state, kStateLive, __ATOMIC_RELEASE);  // the call does nothing
    return;
  }
  vg::freelike(reinterpret_cast<void *>(user));
  {
    vg::Quiet quiet;
    fill(user, kFreeFill, n);
  }
  asan_poison(reinterpret_cast<void *>(user), n);
  quarantine_push(user, b.size);
}

// The debug block whose user pointer is `p`, if `p` is one (0: not a debug span; the caller
// asks the engine). Reports and returns -1 when `p` lies in a debug span but is no block.
int find_user(const void *p, const char *call, EngineBlock *b) {
  if (!engine_block_of(p, b) || !debug_span(b->span)) return 0;
  uintptr_t user;
  bool live;
  {
    vg::Quiet quiet;
    user = debug_user_of(*b);
    live = user && __atomic_load_n(&header_of_user(user)->state, __ATOMIC_ACQUIRE) == kStateLive;
  }
  if (user == uintptr_t(p)) return 1;
  // A block handed out without a header (ray_arena_malloc(NULL, ...), an arena's record): its
  // start, perhaps over the stale header of a debug block freed before.
  if (uintptr_t(p) == b->start && !live) return 0;
  report_not_a_block(*b, user, p, call);
  return -1;
}

}  // namespace

void *debug_malloc(size_t n, size_t align, bool zero) {
  return alloc_with_room(n, 0, align < kMinAlign ? kMinAlign : align, zero);
}

void *debug_calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  return debug_malloc(n, kMinAlign, true);
}

void debug_free(void *p, const char *call) {
  if (p == nullptr) return;
  if (!in_reservation(p)) return report_foreign(p, call);
  EngineBlock b;
  switch (find_user(p, call, &b)) {
    case 1:
      return free_user(b, uintptr_t(p), call);
    case 0:
      return heap_free(p);  // arrays, pools, arena blocks: the engine's own checks
    default:
      return;
  }
}

void release_freed_block(uintptr_t user) {
  EngineBlock b;
  if (!engine_block_of(reinterpret_cast<void *>(user), &b)) return;
  size_t n;
  const unsigned char *bad;
  {
    vg::Quiet quiet;
    n = header_of_user(user)->size;
    asan_unpoison(reinterpret_cast<void *>(user), n);
    bad = first_not(user, n, kFreeFill);
  }
  if (bad) {
    char d[96];
    describe_block(b, d, sizeof d);
    debug_report(DebugError::WriteAfterFree, "delayed reuse", reinterpret_cast<void *>(user),
                 "byte %zu of the freed %zu-byte block was changed (%s)",
                 size_t(uintptr_t(bad) - user), n, d);
  }
  redzone_ok(b, user, n, "delayed reuse");
  if (b.span->flags & kSpanGuarded) {
    os::protect(reinterpret_cast<void *>(b.start + b.size - kPage), kPage, true);
    b.span->flags &= uint8_t(~kSpanGuarded);
  }
  vg::undefined(reinterpret_cast<void *>(b.start), b.size);  // the engine's memory again
  free_block(reinterpret_cast<void *>(b.start));
}

void *debug_realloc(void *p, size_t n) {
  if (p == nullptr) return debug_malloc(n, kMinAlign, false);
  if (n == 0) {  // glibc: frees and returns NULL
    debug_free(p, "realloc()");
    return nullptr;
  }
  if (!in_reservation(p)) {
    report_foreign(p, "realloc()");
    errno = EINVAL;
    return nullptr;
  }
  EngineBlock b;
  int found = find_user(p, "realloc()", &b);
  if (found == 0) return heap_realloc(p, n);
  if (found < 0) {
    errno = EINVAL;
    return nullptr;
  }
  uintptr_t user = uintptr_t(p);
  DebugHeader *h = header_of_user(user);
  size_t old;
  uint32_t state;
  {
    vg::Quiet quiet;
    old = h->size;
    state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
  }
  if (state != kStateLive) {
    char d[96];
    describe_block(b, d, sizeof d);
    debug_report(DebugError::DoubleFree, "realloc()", p,
                 "the %zu-byte block was already freed (%s)", old, d);
    errno = EINVAL;
    return nullptr;
  }
  // A block growing in place by small steps is checked near its end only: the whole redzone
  // (which holds the room to grow) is checked when it is freed or moves.
  if (!redzone_ok(b, user, old, "realloc()", kReallocRedzoneCheck)) {
    errno = EINVAL;
    return nullptr;
  }
  uintptr_t end = redzone_end(b);
  if (n <= g_res.size && user + n + kMinRedzone <= end && n >= old / 2) {  // in place
    {
      vg::Quiet quiet;
      if (n > old)
        fill(user + old, kAllocFill, n - old);  // was redzone
      else
        fill(user + n, kRedzoneFill, old - n);  // becomes redzone
      h->size = n;
    }
    vg::resize(p, old, n);
    if (n < old) vg::noaccess(reinterpret_cast<void *>(user + n), old - n);
    return p;
  }
  if (!redzone_ok(b, user, old, "realloc()")) {
    errno = EINVAL;
    return nullptr;
  }
  // Moves; a large block growing gets room to grow in place next time (no quadratic copying).
  size_t room = n > old && n > kSlabMax / 2 ? n + n / 2 : 0;
  void *q = alloc_with_room(n, room, kMinAlign, false);
  if (!q) return nullptr;
  memcpy(q, p, old < n ? old : n);
  free_user(b, user, "realloc()");
  return q;
}

size_t debug_usable_size(const void *p) {
  if (p == nullptr || !in_reservation(p)) return block_usable_size(p);
  EngineBlock b;
  int found = find_user(p, "malloc_usable_size()", &b);
  if (found == 0) return block_usable_size(p);
  if (found < 0) return 0;
  vg::Quiet quiet;
  const DebugHeader *h = header_of_user(uintptr_t(p));
  if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == kStateLive) return h->size;
  report_error(EINVAL, "malloc_usable_size: the block was freed", p);
  return 0;
}

int debug_owns(const void *p) {
  EngineBlock b;
  if (p == nullptr || !engine_block_of(p, &b) || !debug_span(b.span)) return -1;
  vg::Quiet quiet;
  uintptr_t user = debug_user_of(b);
  bool live = user && __atomic_load_n(&header_of_user(user)->state, __ATOMIC_ACQUIRE) == kStateLive;
  if (!live && uintptr_t(p) == b.start) return -1;  // a headerless block: the engine's rule
  return live && user == uintptr_t(p);
}

void debug_trim() {
  quarantine_flush();
}

// Static links pull leak_report.o (whose destructor nothing calls by name) with this file.
__attribute__((used)) void (*const g_pull_exit_checks)() = debug_at_exit;

}  // namespace ray
#endif  // RAY_DEBUG
