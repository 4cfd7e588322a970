// Helpers shared by the core engine / malloc-face tests: memory figures from /proc, byte
// patterns that tell whether a block kept its contents, an error handler that records instead
// of aborting, and running a helper program in its own process with a time limit.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/test_util.hpp"
#include "rayalloc.h"

namespace core_test {

using test_util::rss_bytes;

inline double now_seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

using test_util::check_pattern;
using test_util::fill_pattern;
using test_util::pattern_byte;

// The same pattern on a sample of a big block (its first and last 512 bytes and one byte per
// page): enough to catch a block handed out twice or copied wrongly, at a fraction of the cost.
template <class Visit>
inline void visit_sample(size_t n, Visit visit) {
  for (size_t i = 0; i < n && i < 512; i++) visit(i);
  for (size_t i = 512; i + 512 < n; i += 4096) visit(i);
  for (size_t i = n > 1024 ? n - 512 : 512; i < n; i++) visit(i);
}
inline void fill_sample(void *p, size_t n, uint32_t tag) {
  auto *b = static_cast<uint8_t *>(p);
  visit_sample(n, [&](size_t i) { b[i] = pattern_byte(tag, i); });
}
inline bool check_sample(const void *p, size_t n, uint32_t tag) {
  auto *b = static_cast<const uint8_t *>(p);
  bool ok = true;
  visit_sample(n, [&](size_t i) { ok &= b[i] == pattern_byte(tag, i); });
  return ok;
}

// An error handler that records the reports and returns (so the offending call does nothing).
struct ErrorLog {
  int calls = 0;
  int last_err = 0;
  void *last_ptr = nullptr;
  char last_msg[256] = {0};

  static void handler(int err, const char *msg, void *ptr, void *ctx) {
    auto *log = static_cast<ErrorLog *>(ctx);
    log->calls++;
    log->last_err = err;
    log->last_ptr = ptr;
    snprintf(log->last_msg, sizeof log->last_msg, "%s", msg ? msg : "");
  }
  void install() { ray_set_error_handler(&ErrorLog::handler, this); }
  static void restore_default() { ray_set_error_handler(nullptr, nullptr); }
};

struct ProgramResult {
  bool timed_out = false;
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when a signal ended it
  std::string out, err;
  bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
};

inline std::string slurp(const char *path) {
  std::string s;
  FILE *f = fopen(path, "r");
  if (!f) return s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

// Runs argv[0] (a path) with extra environment entries "NAME=value" on top of ours, its
// output captured in files, killing it after `timeout_s` seconds (a hang is a failure, not a
// stuck test run).
inline ProgramResult run_program(const std::vector<std::string> &argv,
                                 const std::vector<std::string> &env = {}, double timeout_s = 30) {
  ProgramResult r;
  char out_path[] = "/tmp/rayalloc_core_outXXXXXX";
  char err_path[] = "/tmp/rayalloc_core_errXXXXXX";
  int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
  if (out_fd < 0 || err_fd < 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    for (const std::string &e : env) putenv(const_cast<char *>(e.c_str()));
    std::vector<char *> args;
    for (const std::string &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  double deadline = now_seconds() + timeout_s;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (now_seconds() > deadline) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(2000);
  }
  if (!r.timed_out) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  }
  close(out_fd);
  close(err_fd);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path);
  unlink(err_path);
  return r;
}

inline bool file_exists(const char *path) {
  return access(path, X_OK) == 0;
}

// First directory of $PATH holding an executable `name`, as a full path ("" if none).
inline std::string find_in_path(const char *name) {
  const char *path = getenv("PATH");
  if (!path) return "";
  std::string all(path);
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    std::string candidate = all.substr(start, end - start) + "/" + name;
    if (end > start && file_exists(candidate.c_str())) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace core_test
