// A template-heavy translation unit for the real-program test: g++ compiles it (cc1plus is an
// allocation-heavy program) under LD_PRELOAD=librayalloc.so, and the result must link and print
// the same as when compiled plainly. Recursive instantiation, variadic packs, tuples, variants,
// constexpr evaluation and the standard containers give the compiler plenty to allocate.
#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

template <unsigned N>
struct Fib : std::integral_constant<unsigned long long, Fib<N - 1>::value + Fib<N - 2>::value> {};
template <>
struct Fib<0> : std::integral_constant<unsigned long long, 0> {};
template <>
struct Fib<1> : std::integral_constant<unsigned long long, 1> {};

template <typename... Ts>
struct TypeList {};
template <typename L, template <typename> class F>
struct Map;
template <typename... Ts, template <typename> class F>
struct Map<TypeList<Ts...>, F> {
  using type = TypeList<typename F<Ts>::type...>;
};
template <typename T>
struct Wrap {
  using type = std::array<T, sizeof(T) % 5 + 1>;
};

template <std::size_t... Is>
constexpr auto squares(std::index_sequence<Is...>) {
  return std::array<std::size_t, sizeof...(Is)>{(Is * Is)...};
}

template <std::size_t I>
struct Tag {
  static constexpr std::size_t value = I;
};
template <std::size_t... Is>
auto make_tags(std::index_sequence<Is...>) {
  return std::tuple<Tag<Is>...>{};
}
template <typename Tuple, std::size_t... Is>
std::size_t sum_tags(const Tuple &, std::index_sequence<Is...>) {
  return (std::tuple_element_t<Is, Tuple>::value + ... + 0);
}

template <int Depth>
struct Expr {
  template <typename F>
  static long eval(long x, F f) {
    return Expr<Depth - 1>::eval(f(x) + Depth, f) ^ (x * Depth);
  }
};
template <>
struct Expr<0> {
  template <typename F>
  static long eval(long x, F) {
    return x;
  }
};

using Value = std::variant<int, long, double, std::string, std::vector<int>>;
struct Visitor {
  std::string operator()(int v) const { return "i" + std::to_string(v); }
  std::string operator()(long v) const { return "l" + std::to_string(v); }
  std::string operator()(double v) const { return "d" + std::to_string(int(v * 10)); }
  std::string operator()(const std::string &s) const { return "s" + s; }
  std::string operator()(const std::vector<int> &v) const {
    return "v" + std::to_string(std::accumulate(v.begin(), v.end(), 0));
  }
};

template <typename K, typename V, int N>
struct Table {
  static std::map<K, V> build() {
    std::map<K, V> m = Table<K, V, N - 1>::build();
    m[K(N * 7 % 101)] = V(N);
    return m;
  }
};
template <typename K, typename V>
struct Table<K, V, 0> {
  static std::map<K, V> build() { return {}; }
};

int main() {
  using L = TypeList<char, short, int, long, double, float, long double, unsigned, bool>;
  using M = Map<L, Wrap>::type;
  static_assert(!std::is_same_v<L, M>);
  constexpr auto sq = squares(std::make_index_sequence<64>{});
  auto tags = make_tags(std::make_index_sequence<48>{});
  std::size_t tag_sum = sum_tags(tags, std::make_index_sequence<48>{});
  long e = Expr<120>::eval(3, [](long x) { return (x * 31 + 7) % 1000003; });
  std::vector<Value> values{1, 2L, 3.5, std::string("four"), std::vector<int>{5, 6, 7}};
  std::string joined;
  for (const Value &v : values) joined += std::visit(Visitor{}, v) + ";";
  auto table = Table<int, long, 90>::build();
  long tsum = 0;
  for (auto &[k, v] : table) tsum += k * v;
  std::printf("fib=%llu sq=%zu tags=%zu expr=%ld joined=%s table=%ld\n", Fib<80>::value, sq[63],
              tag_sum, e, joined.c_str(), tsum);
  return 0;
}
