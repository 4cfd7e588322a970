#include "support/options.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/os.hpp"

namespace ray {

Options g_options;

bool parse_size(const char *s, size_t *out) {
  if (!s || !*s) return false;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return false;
  unsigned shift = 0;
  switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
  }
  if (*end == 'i' && shift) end++;
  if (*end == 'B' || *end == 'b') end++;
  if (*end != '\0') return false;
  if (shift && v > (~0ull >> shift)) return false;
  *out = size_t(v << shift);
  return true;
}

static void warn(const char *name, const char *value, const char *why) {
  char buf[320];
  snprintf(buf, sizeof buf, "rayalloc: warning: %s=%.64s %s; using the default\n", name, value,
           why);
  os::write_stderr(buf);
}

static bool parse_uint(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

void options_init() {
  Options &o = g_options;
  if (const char *v = getenv("RAYALLOC_RESERVE")) {
    size_t n;
    if (!parse_size(v, &n)) warn("RAYALLOC_RESERVE", v, "is not a size like 64G or 1T");
    else if (n < (size_t(64) << 20)) warn("RAYALLOC_RESERVE", v, "is below 64M");
    else o.reserve = n;
  }
  if (const char *v = getenv("RAYALLOC_DECOMMIT_DELAY_MS")) {
    uint64_t n;
    if (!parse_uint(v, &n) || n > 3600000) warn("RAYALLOC_DECOMMIT_DELAY_MS", v, "is not 0..3600000");
    else o.decommit_delay_ms = n;
  }
  if (const char *v = getenv("RAYALLOC_CACHE")) {
    size_t n;
    if (!parse_size(v, &n)) warn("RAYALLOC_CACHE", v, "is not a size like 8M");
    else o.cache_bytes = n;
  }
  if (const char *v = getenv("RAYALLOC_HUGE_PAGES")) {
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) o.huge_pages = v[0] - '0';
    else warn("RAYALLOC_HUGE_PAGES", v, "is not 0 or 1");
  }
  if (const char *v = getenv("RAYALLOC_STATS")) {
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) {
      o.stats = v[0] - '0';
    } else if (strncmp(v, "json:", 5) == 0 && v[5] != '\0' && strlen(v + 5) < sizeof o.stats_path) {
      o.stats = 2;
      strcpy(o.stats_path, v + 5);
    } else {
      warn("RAYALLOC_STATS", v, "is not 0, 1 or json:PATH");
    }
  }
  if (const char *v = getenv("RAYALLOC_VERBOSE")) {
    if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0) o.verbose = v[0] - '0';
    else warn("RAYALLOC_VERBOSE", v, "is not 0 or 1");
  }
}

}  // namespace ray
