// options: every RAYALLOC_* environment variable, read once at start-up (engine_init, before
// the reservation exists) with getenv only: no allocation, so it is safe inside the first
// malloc of the process.
//
// Invariants: each option has one documented default (docs/OPTIONS.md); a value that does not
// parse, or is out of range, gets exactly one warning on stderr naming the variable, the value
// and what was expected, and the default is kept. Nothing here can fail or abort.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ray {

enum StatsMode : int { kStatsOff = 0, kStatsTable = 1, kStatsJson = 2 };

struct Options {
  size_t reserve = 0;                    // RAYALLOC_RESERVE: address space (0: default 256G)
  uint64_t decommit_delay_ms = 100;      // RAYALLOC_DECOMMIT_DELAY_MS
  size_t cache_bytes = size_t(8) << 20;  // RAYALLOC_CACHE: free memory kept committed
  int huge_pages = 0;                    // RAYALLOC_HUGE_PAGES=0|1: THP for large spans
  int compact = 1;                       // RAYALLOC_COMPACT=0|1: sparse slabs give pages back
  int stats = kStatsOff;                 // RAYALLOC_STATS=0 | 1 | json:PATH
  char stats_path[256] = {0};            // json:PATH ("%p" is replaced by the process id)
  int verbose = 0;                       // RAYALLOC_VERBOSE=0|1
  // The debug variant only (parsed, and printed by VERBOSE, in every variant):
  size_t debug_quarantine = size_t(16) << 20;  // RAYALLOC_DEBUG_QUARANTINE: freed bytes held
  int debug_leaks = 1;                         // RAYALLOC_DEBUG_LEAKS=0|1: leak report at exit
};

extern Options g_options;
void options_init();
// RAYALLOC_VERBOSE=1: the configuration in effect, on stderr (`reserved`: what the OS granted).
void options_print(size_t reserved);
// Parses "64G", "1T", "512M", "4096", "16KiB" (bytes). False on garbage, a sign or overflow.
bool parse_size(const char *s, size_t *out);
// The variant this library was built as: "release", "stats" or "debug".
const char *variant_name();
// "12.3 MiB", "512 B": bytes for people (VERBOSE, the statistics table, warnings).
void format_bytes(size_t n, char *buf, size_t cap);

}  // namespace ray
