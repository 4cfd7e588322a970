// Workload: single-thread program-like churn.
//
// Models an interpreter / compiler / symbolic-math system: for each "unit" it builds an
// expression tree of small nodes (each with a name string and a child vector), rewrites and
// evaluates it, makes lots of short-lived temporaries, keeps some results in a medium-lived
// ring of recent values and interns a few names in a long-lived symbol table. Most objects die
// young, some survive a while, a few live for the whole run: the mix that decides small-object
// allocator quality (fast paths, size classes, reuse of freed memory, locality).
#include <map>
#include <string>
#include <vector>
#include "common.hpp"

namespace {

struct Node {
  int op;
  long value;
  std::string name;
  std::vector<Node *> kids;
};

bench::Rng rng(12345);

std::string make_name(int len) {
  std::string s;
  for (int i = 0; i < len; i++) s.push_back(static_cast<char>('a' + rng.next() % 26));
  return s;
}

Node *build(int depth) {
  Node *n = new Node{static_cast<int>(rng.next() % 4),
                     static_cast<long>(rng.next() % 1000),
                     make_name(static_cast<int>(rng.log_range(1, 40))),
                     {}};
  if (depth > 0) {
    int k = static_cast<int>(rng.range(0, 3));
    for (int i = 0; i < k; i++) n->kids.push_back(build(depth - 1));
  }
  return n;
}

// Evaluates the tree, allocating temporaries the way an interpreter does.
long eval(const Node *n, uint64_t *h) {
  std::string tmp = n->name + "#" + std::to_string(n->value);  // dies at return
  *h += bench::mix(std::hash<std::string>{}(tmp));
  long acc = n->value;
  std::vector<long> args;
  for (const Node *k : n->kids) args.push_back(eval(k, h));
  for (long a : args) acc = n->op == 0 ? acc + a : n->op == 1 ? acc ^ a : acc * 3 + a;
  return acc % 1000003;
}

// A rewrite pass: replaces some subtrees with freshly built ones (frees mid-lifetime nodes).
void rewrite(Node *n) {
  for (Node *&k : n->kids) {
    if (rng.next() % 8 == 0) {
      std::vector<Node *> stack{k};
      while (!stack.empty()) {
        Node *d = stack.back();
        stack.pop_back();
        for (Node *c : d->kids) stack.push_back(c);
        delete d;
      }
      k = build(2);
    } else {
      rewrite(k);
    }
  }
}

void destroy(Node *n) {
  for (Node *k : n->kids) destroy(k);
  delete n;
}

}  // namespace

int main(int argc, char **argv) {
  long units = bench::scaled(40000, bench::scale(argc, argv));
  uint64_t h = 0;
  std::map<std::string, long> symbols;               // long-lived, bounded
  std::vector<std::string *> recent(4096, nullptr);  // medium-lived ring
  for (long u = 0; u < units; u++) {
    Node *root = build(9);
    rewrite(root);
    long v = eval(root, &h);
    h += bench::mix(static_cast<uint64_t>(v));
    size_t slot = rng.next() % recent.size();
    delete recent[slot];
    recent[slot] = new std::string(root->name + make_name(static_cast<int>(rng.range(0, 100))));
    if (u % 3 == 0) symbols[make_name(static_cast<int>(rng.range(4, 24)))] = v;
    if (symbols.size() > 20000) symbols.erase(symbols.begin());
    destroy(root);
  }
  for (auto &kv : symbols) h += bench::mix(std::hash<std::string>{}(kv.first) ^ kv.second);
  for (std::string *s : recent) {
    if (s) h += bench::mix(std::hash<std::string>{}(*s));
    delete s;
  }
  bench::result("churn", h);
}
