// libFuzzer harness: the input is a program of operations over every API of rayalloc — the
// malloc family (malloc, calloc, realloc, reallocarray, the aligned forms, the sized frees),
// arrays (new with hints/alignment/arena, push, append (also from itself), reserve, resize,
// set_len, grow_in_place, shrink_to_fit, clone, free), pools (new, alloc, free, visit,
// destroy), arenas (new with a limit, malloc, reset, destroy), invalid frees and trims — each
// run on one of three worker threads (which the input switches between, and replaces with
// fresh threads). After every operation the model (model.hpp) checks every live object.
//
// Also checked at each call: results promised by the contract (zeroing by calloc, by resize
// and, with RAY_HINT_ZERO, of new capacity; NULL + ENOMEM / EINVAL on bad requests with the
// inputs intact; stable arrays never move; the error handler is called exactly when a
// programming error is made and never otherwise).
//
// Build and run: scripts/test.d/60-fuzz.sh (FUZZ_SECONDS=N to fuzz longer); docs/ROBUSTNESS.md.
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <atomic>
#include <vector>

#include "faces.hpp"
#include "model.hpp"
#include "workers.hpp"

namespace fuzz {
namespace {

constexpr size_t kMaxObjects = 128;
constexpr size_t kBudget = size_t(64) << 20;  // bytes of live objects (extent)
constexpr int kWorkers = 3, kMaxPools = 4, kMaxArenas = 3;

std::atomic<int> g_reports{0};
void count_report(int, const char *, void *, void *) {
  g_reports++;
}

Worker *g_workers[kWorkers];

// Operations that ran to completion, per opcode (FUZZ_OP_COUNTS=1 prints them at exit: a check
// that every face is really exercised).
std::atomic<uint64_t> g_op_counts[32];
const char *const kOpNames[32] = {"malloc",
                                  "malloc",
                                  "malloc",
                                  "calloc",
                                  "aligned",
                                  "realloc",
                                  "switch",
                                  "churn",
                                  "realloc",
                                  "free",
                                  "free",
                                  "free",
                                  "bad_free",
                                  "trim/huge",
                                  "array_new",
                                  "array_new",
                                  "array_new",
                                  "array_push",
                                  "array_push",
                                  "array_push",
                                  "array_grow",
                                  "array_grow",
                                  "array_shrink/clone/free",
                                  "pool",
                                  "pool",
                                  "pool",
                                  "arena",
                                  "arena",
                                  "free",
                                  "free",
                                  "free",
                                  "free"};
bool g_trace;  // FUZZ_TRACE=1: print each operation (to read a crash's input)
void print_op_counts() {
  for (int i = 0; i < 32; i++)
    if (g_op_counts[i])
      fprintf(stderr, "op %2d %-24s %llu\n", i, kOpNames[i],
              (unsigned long long)g_op_counts[i].load());
}

struct Input {
  const uint8_t *p;
  size_t n;
  uint8_t u8() {
    if (n == 0) return 0;
    n--;
    return *p++;
  }
  uint16_t u16() { return uint16_t(u8() | u8() << 8); }
  size_t size() {  // mostly small, sometimes large
    uint8_t sel = u8();
    uint16_t v = u16();
    switch (sel % 8) {
      case 0:
      case 1:
      case 2:
        return v % 257;
      case 3:
      case 4:
        return v % 4097;
      case 5:
        return v % 65537;
      case 6:
        return 65536 + size_t(v) * 8;
      default:
        return (size_t(v % 64) << 16) | v;
    }
  }
};

struct PoolSlot {
  ray_pool *pool = nullptr;
  size_t obj_size = 0, align = 1;
  int arena = -1;
};
struct ArenaSlot {
  ray_arena *arena = nullptr;
  size_t limit = 0;
};

class Session {
 public:
  explicit Session(Input in) : in_(in) {}

  void run() {
    int cur = 0;
    while (in_.n > 0) {
      int reports_before = g_reports.load();
      expected_reports_ = 0;
      uint8_t op = in_.u8();
      if (op % 32 == 6) {  // switch thread
        g_op_counts[6]++;
        cur = in_.u8() % kWorkers;
        continue;
      }
      if (op % 32 == 7) {  // thread churn: the worker's thread exits with live blocks
        g_op_counts[7]++;
        g_workers[in_.u8() % kWorkers]->restart();
        continue;
      }
      if (g_trace)
        fprintf(stderr, "ray_fuzz: thread %d op %d %s\n", cur, op % 32, kOpNames[op % 32]);
      g_workers[cur]->run([&] { step(op % 32); });
      g_op_counts[op % 32]++;
      FUZZ_CHECK(g_reports.load() - reports_before == expected_reports_, nullptr,
                 size_t(g_reports.load() - reports_before));
      check_all(objs_);
    }
    g_workers[cur]->run([&] { release_everything(); });
  }

 private:
  // ---- model bookkeeping ----
  size_t used() const {
    size_t u = 0;
    for (const Obj &o : objs_) u += o.extent;
    return u;
  }
  bool room_for(size_t bytes) const {
    return objs_.size() < kMaxObjects && used() + bytes <= kBudget;
  }
  Obj *pick(Kind k) {
    std::vector<Obj *> of;
    for (Obj &o : objs_)
      if (o.kind == k) of.push_back(&o);
    if (of.empty()) return nullptr;
    return of[in_.u8() % of.size()];
  }
  Obj *pick_block() {  // malloc-family or arena block
    uint8_t which = in_.u8();
    std::vector<Obj *> of;
    for (Obj &o : objs_)
      if (o.kind == Kind::Block || o.kind == Kind::ArenaBlock) of.push_back(&o);
    return of.empty() ? nullptr : of[which % of.size()];
  }
  void forget(const Obj *o) { objs_.erase(objs_.begin() + (o - objs_.data())); }
  void forget_if(bool (*pred)(const Obj &, int), int arg) {
    objs_.erase(
        std::remove_if(objs_.begin(), objs_.end(), [&](const Obj &o) { return pred(o, arg); }),
        objs_.end());
  }

  void add_block(Kind kind, void *p, size_t req, size_t align, int arena, bool zeroed) {
    size_t usable = ray_usable_size(p);
    Obj o{kind, p, next_id_++, usable, usable, align, usable, 0, 0, 0, 0, 0, arena, -1};
    FUZZ_CHECK(usable >= req, &o, req);
    if (zeroed) {
      size_t nz = nonzero(p, 0, req);
      FUZZ_CHECK(nz == SIZE_MAX, &o, nz);
    }
    fill(p, 0, usable, o.id);
    objs_.push_back(o);
  }

  // ---- the malloc family ----
  void op_malloc() {
    size_t n = in_.size();
    if (!room_for(n + 4096)) return;
    void *p = ray_malloc(n);
    FUZZ_CHECK(p != nullptr, nullptr, n);
    add_block(Kind::Block, p, n, 16, -1, false);
  }

  void op_calloc() {
    size_t count = 1 + in_.u8() % 16, n = in_.size();
    if (in_.u8() == 0xFF) {  // overflow
      errno = 0;
      FUZZ_CHECK(ray_calloc(SIZE_MAX / 2, 3) == nullptr && errno == ENOMEM, nullptr, 0);
      return;
    }
    size_t each = n / count;
    if (!room_for(count * each + 4096)) return;
    void *p = ray_calloc(count, each);
    FUZZ_CHECK(p != nullptr, nullptr, count * each);
    add_block(Kind::Block, p, count * each, 16, -1, true);
  }

  void op_aligned() {
    uint8_t form = in_.u8() % 6;
    size_t align = size_t(1) << (in_.u8() % 22);  // up to 2 MiB
    size_t n = in_.size();
    if (!room_for(n + align + 4096)) return;
    void *p = nullptr;
    switch (form) {
      case 0:
        p = ray_memalign(align, n);
        break;
      case 1: {
        int r = ray_posix_memalign(&p, align, n);
        if (align < sizeof(void *)) {
          FUZZ_CHECK(r == EINVAL, nullptr, align);
          return;
        }
        FUZZ_CHECK(r == 0, nullptr, size_t(r));
        break;
      }
      case 2:
        p = ray_aligned_alloc(align, n);
        break;
      case 3:
        p = ray_valloc(n), align = 4096;
        break;
      case 4:
        p = ray_pvalloc(n), align = 4096;
        break;
      default: {  // a bad alignment: EINVAL, nothing allocated
        size_t bad = align * 3;
        errno = 0;
        FUZZ_CHECK(ray_aligned_alloc(bad, n) == nullptr && errno == EINVAL, nullptr, bad);
        FUZZ_CHECK(ray_posix_memalign(&p, bad, n) == EINVAL, nullptr, bad);
        return;
      }
    }
    FUZZ_CHECK(p != nullptr, nullptr, n);
    add_block(Kind::Block, p, form == 4 ? (n + 4095) / 4096 * 4096 : n, align < 16 ? 16 : align, -1,
              false);
  }

  void op_realloc() {
    Obj *o = pick(Kind::Block);
    size_t n = in_.size();
    if (!o || !room_for(n + 4096)) return;
    if (in_.u8() == 0xFF) {  // impossible size: NULL + ENOMEM, the block intact
      errno = 0;
      FUZZ_CHECK(ray_realloc(o->p, SIZE_MAX / 2) == nullptr && errno == ENOMEM, o, 0);
      FUZZ_CHECK(ray_reallocarray(o->p, SIZE_MAX / 2, 4) == nullptr && errno == ENOMEM, o, 0);
      return;
    }
    void *q = ray_realloc(o->p, n);
    if (n == 0) {  // glibc semantics: frees, returns NULL
      FUZZ_CHECK(q == nullptr, o, 0);
      forget(o);
      return;
    }
    FUZZ_CHECK(q != nullptr, o, n);
    size_t kept = o->usable < n ? o->usable : n;
    size_t bad = mismatch(q, 0, kept, o->id);
    FUZZ_CHECK(bad == SIZE_MAX, o, bad);
    forget(o);
    add_block(Kind::Block, q, n, 16, -1, false);  // realloc promises 16, not the old alignment
  }

  void op_free() {
    Obj *o = pick_block();
    if (!o) return;
    switch (in_.u8() % 3) {
      case 0:
        ray_free(o->p);
        break;
      case 1:
        ray_free_sized(o->p, o->usable);
        break;
      default:
        ray_free_aligned_sized(o->p, o->align, o->usable);
        break;
    }
    forget(o);
  }

  void op_bad_free() {
    int local = 0;
    switch (in_.u8() % 4) {
      case 0:
        ray_free(&local);  // foreign: reported, ignored
        expected_reports_ = 1;
        break;
      case 1:
        ray_free(nullptr);  // nothing, no report
        break;
      case 2: {
        Obj *o = pick(Kind::Block);
        if (o && o->usable >= 64) {
          ray_free(static_cast<char *>(o->p) + 16);  // interior: reported, block untouched
          expected_reports_ = 1;
        }
        break;
      }
      default:
        errno = 0;
        FUZZ_CHECK(ray_realloc(&local, 10) == nullptr && errno == EINVAL, nullptr, 0);
        expected_reports_ = 1;
        break;
    }
  }

  void op_trim_or_huge() {
    if (in_.u8() % 2) {
      ray_malloc_trim(0);
      return;
    }
    errno = 0;
    FUZZ_CHECK(ray_malloc(SIZE_MAX - 4096) == nullptr && errno == ENOMEM, nullptr, 0);
  }

  // ---- arrays ----
  static size_t default_align(size_t es) {
    size_t a = es & (~es + 1);  // largest power of two dividing es
    if (a > 4096) a = 4096;
    return a > 16 ? a : 16;
  }
  static size_t elem_size(uint8_t b) {
    static const size_t kSizes[] = {1, 2, 3, 4, 8, 12, 16, 24, 32, 48, 64, 100, 256, 4096};
    return kSizes[b % (sizeof kSizes / sizeof kSizes[0])];
  }

  void add_array(void *a, size_t es, unsigned hints, size_t align, size_t max_cap, int arena,
                 uint64_t id) {
    Obj o{Kind::Array, a, id, 0, 0, align, 0, es, 0, 0, hints, max_cap, arena, -1};
    o.len = ray_array_len(a);
    o.cap = ray_array_cap(a);
    o.bytes = o.len * es;
    o.extent = o.cap * es;
    objs_.push_back(o);
  }

  // After a call on `o` that may have moved it and changed len/cap. `raised`: cap went up.
  void array_updated(Obj *o, void *a) {
    if (o->max_cap) FUZZ_CHECK(a == o->p, o, uintptr_t(a));  // stable arrays never move
    size_t old_cap = o->cap;
    o->p = a;
    o->len = ray_array_len(a);
    o->cap = ray_array_cap(a);
    FUZZ_CHECK(o->cap >= o->len, o, o->cap);
    if (o->max_cap) FUZZ_CHECK(o->cap <= o->max_cap, o, o->cap);
    o->extent = o->cap * o->es;
    if ((o->hints & RAY_HINT_ZERO) && o->cap > old_cap) {
      size_t nz = nonzero(a, o->len * o->es, o->cap * o->es);
      FUZZ_CHECK(nz == SIZE_MAX, o, nz);
    }
  }

  // A growth call failed: allowed only for a limited arena or a stable array past max_cap.
  void growth_failed(Obj *o, size_t want_cap) {
    bool limited = o->arena >= 0 && arenas_[o->arena].limit != 0;
    bool past_stable = o->max_cap && want_cap != SIZE_MAX && want_cap > o->max_cap;
    FUZZ_CHECK(limited || past_stable, o, want_cap);
    FUZZ_CHECK(errno == ENOMEM, o, size_t(errno));
  }

  void op_array_new() {
    if (!have_arrays()) return;
    size_t es = elem_size(in_.u8());
    size_t cap = in_.size() / es;
    uint8_t h = in_.u8();
    ray_array_opts opts = {};
    opts.hints = h & (RAY_HINT_ZERO | RAY_HINT_GROWS | RAY_HINT_SHORT_LIVED | RAY_HINT_LONG_LIVED);
    if (h & 0x80) opts.align = size_t(1) << (in_.u8() % 13);
    if (h & 0x40) {
      opts.hints |= RAY_HINT_STABLE;
      opts.max_cap = cap + in_.size() / es + 1;
    }
    int arena = -1;
    if ((h & 0x20) && have_arenas()) {
      arena = in_.u8() % kMaxArenas;
      if (!arenas_[arena].arena)
        arena = -1;
      else
        opts.arena = arenas_[arena].arena;
    }
    size_t reserve = (opts.max_cap ? opts.max_cap : cap) * es;
    if (!room_for(reserve + 4096)) return;
    if (in_.u8() == 0xFF) {  // bad arguments: EINVAL
      errno = 0;
      FUZZ_CHECK(ray_array_new(0, cap, &opts) == nullptr && errno == EINVAL, nullptr, 0);
      ray_array_opts bad = opts;
      bad.align = 48;
      FUZZ_CHECK(ray_array_new(es, cap, &bad) == nullptr && errno == EINVAL, nullptr, 0);
      return;
    }
    errno = 0;
    void *a = ray_array_new(es, cap, &opts);
    if (!a) {
      FUZZ_CHECK(arena >= 0 && arenas_[arena].limit && errno == ENOMEM, nullptr, cap * es);
      return;
    }
    size_t align = default_align(es);
    if (opts.align > align) align = opts.align;
    add_array(a, es, opts.hints, align, opts.max_cap, arena, next_id_++);
    Obj &o = objs_.back();
    FUZZ_CHECK(o.len == 0 && o.cap >= cap, &o, o.cap);
    if (opts.hints & RAY_HINT_ZERO) {
      size_t nz = nonzero(a, 0, o.cap * es);
      FUZZ_CHECK(nz == SIZE_MAX, &o, nz);
    }
  }

  void op_array_push_append() {
    Obj *o = have_arrays() ? pick(Kind::Array) : nullptr;
    if (!o) return;
    uint8_t how = in_.u8();
    size_t n = how % 4 == 0 ? 1 : 1 + in_.u8();
    if (!room_for(n * o->es * 2 + 4096)) return;
    size_t len = o->len, es = o->es;
    bool from_self = (how & 0x80) && len >= n;
    size_t src_off = from_self ? (in_.u8() % (len - n + 1)) * es : 0;
    std::vector<uint8_t> buf;
    const void *src;
    if (from_self) {
      src = static_cast<char *>(o->p) + src_off;  // must work even if the array moves
    } else {
      buf.resize(n * es);
      for (size_t i = 0; i < n * es; i++) buf[i] = pattern(o->id, len * es + i);
      src = buf.data();
    }
    errno = 0;
    void *a = n == 1 && !from_self ? ray_array_push(o->p, src) : ray_array_append(o->p, src, n);
    if (!a) {
      growth_failed(o, len + n);
      return;
    }
    array_updated(o, a);
    FUZZ_CHECK(o->len == len + n, o, o->len);
    if (from_self) {  // the copies hold the source's bytes; then re-pattern them in place
      size_t bad = SIZE_MAX;
      const uint8_t *b = static_cast<const uint8_t *>(a);
      for (size_t i = 0; i < n * es && bad == SIZE_MAX; i++)
        if (b[len * es + i] != pattern(o->id, src_off + i)) bad = i;
      FUZZ_CHECK(bad == SIZE_MAX, o, bad);
      fill(a, len * es, (len + n) * es, o->id);
    }
    o->bytes = o->len * es;
  }

  void op_array_reserve_resize() {
    Obj *o = have_arrays() ? pick(Kind::Array) : nullptr;
    if (!o) return;
    uint8_t how = in_.u8() % 4;
    size_t want = in_.size() / o->es;
    if (!room_for(want * o->es * 2 + 4096)) return;
    size_t len = o->len, es = o->es;
    errno = 0;
    if (how == 0) {  // reserve
      void *a = ray_array_reserve(o->p, want);
      if (!a) return growth_failed(o, want);
      array_updated(o, a);
      FUZZ_CHECK(o->cap >= want && o->len == len, o, o->cap);
    } else if (how == 1) {  // resize: new elements read as zero
      void *a = ray_array_resize(o->p, want);
      if (!a) return growth_failed(o, want);
      array_updated(o, a);
      FUZZ_CHECK(o->len == want, o, o->len);
      if (want > len) {
        size_t nz = nonzero(a, len * es, want * es);
        FUZZ_CHECK(nz == SIZE_MAX, o, nz);
        fill(a, len * es, want * es, o->id);
      }
    } else if (how == 2) {  // set_len: within cap, else EINVAL and nothing changes
      int r = ray_array_set_len(o->p, want);
      if (want > o->cap) {
        FUZZ_CHECK(r == EINVAL && ray_array_len(o->p) == len, o, size_t(r));
      } else {
        FUZZ_CHECK(r == 0, o, size_t(r));
        o->len = want;
        if (want > len) fill(o->p, len * es, want * es, o->id);
      }
    } else {  // grow in place: never moves
      void *before = o->p;
      int r = ray_array_grow_in_place(o->p, want);
      if (r == 0) {
        array_updated(o, before);
        FUZZ_CHECK(o->cap >= want, o, o->cap);
      } else {
        FUZZ_CHECK(r == ENOMEM && ray_array_cap(o->p) == o->cap, o, size_t(r));
      }
    }
    o->bytes = o->len * es;
  }

  void op_array_shrink_clone_free() {
    Obj *o = have_arrays() ? pick(Kind::Array) : nullptr;
    if (!o) return;
    uint8_t how = in_.u8() % 4;
    size_t len = o->len;
    if (how == 0) {
      void *a = ray_array_shrink_to_fit(o->p);
      FUZZ_CHECK(a != nullptr, o, 0);
      size_t cap = o->cap;
      array_updated(o, a);
      FUZZ_CHECK(o->len == len && o->cap <= cap, o, o->cap);
    } else if (how == 1) {
      if (!room_for(o->extent + 4096)) return;
      errno = 0;
      void *c = ray_array_clone(o->p);
      if (!c) return growth_failed(o, SIZE_MAX);
      Obj copy = *o;
      add_array(c, copy.es, copy.hints, copy.align, copy.max_cap, copy.arena, copy.id);
      Obj &k = objs_.back();
      FUZZ_CHECK(k.len == len && k.cap >= len, &k, k.cap);
      k.bytes = len * k.es;
    } else {
      if (how == 2)
        ray_array_free(o->p);
      else
        ray_free(o->p);  // free() accepts arrays
      forget(o);
    }
  }

  // ---- pools ----
  void op_pool() {
    if (!have_pools()) return;
    uint8_t how = in_.u8() % 5;
    int slot = in_.u8() % kMaxPools;
    PoolSlot &ps = pools_[slot];
    if (how == 0 || !ps.pool) {  // new (replacing whatever was there)
      if (ps.pool) destroy_pool(slot);
      size_t size = 1 + in_.u16() % 1024;
      size_t align = in_.u8() % 2 ? size_t(1) << (in_.u8() % 9) : 0;
      int arena = -1;
      ray_arena *ar = nullptr;
      if (have_arenas() && in_.u8() % 2) {
        arena = in_.u8() % kMaxArenas;
        if (arenas_[arena].arena)
          ar = arenas_[arena].arena;
        else
          arena = -1;
      }
      errno = 0;
      ps.pool = ray_pool_new(size, align, ar);
      if (!ps.pool) {  // its handle lives in the arena: a full limited arena refuses it
        FUZZ_CHECK(arena >= 0 && arenas_[arena].limit && errno == ENOMEM, nullptr, size);
        ps = PoolSlot{};
        return;
      }
      ps.obj_size = size;
      ps.align = align ? align : 1;
      ps.arena = arena;
    } else if (how == 1 || how == 2) {  // alloc a few
      int k = 1 + in_.u8() % 16;
      for (int i = 0; i < k && room_for(ps.obj_size); i++) {
        errno = 0;
        void *p = ray_pool_alloc(ps.pool);
        if (!p) {
          FUZZ_CHECK(ps.arena >= 0 && arenas_[ps.arena].limit && errno == ENOMEM, nullptr, 0);
          break;
        }
        Obj o{Kind::PoolObj, p,   next_id_++, ps.obj_size, ps.obj_size, ps.align, 0, 0, 0, 0, 0, 0,
              ps.arena,      slot};
        fill(p, 0, ps.obj_size, o.id);
        objs_.push_back(o);
      }
    } else if (how == 3) {  // free one (ray_pool_free or free())
      std::vector<Obj *> of;
      for (Obj &o : objs_)
        if (o.kind == Kind::PoolObj && o.pool == slot) of.push_back(&o);
      if (of.empty()) {
        ray_pool_free(ps.pool, nullptr);  // does nothing
        return;
      }
      Obj *o = of[in_.u8() % of.size()];
      if (in_.u8() % 2)
        ray_pool_free(ps.pool, o->p);
      else
        ray_free(o->p);
      forget(o);
    } else {  // visit: exactly the live objects, each once
      std::vector<void *> seen;
      ray_pool_visit(
          ps.pool,
          [](void *obj, void *ctx) { static_cast<std::vector<void *> *>(ctx)->push_back(obj); },
          &seen);
      std::vector<void *> mine;
      for (Obj &o : objs_)
        if (o.kind == Kind::PoolObj && o.pool == slot) mine.push_back(o.p);
      std::sort(seen.begin(), seen.end());
      std::sort(mine.begin(), mine.end());
      FUZZ_CHECK(seen == mine, nullptr, seen.size());
    }
  }

  void destroy_pool(int slot) {
    ray_pool_destroy(pools_[slot].pool);
    pools_[slot] = PoolSlot{};
    forget_if([](const Obj &o, int s) { return o.kind == Kind::PoolObj && o.pool == s; }, slot);
  }

  // ---- arenas ----
  void op_arena() {
    if (!have_arenas()) return;
    uint8_t how = in_.u8() % 6;
    int slot = in_.u8() % kMaxArenas;
    ArenaSlot &as = arenas_[slot];
    if (!as.arena || how == 0) {
      if (as.arena) drop_arena(slot, true);
      static const size_t kLimits[] = {0, size_t(256) << 10, size_t(4) << 20, size_t(32) << 20};
      ray_arena_opts o = {};
      o.limit = kLimits[in_.u8() % 4];
      o.flags = in_.u8() % 2 ? RAY_ARENA_SINGLE_THREAD : 0;
      as.arena = ray_arena_new(&o);
      FUZZ_CHECK(as.arena != nullptr, nullptr, o.limit);
      as.limit = o.limit;
    } else if (how <= 3) {  // allocate
      size_t n = in_.size();
      if (!room_for(n + 4096)) return;
      errno = 0;
      void *p = ray_arena_malloc(as.arena, n);
      if (!p) {
        FUZZ_CHECK(as.limit && errno == ENOMEM, nullptr, n);
        return;
      }
      add_block(Kind::ArenaBlock, p, n, 16, slot, false);
    } else {
      drop_arena(slot, how == 5);
    }
  }

  // Reset (or destroy) invalidates every block, array and pool made in the arena.
  void drop_arena(int slot, bool destroy) {
    for (int i = 0; i < kMaxPools; i++)
      if (pools_[i].pool && pools_[i].arena == slot) {
        pools_[i] = PoolSlot{};  // the handle dies with the arena's memory
        forget_if([](const Obj &o, int s) { return o.kind == Kind::PoolObj && o.pool == s; }, i);
      }
    forget_if([](const Obj &o, int s) { return o.arena == s; }, slot);
    if (destroy) {
      ray_arena_destroy(arenas_[slot].arena);
      arenas_[slot] = ArenaSlot{};
    } else {
      ray_arena_reset(arenas_[slot].arena);
    }
  }

  void step(uint8_t op) {
    switch (op) {
      case 0:
      case 1:
      case 2:
        op_malloc();
        break;
      case 3:
        op_calloc();
        break;
      case 4:
        op_aligned();
        break;
      case 5:
      case 8:
        op_realloc();
        break;
      case 9:
      case 10:
      case 11:
        op_free();
        break;
      case 12:
        op_bad_free();
        break;
      case 13:
        op_trim_or_huge();
        break;
      case 14:
      case 15:
      case 16:
        op_array_new();
        break;
      case 17:
      case 18:
      case 19:
        op_array_push_append();
        break;
      case 20:
      case 21:
        op_array_reserve_resize();
        break;
      case 22:
        op_array_shrink_clone_free();
        break;
      case 23:
      case 24:
      case 25:
        op_pool();
        break;
      case 26:
      case 27:
        op_arena();
        break;
      default:
        op_free();
        break;
    }
  }

  void release_everything() {
    for (int i = 0; i < kMaxPools; i++)
      if (pools_[i].pool && pools_[i].arena < 0) destroy_pool(i);
    for (int i = 0; i < kMaxArenas; i++)
      if (arenas_[i].arena) drop_arena(i, true);
    for (Obj &o : objs_) {
      if (o.kind == Kind::Array)
        ray_array_free(o.p);
      else
        ray_free(o.p);
    }
    objs_.clear();
  }

  Input in_;
  std::vector<Obj> objs_;
  PoolSlot pools_[kMaxPools];
  ArenaSlot arenas_[kMaxArenas];
  uint64_t next_id_ = 1;
  int expected_reports_ = 0;
};

}  // namespace
}  // namespace fuzz

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  ray_set_error_handler(fuzz::count_report, nullptr);
  for (auto &w : fuzz::g_workers) w = new fuzz::Worker();
  if (getenv("FUZZ_OP_COUNTS")) atexit(fuzz::print_op_counts);
  fuzz::g_trace = getenv("FUZZ_TRACE") != nullptr;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::Session s(fuzz::Input{data, size});
  s.run();
  return 0;
}
