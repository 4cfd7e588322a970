// The RAYALLOC_* environment options: parsing, validation and the VERBOSE print. The design
// note is in options.hpp; the user-facing table is docs/OPTIONS.md.
#include "support/options.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/os.hpp"
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>  // header-only: RUNNING_ON_VALGRIND
#endif

namespace ray {

Options g_options;

const char *variant_name() {
#if defined(RAY_DEBUG)
  return "debug";
#elif defined(RAY_STATS)
  return "stats";
#else
  return "release";
#endif
}

bool parse_size(const char *s, size_t *out) {
  if (!s || *s < '0' || *s > '9') return false;  // no sign, no blank: strtoull accepts both
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  static const char kUnits[] = "kmgt";  // K, M, G, T: powers of 1024, either case
  if (const char *u = *end ? strchr(kUnits, *end | 0x20) : nullptr) {
    shift = 10 * unsigned(u - kUnits + 1);
    end++;
  }
  if (*end == 'i' && shift) end++;
  if (*end == 'B' || *end == 'b') end++;
  if (*end != '\0') return false;
  if (v == ~0ull || (shift && v > (~0ull >> shift))) return false;  // ~0: strtoull overflowed
  *out = size_t(v << shift);
  return true;
}

static void warn(const char *name, const char *value, const char *why) {
  char buf[400];
  snprintf(buf, sizeof buf, "rayalloc: warning: %s=\"%.64s\" %s; using the default\n", name, value,
           why);
  os::write_stderr(buf);
}

static bool parse_uint(const char *s, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return false;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || v == ~0ull) return false;
  *out = v;
  return true;
}

// A 0|1 switch. True if `v` was valid (then *out is set).
static bool parse_switch(const char *name, const char *v, int *out) {
  if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
    *out = v[0] - '0';
    return true;
  }
  warn(name, v, "is not 0 or 1");
  return false;
}

// A size within [lo, hi], with `what` naming the expected form in the warning.
static void parse_size_option(const char *name, size_t lo, size_t hi, const char *what,
                              size_t *out) {
  const char *v = getenv(name);
  if (!v) return;
  size_t n;
  char why[96];
  if (!parse_size(v, &n)) {
    snprintf(why, sizeof why, "is not %s", what);
    warn(name, v, why);
  } else if (n < lo || n > hi) {
    char a[32], b[32];
    format_bytes(lo, a, sizeof a);
    format_bytes(hi, b, sizeof b);
    snprintf(why, sizeof why, "is outside %s..%s", a, b);
    warn(name, v, why);
  } else {
    *out = n;
  }
}

static void parse_stats(Options &o) {
  const char *v = getenv("RAYALLOC_STATS");
  if (!v) return;
  if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
    o.stats = v[0] - '0';
  } else if (strncmp(v, "json:", 5) == 0 && v[5] != '\0' && strlen(v + 5) < sizeof o.stats_path) {
    o.stats = kStatsJson;
    strcpy(o.stats_path, v + 5);
  } else {
    warn("RAYALLOC_STATS", v, "is not 0, 1 or json:PATH (PATH under 256 characters)");
  }
}

// Under valgrind the default reservation is smaller: memcheck tracks every mapped byte, and its
// leak check scans them (tens of GiB take minutes). RAYALLOC_RESERVE still decides.
constexpr size_t kValgrindReserve = size_t(4) << 30;

static bool running_on_valgrind() {
#ifdef RUNNING_ON_VALGRIND
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

void options_init() {
  Options &o = g_options;
  o = Options{};
  if (running_on_valgrind()) o.reserve = kValgrindReserve;
  parse_size_option("RAYALLOC_RESERVE", size_t(64) << 20, size_t(64) << 40, "a size like 64G or 1T",
                    &o.reserve);
  if (const char *v = getenv("RAYALLOC_DECOMMIT_DELAY_MS")) {
    uint64_t n;
    if (!parse_uint(v, &n) || n > 3600000)
      warn("RAYALLOC_DECOMMIT_DELAY_MS", v, "is not 0..3600000");
    else
      o.decommit_delay_ms = n;
  }
  parse_size_option("RAYALLOC_CACHE", 0, size_t(1) << 40, "a size like 8M", &o.cache_bytes);
  if (const char *v = getenv("RAYALLOC_HUGE_PAGES"))
    parse_switch("RAYALLOC_HUGE_PAGES", v, &o.huge_pages);
  if (const char *v = getenv("RAYALLOC_COMPACT")) parse_switch("RAYALLOC_COMPACT", v, &o.compact);
  parse_stats(o);
  if (const char *v = getenv("RAYALLOC_VERBOSE")) parse_switch("RAYALLOC_VERBOSE", v, &o.verbose);
  parse_size_option("RAYALLOC_DEBUG_QUARANTINE", 0, size_t(1) << 30, "a size like 16M",
                    &o.debug_quarantine);
  if (const char *v = getenv("RAYALLOC_DEBUG_LEAKS"))
    parse_switch("RAYALLOC_DEBUG_LEAKS", v, &o.debug_leaks);
}

void format_bytes(size_t n, char *buf, size_t cap) {
  static const char *const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  unsigned u = 0;
  double v = double(n);
  while (v >= 1024 && u + 1 < sizeof kUnits / sizeof *kUnits) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, cap, "%zu B", n);
  else
    snprintf(buf, cap, "%.1f %s", v, kUnits[u]);
}

void options_print(size_t reserved) {
  const Options &o = g_options;
  char res[32], want[32], cache[32], quar[32], buf[1024];
  format_bytes(reserved, res, sizeof res);
  format_bytes(o.reserve, want, sizeof want);
  format_bytes(o.cache_bytes, cache, sizeof cache);
  format_bytes(o.debug_quarantine, quar, sizeof quar);
  snprintf(buf, sizeof buf,
           "rayalloc: %s variant, configuration:\n"
           "  RAYALLOC_RESERVE           %s (reserved: %s)\n"
           "  RAYALLOC_DECOMMIT_DELAY_MS %llu\n"
           "  RAYALLOC_CACHE             %s\n"
           "  RAYALLOC_HUGE_PAGES        %d\n"
           "  RAYALLOC_COMPACT           %d\n"
           "  RAYALLOC_STATS             %s%s\n"
           "  RAYALLOC_VERBOSE           %d\n"
           "  RAYALLOC_DEBUG_QUARANTINE  %s%s\n"
           "  RAYALLOC_DEBUG_LEAKS       %d%s\n",
           variant_name(), o.reserve ? want : "default", res,
           (unsigned long long)o.decommit_delay_ms, cache, o.huge_pages, o.compact,
           o.stats == kStatsJson ? "json:"
           : o.stats             ? "1"
                                 : "0",
           o.stats == kStatsJson ? o.stats_path : "", o.verbose, quar,
#ifdef RAY_DEBUG
           "", o.debug_leaks, ""
#else
           " (debug variant only)", o.debug_leaks, " (debug variant only)"
#endif
  );
  os::write_stderr(buf);
}

}  // namespace ray
