// The RAYALLOC_* options: every variable parses its documented forms, and every bad value gets
// exactly one warning naming the variable and the default is kept (never a crash). Linked
// statically to the prefixed library, so it can call the internal options_init() after
// setting the environment, and capture what it writes to stderr.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "support/options.hpp"

namespace {

const char *const kAll[] = {
    "RAYALLOC_RESERVE",    "RAYALLOC_DECOMMIT_DELAY_MS", "RAYALLOC_CACHE",
    "RAYALLOC_HUGE_PAGES", "RAYALLOC_COMPACT",           "RAYALLOC_STATS",
    "RAYALLOC_VERBOSE",    "RAYALLOC_DEBUG_QUARANTINE",  "RAYALLOC_DEBUG_LEAKS"};

// Runs fn with stderr going to a temporary file; returns what was written.
template <class F>
std::string CaptureStderr(F fn) {
  char name[] = "/tmp/rayalloc_opts_XXXXXX";
  int fd = mkstemp(name);
  EXPECT_GE(fd, 0);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  dup2(saved, 2);
  close(saved);
  std::string out(4096, '\0');
  out.resize(pread(fd, out.data(), out.size(), 0));
  close(fd);
  unlink(name);
  return out;
}

int Count(const std::string &s, const std::string &what) {
  int n = 0;
  for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += what.size()) n++;
  return n;
}

class Options : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char *v : kAll) unsetenv(v);
  }
  void TearDown() override { SetUp(); }
  // Sets name=value, parses, and returns the warnings printed.
  std::string Parse(const char *name, const char *value) {
    setenv(name, value, 1);
    return CaptureStderr([] { ray::options_init(); });
  }
};

TEST_F(Options, DefaultsWithNothingSet) {
  EXPECT_EQ(CaptureStderr([] { ray::options_init(); }), "");
  const ray::Options &o = ray::g_options;
  EXPECT_EQ(o.reserve, 0u);  // the engine's default (256 GiB)
  EXPECT_EQ(o.decommit_delay_ms, 100u);
  EXPECT_EQ(o.cache_bytes, size_t(8) << 20);
  EXPECT_EQ(o.huge_pages, 0);
  EXPECT_EQ(o.compact, 1);
  EXPECT_EQ(o.stats, 0);
  EXPECT_EQ(o.verbose, 0);
  EXPECT_EQ(o.debug_quarantine, size_t(16) << 20);
  EXPECT_EQ(o.debug_leaks, 1);
}

TEST_F(Options, GoodValuesAreTaken) {
  const ray::Options &o = ray::g_options;
  EXPECT_EQ(Parse("RAYALLOC_RESERVE", "1T"), "");
  EXPECT_EQ(o.reserve, size_t(1) << 40);
  EXPECT_EQ(Parse("RAYALLOC_RESERVE", "64G"), "");
  EXPECT_EQ(o.reserve, size_t(64) << 30);
  EXPECT_EQ(Parse("RAYALLOC_DECOMMIT_DELAY_MS", "0"), "");
  EXPECT_EQ(o.decommit_delay_ms, 0u);
  EXPECT_EQ(Parse("RAYALLOC_CACHE", "32MiB"), "");
  EXPECT_EQ(o.cache_bytes, size_t(32) << 20);
  EXPECT_EQ(Parse("RAYALLOC_HUGE_PAGES", "1"), "");
  EXPECT_EQ(o.huge_pages, 1);
  EXPECT_EQ(Parse("RAYALLOC_COMPACT", "0"), "");
  EXPECT_EQ(o.compact, 0);
  EXPECT_EQ(Parse("RAYALLOC_STATS", "1"), "");
  EXPECT_EQ(o.stats, ray::kStatsTable);
  EXPECT_EQ(Parse("RAYALLOC_STATS", "json:/tmp/x-%p.json"), "");
  EXPECT_EQ(o.stats, ray::kStatsJson);
  EXPECT_STREQ(o.stats_path, "/tmp/x-%p.json");
  EXPECT_EQ(Parse("RAYALLOC_VERBOSE", "1"), "");
  EXPECT_EQ(o.verbose, 1);
  EXPECT_EQ(Parse("RAYALLOC_DEBUG_QUARANTINE", "0"), "");
  EXPECT_EQ(o.debug_quarantine, 0u);
  EXPECT_EQ(Parse("RAYALLOC_DEBUG_LEAKS", "0"), "");
  EXPECT_EQ(o.debug_leaks, 0);
}

struct Bad {
  const char *name, *value;
};
const Bad kBad[] = {
    {"RAYALLOC_RESERVE", "garbage"},
    {"RAYALLOC_RESERVE", "-5G"},
    {"RAYALLOC_RESERVE", "1M"},
    {"RAYALLOC_RESERVE", "99999999T"},
    {"RAYALLOC_RESERVE", ""},
    {"RAYALLOC_RESERVE", " 64G"},
    {"RAYALLOC_DECOMMIT_DELAY_MS", "x"},
    {"RAYALLOC_DECOMMIT_DELAY_MS", "9999999"},
    {"RAYALLOC_DECOMMIT_DELAY_MS", "-1"},
    {"RAYALLOC_CACHE", "8Q"},
    {"RAYALLOC_HUGE_PAGES", "2"},
    {"RAYALLOC_HUGE_PAGES", "yes"},
    {"RAYALLOC_COMPACT", "off"},
    {"RAYALLOC_STATS", "json:"},
    {"RAYALLOC_STATS", "2"},
    {"RAYALLOC_VERBOSE", "on"},
    {"RAYALLOC_DEBUG_QUARANTINE", "2G"},
    {"RAYALLOC_DEBUG_LEAKS", "true"},
};

TEST_F(Options, EachBadValueGetsOneWarningAndTheDefault) {
  for (const Bad &b : kBad) {
    SetUp();
    ray::Options defaults;
    std::string err = Parse(b.name, b.value);
    EXPECT_EQ(Count(err, "rayalloc: warning: "), 1) << b.name << "=" << b.value << ": " << err;
    EXPECT_NE(err.find(std::string(b.name) + "=\"" + b.value + "\""), std::string::npos) << err;
    EXPECT_NE(err.find("using the default"), std::string::npos) << err;
    const ray::Options &o = ray::g_options;
    EXPECT_EQ(o.reserve, defaults.reserve) << b.name;
    EXPECT_EQ(o.decommit_delay_ms, defaults.decommit_delay_ms) << b.name;
    EXPECT_EQ(o.cache_bytes, defaults.cache_bytes) << b.name;
    EXPECT_EQ(o.huge_pages, defaults.huge_pages) << b.name;
    EXPECT_EQ(o.compact, defaults.compact) << b.name;
    EXPECT_EQ(o.stats, defaults.stats) << b.name;
    EXPECT_EQ(o.verbose, defaults.verbose) << b.name;
    EXPECT_EQ(o.debug_quarantine, defaults.debug_quarantine) << b.name;
    EXPECT_EQ(o.debug_leaks, defaults.debug_leaks) << b.name;
  }
}

TEST_F(Options, AllBadAtOnceGiveOneWarningEach) {
  setenv("RAYALLOC_RESERVE", "lots", 1);
  setenv("RAYALLOC_CACHE", "some", 1);
  setenv("RAYALLOC_VERBOSE", "loud", 1);
  setenv("RAYALLOC_STATS", "please", 1);
  std::string err = CaptureStderr([] { ray::options_init(); });
  EXPECT_EQ(Count(err, "rayalloc: warning: "), 4) << err;
  for (const char *v : {"RAYALLOC_RESERVE", "RAYALLOC_CACHE", "RAYALLOC_VERBOSE", "RAYALLOC_STATS"})
    EXPECT_EQ(Count(err, v), 1) << v << ": " << err;
}

TEST_F(Options, VerbosePrintsEveryOption) {
  setenv("RAYALLOC_RESERVE", "1T", 1);
  ray::options_init();
  std::string out = CaptureStderr([] { ray::options_print(size_t(1) << 40); });
  for (const char *v : kAll) EXPECT_EQ(Count(out, v), 1) << v << ": " << out;
  EXPECT_NE(out.find("1.0 TiB"), std::string::npos) << out;
}

TEST(ParseSize, FormsAndRejections) {
  size_t v = 0;
  EXPECT_TRUE(ray::parse_size("4096", &v));
  EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(ray::parse_size("16KiB", &v));
  EXPECT_EQ(v, 16384u);
  EXPECT_TRUE(ray::parse_size("512m", &v));
  EXPECT_EQ(v, size_t(512) << 20);
  EXPECT_TRUE(ray::parse_size("2GB", &v));
  EXPECT_EQ(v, size_t(2) << 30);
  EXPECT_TRUE(ray::parse_size("1T", &v));
  EXPECT_EQ(v, size_t(1) << 40);
  for (const char *bad : {"", "G", "-1", "+1", " 5", "5X", "5 G", "1.5G", "18446744073709551615",
                          "17179869184T", "0x10"}) {
    v = 7;
    EXPECT_FALSE(ray::parse_size(bad, &v)) << bad;
    EXPECT_EQ(v, 7u) << bad;
  }
}

}  // namespace
