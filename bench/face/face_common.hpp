// Shared by the face_bench_array_* programs: each measurement runs in a fresh child process
// (the program re-executes itself with a case name), so every contender starts from the same
// clean state and std containers can be measured on glibc and, with LD_PRELOAD, on mimalloc in
// the same run. A child prints one number (seconds or bytes) on stdout; the parent takes the
// median over interleaved rounds and prints the contenders side by side with their ratios.
#pragma once
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../common.hpp"

extern char **environ;

namespace face {

inline const char *kMimalloc = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";

inline double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU time of the calling thread (user + kernel, page faults included). The benchmarks time
// with it rather than the wall clock: the machine (2 cores) is shared with builds and other
// benchmarks, and CPU time measures the work itself, not the wait for a core.
inline double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Resident set size in bytes.
inline size_t rss() {
  return size_t(bench::rss_kb()) * 1024;
}

// The malloc workloads' generator (splitmix64: the same sequence in every child).
using Rng = bench::Rng;

// Keeps a value alive so the optimiser cannot drop the work that made it.
template <class T>
inline void keep(const T &v) {
  asm volatile("" : : "g"(&v) : "memory");
}

inline bool have_mimalloc() {
  return access(kMimalloc, R_OK) == 0;
}

// Run `self case_name` (with LD_PRELOAD=preload if given); the number it printed first, or -1.
// `output`, if given, receives all it printed.
inline double run_child(const char *self, const char *case_name, const char *preload,
                        std::string *output = nullptr) {
  std::vector<std::string> env;
  for (char **e = environ; *e; e++)
    if (strncmp(*e, "LD_PRELOAD=", 11) != 0) env.push_back(*e);
  if (preload) env.push_back(std::string("LD_PRELOAD=") + preload);
  std::vector<char *> envp;
  for (auto &s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  char *argv[] = {const_cast<char *>(self), const_cast<char *>(case_name), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return -1;
  }
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  if (output) *output = out;
  return atof(out.c_str());
}

struct Contender {
  const char *label;
  const char *case_name;
  const char *preload;  // nullptr: the system allocator
  std::vector<double> samples;
  std::string last_output{};  // all the last run printed (after the time: a case's own figures)
  double median() const {
    std::vector<double> s = samples;
    std::sort(s.begin(), s.end());
    return s.empty() ? -1 : s[s.size() / 2];
  }
};

// Interleaved rounds: round r runs every contender once, so drift hits all alike.
inline void measure(const char *self, std::vector<Contender> &cs, int rounds) {
  for (int r = 0; r < rounds; r++)
    for (Contender &c : cs) {
      if (c.preload && !have_mimalloc()) continue;
      double v = run_child(self, c.case_name, c.preload, &c.last_output);
      if (v >= 0) c.samples.push_back(v);
    }
}

// Prints cs[0]'s time, then each peer's with how many times faster `subject` (cs[0]) is
// against `bar`, then the verdict line "  bar met|MISSED".
inline void report_speedup(const std::vector<Contender> &cs, const char *subject, double bar) {
  double ray = cs[0].median();
  printf("  %-24s %8.3f s\n", cs[0].label, ray);
  bool ok = ray > 0;
  for (size_t i = 1; i < cs.size(); i++) {
    double t = cs[i].median();
    if (t < 0) {
      printf("  %-24s (not available)\n", cs[i].label);
      continue;
    }
    double ratio = t / ray;
    ok &= ratio >= bar;
    printf("  %-24s %8.3f s   %s is %.2fx faster  (bar >= %.1fx: %s)\n", cs[i].label, t, subject,
           ratio, bar, ratio >= bar ? "met" : "MISSED");
  }
  printf("  bar %s\n", ok ? "met" : "MISSED");
}

}  // namespace face
