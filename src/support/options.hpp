// options: every RAYALLOC_* environment variable, read once at start-up (getenv only: no
// allocation). A bad value gets one warning on stderr and the default.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ray {

struct Options {
  size_t reserve = 0;              // RAYALLOC_RESERVE: address space (0: default 256G)
  uint64_t decommit_delay_ms = 100;  // RAYALLOC_DECOMMIT_DELAY_MS
  size_t cache_bytes = size_t(8) << 20;  // RAYALLOC_CACHE: free memory kept committed
  int huge_pages = 0;              // RAYALLOC_HUGE_PAGES=0|1: THP for large spans
  int stats = 0;                   // RAYALLOC_STATS=1 | json:PATH
  char stats_path[256] = {0};
  int verbose = 0;                 // RAYALLOC_VERBOSE=1
};

extern Options g_options;
void options_init();
// Parses "64G", "1T", "512M", "4096" (bytes). False on garbage or overflow.
bool parse_size(const char *s, size_t *out);

}  // namespace ray
