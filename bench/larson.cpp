// Workload: server pattern (after Larson & Krishnan).
//
// Models a multi-threaded server: each worker owns a table of live blocks (connection state,
// buffers) and keeps replacing random entries with new blocks of random size. Now and then it
// hands a batch of its blocks to the next worker (a request passed down a pipeline), and it frees
// whatever it receives. Workers also retire in epochs and new threads inherit their tables, so
// blocks allocated by threads that have exited get freed by others. Cross-thread frees, thread
// turnover and per-thread caching are what this tests.
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>
#include "common.hpp"

namespace {

constexpr int kThreads = 4, kSlots = 2000, kBatch = 32;

struct Block {
  uint64_t value;
  uint32_t size;
};

struct Mailbox {
  std::mutex mu;
  std::vector<Block *> items;
};

Mailbox boxes[kThreads];
uint64_t sums[kThreads];  // written only by the owning thread of each epoch
long steps_per_epoch;

Block *make(bench::Rng &rng) {
  uint32_t size = static_cast<uint32_t>(rng.log_range(sizeof(Block) + 1, 1024));
  auto *b = static_cast<Block *>(std::malloc(size));
  b->value = rng.next();
  b->size = size;
  reinterpret_cast<unsigned char *>(b)[size - 1] = static_cast<unsigned char>(b->value);
  return b;
}

// Frees a block after checking it is intact; its hash goes into the checksum.
uint64_t consume(Block *b) {
  if (!b) return 0;
  uint64_t h = bench::mix(b->value + b->size);
  if (reinterpret_cast<unsigned char *>(b)[b->size - 1] != static_cast<unsigned char>(b->value))
    h = 0xbad;
  std::free(b);
  return h;
}

void worker(int t, int epoch, Block **slots) {
  bench::Rng rng(1000 * epoch + t + 1);
  uint64_t h = 0;
  std::vector<Block *> inbox, outbox;
  for (long s = 0; s < steps_per_epoch; s++) {
    int i = static_cast<int>(rng.next() % kSlots);
    h += consume(slots[i]);
    slots[i] = make(rng);
    if (s % 256 == 255) {  // hand a batch to the next worker, free what we were handed
      for (int k = 0; k < kBatch; k++) {
        int j = static_cast<int>(rng.next() % kSlots);
        outbox.push_back(slots[j]);
        slots[j] = make(rng);
      }
      Mailbox &next = boxes[(t + 1) % kThreads];
      {
        std::lock_guard<std::mutex> g(next.mu);
        next.items.insert(next.items.end(), outbox.begin(), outbox.end());
      }
      outbox.clear();
      {
        std::lock_guard<std::mutex> g(boxes[t].mu);
        inbox.swap(boxes[t].items);
      }
      for (Block *b : inbox) h += consume(b);
      inbox.clear();
    }
  }
  sums[t] += h;
}

}  // namespace

int main(int argc, char **argv) {
  double sc = bench::scale(argc, argv);
  const int epochs = 8;
  steps_per_epoch = bench::scaled(8000000, sc) / epochs;
  std::vector<std::vector<Block *>> tables(kThreads, std::vector<Block *>(kSlots, nullptr));
  for (int e = 0; e < epochs; e++) {  // each epoch: new threads inherit the previous tables
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t, e, tables[t].data());
    for (auto &th : threads) th.join();
  }
  uint64_t h = 0;
  for (int t = 0; t < kThreads; t++) {
    h += sums[t];
    for (Block *b : tables[t]) h += consume(b);
    for (Block *b : boxes[t].items) h += consume(b);
  }
  bench::result("larson", h);
}
