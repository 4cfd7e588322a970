// ray::string (API.md section 6 and 7): a byte array whose len counts the characters, with a
// NUL kept at [len]; appends of every kind, conversions, comparison and hashing.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <unordered_set>

#include "rayalloc.hpp"

namespace {

// The invariants every string must keep.
void expect_well_formed(const ray::string &s) {
  EXPECT_EQ(s.c_str()[s.size()], '\0');
  if (s.data() && s.capacity()) {
    EXPECT_EQ(ray_array_len(s.c_str()), s.size());
    EXPECT_GT(ray_array_cap(s.c_str()), ray_array_len(s.c_str()));  // cap > len: the NUL
    EXPECT_EQ(ray_array_elem_size(s.c_str()), 1u);
  }
}

TEST(CppString, ConstructionAndConversion) {
  ray::string e;
  EXPECT_STREQ(e.c_str(), "");
  EXPECT_TRUE(e.empty());
  ray::string a("hello");
  ray::string b(std::string_view("world!", 5));
  ray::string c("abcdef", 3);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_STREQ(a.c_str(), "hello");
  EXPECT_EQ(std::string_view(b), "world");
  EXPECT_EQ(c, "abc");
  expect_well_formed(a);
  ray::string d(3, 'z');
  EXPECT_EQ(d, "zzz");
  ray::string copy(a), moved(std::move(d));
  EXPECT_EQ(copy, a);
  EXPECT_EQ(moved, "zzz");
  copy = "x";
  EXPECT_EQ(copy, "x");
  copy = b;
  EXPECT_EQ(copy, b);
}

TEST(CppString, AppendForms) {
  ray::string s;
  s += "abc";
  s += 'd';
  s += std::string_view("ef");
  s.append("ghij", 2);
  s.append(ray::string("ij"));
  s.push_back('k');
  s.append(3, '!');
  EXPECT_EQ(s, "abcdefghijk!!!");
  expect_well_formed(s);
  std::string ref = "abcdefghijk!!!";
  for (int i = 0; i < 20000; i++) {
    std::string piece(size_t(i % 70), char('a' + i % 26));
    s += piece;
    ref += piece;
    if (i % 1000 == 0) expect_well_formed(s);
  }
  EXPECT_EQ(s.view(), ref);
  expect_well_formed(s);
  s.append(s.c_str(), s.size());  // itself, while it grows
  EXPECT_EQ(s.view(), ref + ref);
  expect_well_formed(s);
}

TEST(CppString, SizeOperations) {
  ray::string s("hello world");
  s.reserve(1000);
  EXPECT_GE(s.capacity(), 1000u);
  expect_well_formed(s);
  s.resize(5);
  EXPECT_EQ(s, "hello");
  s.resize(7, '-');
  EXPECT_EQ(s, "hello--");
  s.pop_back();
  EXPECT_EQ(s, "hello-");
  s.shrink_to_fit();
  EXPECT_LT(s.capacity(), 100u);
  expect_well_formed(s);
  s.clear();
  EXPECT_EQ(s, "");
  expect_well_formed(s);
}

TEST(CppString, SearchEditCompare) {
  ray::string s("the quick brown fox");
  EXPECT_EQ(s.find("quick"), 4u);
  EXPECT_EQ(s.find('z'), ray::string::npos);
  EXPECT_TRUE(s.starts_with("the"));
  EXPECT_TRUE(s.ends_with("fox"));
  EXPECT_TRUE(s.contains("brown"));
  EXPECT_EQ(s.substr(4, 5), "quick");
  s.erase(4, 6);
  EXPECT_EQ(s, "the brown fox");
  s.insert(4, "red ");
  EXPECT_EQ(s, "the red brown fox");
  EXPECT_TRUE(ray::string("a") < ray::string("b"));
  EXPECT_TRUE(ray::string("abc") == std::string_view("abc"));
  EXPECT_TRUE(ray::string("abc") > "abb");
  EXPECT_EQ(ray::string("ab") + "cd", "abcd");
  EXPECT_EQ(ray::string("ab") + 'c', "abc");
  std::ostringstream os;
  os << ray::string("streamed");
  EXPECT_EQ(os.str(), "streamed");
}

TEST(CppString, Hashing) {
  std::unordered_set<ray::string> set;
  for (int i = 0; i < 1000; i++) set.insert(ray::string(std::to_string(i)));
  EXPECT_EQ(set.size(), 1000u);
  EXPECT_EQ(set.count(ray::string("567")), 1u);
  EXPECT_EQ(std::hash<ray::string>()(ray::string("xyz")), std::hash<std::string_view>()("xyz"));
}

}  // namespace
