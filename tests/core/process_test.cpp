// Whole-process checks, each in a fresh process (helper programs in tests/core/helpers):
// start-up with the first allocation in a library constructor (preloaded or dlopened) and
// dlsym during start-up; dlopen of the prefixed library by a program that does not link it
// (static TLS); running under valgrind (memcheck, callgrind) and gdb; RAYALLOC_RESERVE.
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "arena/layout.hpp"
#include "core/core_support.hpp"

namespace {

using core_test::ProgramResult;
using core_test::run_program;

// Paths compiled in by tests/core/CMakeLists.txt.
const std::string kLib = RAYALLOC_LIB_PATH;
const std::string kPrefixedLib = RAYALLOC_PREFIXED_LIB_PATH;
const std::string kCtorLib = CORE_CTOR_LIB_PATH;
const std::string kHelpers = CORE_HELPER_DIR;

std::string helper(const char *name) {
  return kHelpers + "/" + name;
}

std::string describe(const ProgramResult &r) {
  return "timed_out=" + std::to_string(r.timed_out) + " exit=" + std::to_string(r.exit_code) +
         " signal=" + std::to_string(r.signal) + "\nstdout:\n" + r.out + "\nstderr:\n" +
         r.err.substr(0, 4000);
}

TEST(Startup, FirstAllocationInAPreloadedConstructor) {
  // rayalloc first, then the library whose constructor allocates and calls dlsym.
  ProgramResult r = run_program({helper("plain_prog")}, {"LD_PRELOAD=" + kLib + ":" + kCtorLib});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("ctor ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("main ok owned=1"), std::string::npos) << r.out;
  // The other order: the allocating constructor's library is loaded first.
  r = run_program({helper("plain_prog")}, {"LD_PRELOAD=" + kCtorLib + ":" + kLib});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("ctor ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("main ok owned=1"), std::string::npos) << r.out;
}

TEST(Startup, PreloadedConstructorInAProgramLinkedToRayalloc) {
  ProgramResult r = run_program({helper("workload_linked")}, {"LD_PRELOAD=" + kCtorLib});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("ctor ok"), std::string::npos);
  EXPECT_NE(r.out.find("workload ok"), std::string::npos);
}

TEST(Startup, AllocatingConstructorOfADlopenedLibrary) {
  ProgramResult r = run_program({helper("dlopen_lib_prog"), kCtorLib}, {"LD_PRELOAD=" + kLib});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("dlopen ok"), std::string::npos) << r.out;
}

TEST(Startup, PreloadedIntoCommonTools) {
  // Real start-up paths of ordinary programs: locale, stdio, getpwnam, sort's buffers.
  for (const char *tool : {"ls", "sort", "id"}) {
    std::string path = core_test::find_in_path(tool);
    if (path.empty()) continue;
    std::vector<std::string> argv = {path};
    if (std::string(tool) == "ls") argv.push_back("/");
    if (std::string(tool) == "sort") argv.push_back("/etc/passwd");
    ProgramResult plain = run_program(argv);
    ProgramResult pre = run_program(argv, {"LD_PRELOAD=" + kLib});
    ASSERT_TRUE(pre.ok()) << tool << ": " << describe(pre);
    EXPECT_EQ(pre.out, plain.out) << tool;
  }
}

// The PT_TLS segment of an ELF shared object: its size in memory (0 if none).
size_t tls_segment_size(const std::string &path) {
  std::string bytes = core_test::slurp(path.c_str());
  if (bytes.size() < sizeof(Elf64_Ehdr)) return SIZE_MAX;
  Elf64_Ehdr eh;
  memcpy(&eh, bytes.data(), sizeof eh);
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    size_t off = eh.e_phoff + size_t(i) * eh.e_phentsize;
    if (off + sizeof ph > bytes.size()) return SIZE_MAX;
    memcpy(&ph, bytes.data() + off, sizeof ph);
    if (ph.p_type == PT_TLS) return ph.p_memsz;
  }
  return 0;
}

TEST(Dlopen, PrefixedLibraryFromAProgramThatDoesNotLinkIt) {
  ProgramResult r = run_program({helper("dlopen_prefixed_prog"), kPrefixedLib});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("prefixed ok"), std::string::npos);
}

// One thread starts the engine (its first ray_malloc, made slow by the helper's own mmap) while
// another forks: the child allocates, rather than waiting forever on the start-up lock.
TEST(Startup, ForkWhileAnotherThreadStartsTheEngine) {
  ProgramResult r = run_program({helper("fork_start_prog")});
  if (r.exit_code == 77) GTEST_SKIP() << r.out;
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("fork during start-up ok"), std::string::npos) << describe(r);
}

TEST(Dlopen, ThreadLocalStorageFitsTheStaticSurplus) {
  // dlopen of a library with initial-exec TLS takes from glibc's small static surplus (a few
  // hundred bytes are safe); rayalloc keeps to a pointer and a flag.
  for (const std::string &lib : {kLib, kPrefixedLib}) {
    size_t tls = tls_segment_size(lib);
    EXPECT_LE(tls, 64u) << lib << " has " << tls
                        << " bytes of initial-exec TLS; keep per-thread state behind tls_heap "
                           "(docs/DESIGN.md: one initial-exec pointer)";
  }
}

bool have_valgrind() {
  return !core_test::find_in_path("valgrind").empty();
}

// Memcheck by default replaces malloc with its own, so the program runs but rayalloc's heap
// code does not; with somalloc=nouserintercepts rayalloc serves every allocation (memcheck's
// own heap stays empty: "0 allocs") and its code runs under memcheck's checks. Both must
// exit 0 with no memcheck error.
TEST(Valgrind, MemcheckLinkedAndPreloaded) {
  if (!have_valgrind()) GTEST_SKIP() << "valgrind is not installed";
  for (bool rayalloc_serves : {false, true}) {
    for (bool preloaded : {false, true}) {
      std::vector<std::string> argv = {"valgrind", "--tool=memcheck", "--error-exitcode=97"};
      if (rayalloc_serves) argv.push_back("--soname-synonyms=somalloc=nouserintercepts");
      argv.push_back(helper(preloaded ? "workload_plain" : "workload_linked"));
      std::vector<std::string> env;
      if (preloaded) env.push_back("LD_PRELOAD=" + kLib);
      ProgramResult r = run_program(argv, env, 120);
      std::string what = std::string(preloaded ? "preloaded" : "linked") +
                         (rayalloc_serves ? ", nouserintercepts" : ", default");
      ASSERT_TRUE(r.ok()) << what << ": " << describe(r);
      EXPECT_NE(r.out.find("workload ok"), std::string::npos) << what;
      EXPECT_NE(r.err.find("ERROR SUMMARY: 0 errors"), std::string::npos) << what << ": " << r.err;
      if (rayalloc_serves)
        EXPECT_NE(r.err.find("total heap usage: 0 allocs"), std::string::npos)
            << what << ": memcheck's heap was used, not rayalloc: " << r.err;
    }
  }
}

TEST(Valgrind, Callgrind) {
  if (!have_valgrind()) GTEST_SKIP() << "valgrind is not installed";
  ProgramResult r = run_program({"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                 "-q", helper("workload_linked")},
                                {}, 120);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("workload ok"), std::string::npos);
  r = run_program({"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "-q",
                   helper("workload_plain")},
                  {"LD_PRELOAD=" + kLib}, 120);
  ASSERT_TRUE(r.ok()) << describe(r);
}

// `gdb -batch -ex run -ex bt --args prog`: the program runs to a normal exit under the
// debugger (no signal), exactly as it does on the system malloc. gdb's exit status is that of
// its last command, so after a normal exit `bt` ("No stack.") makes it 1 for any program;
// the status is therefore compared with the same program on glibc's malloc, and the form
// without `bt` must exit 0.
TEST(Gdb, BatchRunLikeTheSystemMalloc) {
  if (core_test::find_in_path("gdb").empty()) GTEST_SKIP() << "gdb is not installed";
  auto gdb = [](const std::string &prog, bool with_bt, const std::string &preload) {
    std::vector<std::string> argv = {"gdb", "-nx", "-batch"};
    if (!preload.empty()) argv.insert(argv.end(), {"-ex", "set environment LD_PRELOAD=" + preload});
    argv.insert(argv.end(), {"-ex", "run"});
    if (with_bt) argv.insert(argv.end(), {"-ex", "bt"});
    argv.insert(argv.end(), {"--args", prog});
    return run_program(argv, {}, 120);
  };
  ProgramResult reference = gdb(helper("workload_plain"), true, "");
  ASSERT_FALSE(reference.timed_out) << describe(reference);
  struct Case {
    const char *what;
    ProgramResult r;
  } cases[] = {{"linked", gdb(helper("workload_linked"), true, "")},
               {"preloaded", gdb(helper("workload_plain"), true, kLib)}};
  for (const Case &c : cases) {
    EXPECT_FALSE(c.r.timed_out) << c.what << ": " << describe(c.r);
    EXPECT_NE(c.r.out.find("workload ok"), std::string::npos) << c.what << ": " << describe(c.r);
    EXPECT_NE(c.r.out.find("exited normally"), std::string::npos)
        << c.what << ": " << describe(c.r);
    EXPECT_EQ(c.r.out.find("received signal"), std::string::npos)
        << c.what << ": " << describe(c.r);
    EXPECT_EQ(c.r.exit_code, reference.exit_code) << c.what << ": " << describe(c.r);
  }
  ProgramResult no_bt = gdb(helper("workload_linked"), false, "");
  EXPECT_EQ(no_bt.exit_code, 0) << describe(no_bt);
  EXPECT_NE(no_bt.out.find("exited normally"), std::string::npos) << describe(no_bt);
}

size_t reserve_reported(const ProgramResult &r) {
  size_t pos = r.out.find("reserve=");
  return pos == std::string::npos ? 0 : strtoull(r.out.c_str() + pos + 8, nullptr, 10);
}

TEST(Options, ReserveOneTebibyte) {
  // 300 GiB is more than the default reservation holds; with 1T it fits (untouched).
  ProgramResult r = run_program({helper("reserve_prog"), "300"}, {"RAYALLOC_RESERVE=1T"});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(reserve_reported(r), size_t(1) << 40) << r.out;
  EXPECT_NE(r.out.find("big=1"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "") << "a valid value must not warn";
  r = run_program({helper("reserve_prog"), "300"}, {"RAYALLOC_RESERVE=64G"});
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(reserve_reported(r), size_t(64) << 30);
  EXPECT_NE(r.out.find("big=0"), std::string::npos) << "300 GiB cannot fit in 64 GiB";
}

TEST(Options, ReserveGarbageWarnsAndUsesTheDefault) {
  for (const char *bad : {"garbage", "12Q", "-5G", "", "99999999999999999999T"}) {
    ProgramResult r =
        run_program({helper("reserve_prog"), "1"}, {std::string("RAYALLOC_RESERVE=") + bad});
    ASSERT_TRUE(r.ok()) << bad << ": " << describe(r);
    EXPECT_EQ(reserve_reported(r), ray::kDefaultReserve) << bad << ": " << r.out;
    if (*bad) {
      EXPECT_NE(r.err.find("warning"), std::string::npos) << bad << ": " << r.err;
      EXPECT_NE(r.err.find("RAYALLOC_RESERVE"), std::string::npos) << bad << ": " << r.err;
    }
  }
  // Without the variable: the default, silently.
  ProgramResult r = run_program({helper("reserve_prog")});
  EXPECT_EQ(reserve_reported(r), ray::kDefaultReserve);
  EXPECT_EQ(r.err, "");
}

TEST(Options, SmallReserveRunsOutCleanly) {
  ProgramResult r = run_program({helper("exhaust_prog")}, {"RAYALLOC_RESERVE=64M"}, 60);
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_NE(r.out.find("exhausted ok"), std::string::npos) << r.out;
}

}  // namespace
