// Out of memory under RLIMIT_AS: a child sets the limit, then execs oom_helper (linked to the
// malloc-replacing rayalloc), which exhausts memory and checks NULL + ENOMEM, std::bad_alloc
// and full recovery (see oom_helper.cpp). The limit must be in place before the helper starts,
// because rayalloc takes its reservation at start-up (halving it until the OS agrees).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace {

struct HelperRun {
  int status;
  std::string out;
};

HelperRun run_helper(size_t limit_bytes) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, "pipe"};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    struct rlimit rl = {limit_bytes, limit_bytes};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(120);
    execl(ROBUST_OOM_HELPER, ROBUST_OOM_HELPER, static_cast<char *>(nullptr));
    _exit(121);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {status, out};
}

size_t blocks_of(const std::string &out) {
  size_t at = out.find("blocks=");
  return at == std::string::npos ? 0 : std::stoul(out.substr(at + 7));
}

class OomUnderRlimit : public ::testing::TestWithParam<size_t> {};

TEST_P(OomUnderRlimit, EnomemBadAllocAndFullRecovery) {
  size_t limit = GetParam() << 20;
  HelperRun r = run_helper(limit);
  ASSERT_TRUE(WIFEXITED(r.status))
      << "helper killed by signal " << (WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0) << "\n"
      << r.out;
  ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.out;
  // The reservation fitted under the limit, and a good part of it was usable.
  size_t mib = blocks_of(r.out);
  EXPECT_LT(mib, GetParam()) << r.out;
  EXPECT_GE(mib, GetParam() / 16) << r.out;
}

// 256 MiB and 1 GiB of address space: the reservation shrinks to fit each.
INSTANTIATE_TEST_SUITE_P(Limits, OomUnderRlimit, ::testing::Values(size_t(256), size_t(1024)));

}  // namespace
