// A small program for running under valgrind and gdb: the malloc family, operator new/delete,
// aligned allocation and a few threads. Exits 0 when every check passes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

static int run_checks(int seed) {
  std::map<int, std::string> m;
  for (int i = 0; i < 2000; i++) m[(i * 7919 + seed) % 5003] = std::string(size_t(i % 300), 'a');
  std::vector<std::unique_ptr<int[]>> arrays;
  for (int i = 0; i < 200; i++) arrays.emplace_back(new int[size_t(i) * 10 + 1]());
  char *p = static_cast<char *>(malloc(10));
  for (size_t n = 10; n < 3000000; n = n * 2) {
    char *q = static_cast<char *>(realloc(p, n));
    if (!q) return 1;
    memset(q + n / 2, 1, n - n / 2);
    p = q;
  }
  free(p);
  void *a = aligned_alloc(4096, 8192);
  if (!a || reinterpret_cast<uintptr_t>(a) % 4096) return 2;
  memset(a, 0, 8192);
  free(a);
  int *c = static_cast<int *>(calloc(1000, sizeof(int)));
  for (int i = 0; i < 1000; i++)
    if (c[i] != 0) return 3;
  free(c);
  return m.size() > 0 ? 0 : 4;
}

int main() {
  int failures = run_checks(1);
  std::vector<std::thread> ts;
  int results[3] = {0, 0, 0};
  for (int t = 0; t < 3; t++) ts.emplace_back([&results, t] { results[t] = run_checks(t + 2); });
  for (auto &t : ts) t.join();
  for (int r : results) failures += r;
  printf("workload %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
