// face_bench_pool_single: the same workload in the default arena (NULL), in a thread-safe user
// arena, and in a RAY_ARENA_SINGLE_THREAD arena, which takes no lock and no atomic: tree nodes
// from a pool created and freed in random order, then all freed; and the same with half the
// operations small ray_arena_malloc blocks. Each run in a fresh child process; the single-thread
// arena must be faster than the default one, and the program says by how much.
#include <string>

#include "../face_common.hpp"
#include "pool_bench.hpp"
#include "rayalloc.hpp"

namespace {

size_t g_ops = 20000000;

// `strings`: every other operation is a ray_arena_malloc string instead of a pool node.
double run(ray_arena *a, size_t live, bool strings) {
  ray_pool *nodes = ray_pool_new(48, 0, a);
  const size_t kLive = live;
  std::vector<void *> live_nodes, live_strs;
  live_nodes.reserve(kLive);
  live_strs.reserve(kLive);
  face::Rng rng(5);
  double t0 = poolbench::cpu_now();
  for (size_t i = 0; i < g_ops; i++) {
    uint64_t r = rng.next();
    bool node = !strings || (r & 1);
    std::vector<void *> &v = node ? live_nodes : live_strs;
    if (v.size() < kLive && (v.empty() || (r >> 1) % 4 != 0)) {
      void *p = node ? ray_pool_alloc(nodes) : ray_arena_malloc(a, 16 + (r >> 8) % 240);
      *static_cast<uint64_t *>(p) = r;
      v.push_back(p);
    } else {
      size_t k = (r >> 16) % v.size();
      if (node)
        ray_pool_free(nodes, v[k]);
      else
        ray_free(v[k]);
      v[k] = v.back();
      v.pop_back();
    }
  }
  for (void *p : live_nodes) ray_pool_free(nodes, p);
  for (void *p : live_strs) ray_free(p);
  double t = poolbench::cpu_now() - t0;
  ray_pool_destroy(nodes);
  return t;
}

}  // namespace

int main(int argc, char **argv) {
  if (const char *s = getenv("FACE_BENCH_SCALE")) g_ops = size_t(double(g_ops) * atof(s));
  // A child: "<arena>/<workload>".
  if (argc > 1 && strchr(argv[1], '/')) {
    std::string kind(argv[1], strchr(argv[1], '/'));
    bool strings = strcmp(strchr(argv[1], '/') + 1, "mixed") == 0;
    ray_arena_opts o{};
    o.flags = kind == "single" ? RAY_ARENA_SINGLE_THREAD : 0;
    ray_arena *a = kind == "default" ? nullptr : ray_arena_new(&o);
    printf("%.4f\n", run(a, 10000, strings));
    if (a) ray_arena_destroy(a);
    return 0;
  }
  // The pools' workload (tree nodes) carries the bar; the mixed one, where half the operations
  // are small ray_arena_malloc blocks freed with free(), is shown beside it.
  for (const char *work : {"nodes", "mixed"}) {
    std::string c0 = std::string("single/") + work, c1 = std::string("default/") + work,
                c2 = std::string("shared/") + work;
    std::vector<face::Contender> cs = {{"single-thread arena", c0.c_str(), nullptr, {}},
                                       {"default arena (NULL)", c1.c_str(), nullptr, {}},
                                       {"thread-safe user arena", c2.c_str(), nullptr, {}}};
    face::measure(argv[0], cs, 3);
    double single = cs[0].median();
    if (strcmp(work, "nodes") == 0)
      printf("%zu random allocs/frees of 48-byte pool nodes, 10k live (CPU s, median of 3)\n",
             g_ops);
    else
      printf(
          "%zu random allocs/frees, half pool nodes and half ray_arena_malloc blocks of\n"
          "16-255 bytes freed with free(), 10k live of each (CPU s, median of 3)\n",
          g_ops);
    printf("%-26s %10s %18s\n", "arena", "seconds", "single is faster");
    for (auto &c : cs) printf("%-26s %10.3f %17.2fx\n", c.label, c.median(), c.median() / single);
    if (strcmp(work, "nodes") == 0)
      printf("bar: the single-thread arena is faster than the default arena: %s (%.2fx)\n",
             single > 0 && single < cs[1].median() ? "met" : "MISSED", cs[1].median() / single);
    printf("\n");
  }
  return 0;
}
