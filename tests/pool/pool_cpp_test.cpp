// C++: ray::pool<T>, ray::pool_allocator<T> with the node containers, ray::arena (RAII).
#include <list>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "pool/pool_test_util.hpp"
#include "rayalloc.hpp"

namespace {

struct Tracked {
  static inline int alive = 0;
  int v;
  explicit Tracked(int x) : v(x) { alive++; }
  ~Tracked() { alive--; }
};

TEST(PoolT, CreateDestroyAndDestructorRunsOnLiveObjects) {
  Tracked::alive = 0;
  {
    ray::pool<Tracked> p;
    std::vector<Tracked *> v;
    for (int i = 0; i < 1000; i++) v.push_back(p.create(i));
    EXPECT_EQ(Tracked::alive, 1000);
    EXPECT_EQ(ray_usable_size(v[0]), sizeof(Tracked) < 8 ? 8 : sizeof(Tracked));
    for (int i = 0; i < 1000; i += 3) p.destroy(v[i]);
    EXPECT_EQ(Tracked::alive, 1000 - 334);
    long sum = 0;
    int seen = 0;
    p.visit([&](Tracked &t) {
      sum += t.v;
      seen++;
    });
    EXPECT_EQ(seen, 1000 - 334);
    long want = 0;
    for (int i = 0; i < 1000; i++)
      if (i % 3) want += i;
    EXPECT_EQ(sum, want);
    p.destroy(nullptr);
  }
  EXPECT_EQ(Tracked::alive, 0) << "~pool runs ~T on every live object";
}

struct Throws {
  explicit Throws(bool t) {
    if (t) throw 42;
  }
};

TEST(PoolT, ConstructorThatThrowsGivesTheSlotBack) {
  ray::pool<Throws> p;
  Throws *a = p.create(false);
  p.destroy(a);
  EXPECT_THROW(p.create(true), int);
  EXPECT_EQ(p.create(false), a);  // the slot was freed, and is reused first
}

TEST(PoolT, InAnArenaAndMovable) {
  ray::arena a;
  ray::pool<Tracked> p(a);
  Tracked::alive = 0;
  Tracked *t = p.create(5);
  ray::pool<Tracked> q = std::move(p);
  EXPECT_EQ(p.get(), nullptr);
  EXPECT_EQ(t->v, 5);
  EXPECT_GT(a.stats().allocated, 0u);
  q.destroy(t);
  EXPECT_EQ(Tracked::alive, 0);
}

template <class T>
using PA = ray::pool_allocator<T>;

TEST(PoolAllocator, NodeContainers) {
  std::map<int, int, std::less<int>, PA<std::pair<const int, int>>> m;
  std::set<long, std::less<long>, PA<long>> s;
  std::list<std::string, PA<std::string>> l;
  std::unordered_map<int, int, std::hash<int>, std::equal_to<int>, PA<std::pair<const int, int>>> u;
  for (int i = 0; i < 100000; i++) {
    m[i * 7 % 100003] = i;
    s.insert(i);
    u[i] = -i;
    if (i % 100 == 0) l.push_back(std::string(100, 'x'));
  }
  for (int i = 0; i < 100000; i += 2) {
    m.erase(i * 7 % 100003);
    s.erase(i);
    u.erase(i);
  }
  EXPECT_EQ(m.size(), 50000u);
  EXPECT_EQ(s.size(), 50000u);
  EXPECT_EQ(u.size(), 50000u);
  EXPECT_EQ(l.size(), 1000u);
  for (int i = 1; i < 100000; i += 2) {
    ASSERT_EQ(u[i], -i);
    ASSERT_TRUE(s.count(i));
  }
  // Nodes are exact-size pool objects: a map<int,int> node is 40 bytes, not a 48-byte class.
  void *node = ray::pool_allocator<std::_Rb_tree_node<std::pair<const int, int>>>().allocate(1);
  EXPECT_EQ(ray_usable_size(node), sizeof(std::_Rb_tree_node<std::pair<const int, int>>));
  ray::pool_allocator<std::_Rb_tree_node<std::pair<const int, int>>>().deallocate(
      static_cast<std::_Rb_tree_node<std::pair<const int, int>> *>(node), 1);
}

TEST(PoolAllocator, ArraysAndOverAlignedTypes) {
  PA<double> a;
  double *d = a.allocate(1000);  // n > 1 works
  for (int i = 0; i < 1000; i++) d[i] = i;
  EXPECT_EQ(d[999], 999);
  a.deallocate(d, 1000);
  struct alignas(64) Wide {
    char c[80];
  };
  PA<Wide> w;
  for (size_t n : {1, 1, 3}) {
    Wide *p = w.allocate(n);
    EXPECT_EQ(uintptr_t(p) % 64, 0u);
    w.deallocate(p, n);
  }
  EXPECT_TRUE(PA<int>() == PA<long>());
  EXPECT_THROW(a.allocate(size_t(-1) / 4), std::bad_alloc);
}

TEST(PoolAllocator, NodesFreedOnAnotherThread) {
  using Map = std::map<int, int, std::less<int>, PA<std::pair<const int, int>>>;
  auto *m = new Map;
  std::thread([&] {
    for (int i = 0; i < 100000; i++) (*m)[i] = i;
  }).join();
  // The allocating thread is gone: its pool was orphaned; the nodes stay valid.
  long sum = 0;
  for (auto &[k, v] : *m) sum += v;
  EXPECT_EQ(sum, 100000L * 99999 / 2);
  std::thread([&] { delete m; }).join();  // freed from a third thread
}

TEST(Arena, RaiiResetAndMove) {
  pooltest::Ledger l;
  {
    ray::arena a(l.opts());
    void *p = a.malloc(1000);
    ASSERT_NE(p, nullptr);
    EXPECT_GT(l.committed, 0u);
    a.reset();
    EXPECT_EQ(l.committed, 0u);
    EXPECT_NE(a.malloc(10), nullptr);
    ray::arena b = std::move(a);
    EXPECT_EQ(a.get(), nullptr);
    EXPECT_NE(b.get(), nullptr);
  }
  EXPECT_EQ(l.committed, 0u) << "~arena destroys it";
  ray_arena_opts bad{};
  bad.flags = 0x100;
  EXPECT_THROW(ray::arena{bad}, std::bad_alloc);
}

}  // namespace
