// face_bench_pool_rss: memory reuse of a pool. 1e7 objects of 40 bytes (a std::map<int,int>
// node); free 90% in random order and allocate 9e6 again: freed slots must be reused before
// new pages (bar: peak RSS <= 1.05x the first peak). Then free all: RSS must come back to
// within 16 MiB of where it started, within 1 s of the last free (the free loop itself is
// timed apart). FACE_BENCH_SCALE scales the count.
#include "../face_common.hpp"
#include "rayalloc.hpp"

int main() {
  size_t n = 10000000;
  if (const char *s = getenv("FACE_BENCH_SCALE")) n = size_t(double(n) * atof(s));
  constexpr size_t kObj = 40;
  std::vector<void *> objs(n, nullptr);  // touched now, so it is part of the baseline
  face::Rng rng(7);
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; i++) order[i] = uint32_t(i);
  for (size_t i = n; i > 1; i--) std::swap(order[i - 1], order[rng.next() % i]);
  ray_pool *p = ray_pool_new(kObj, 8, nullptr);
  size_t base = face::rss();

  for (size_t i = 0; i < n; i++) memset(objs[i] = ray_pool_alloc(p), 1, kObj);
  size_t peak1 = face::rss() - base;
  size_t refill = n - n / 10;
  for (size_t i = 0; i < refill; i++) ray_pool_free(p, objs[order[i]]);
  size_t after_free = face::rss() - base;
  for (size_t i = 0; i < refill; i++) memset(objs[order[i]] = ray_pool_alloc(p), 2, kObj);
  size_t peak2 = face::rss() - base;
  if (after_free > peak2) peak2 = after_free;

  double t_start = face::now();
  for (size_t i = 0; i < n; i++) ray_pool_free(p, objs[order[i]]);
  double t0 = face::now(), t_free = t0 - t_start, t_back = -1;
  size_t end = 0;
  while (face::now() - t0 < 2.0) {
    end = face::rss();
    if (end <= base + (size_t(16) << 20)) {
      t_back = face::now() - t0;
      break;
    }
    usleep(5000);
  }
  ray_pool_destroy(p);

  double mib = 1 << 20;
  printf("pool of %zu objects of %zu bytes (default arena)\n", n, kObj);
  printf("%-44s %10.1f MiB\n", "first peak RSS (above start)", peak1 / mib);
  printf("%-44s %10.1f MiB\n", "after freeing 90% in random order", after_free / mib);
  printf("%-44s %10.1f MiB\n", "second peak, after allocating 90% again", peak2 / mib);
  printf("%-44s %10.3fx   bar <= 1.05x: %s\n", "second peak / first peak", double(peak2) / peak1,
         peak2 <= peak1 + peak1 / 20 ? "met" : "MISSED");
  printf("%-44s %10.3f s\n", "free all (random order)", t_free);
  printf("%-44s %10.1f MiB\n", "RSS above start after freeing all", (double(end) - base) / mib);
  if (t_back >= 0)
    printf("%-44s %10.3f s   bar <= 1 s: %s\n", "RSS within 16 MiB of start, after the last free",
           t_back, t_back <= 1.0 ? "met" : "MISSED");
  else
    printf("RSS back within 16 MiB of start: not within 2 s   bar <= 1 s: MISSED\n");
  return 0;
}
