// Workload: producer/consumer.
//
// Models a pipeline stage (a log writer, a network send queue, a work queue): one thread
// allocates messages of mixed small sizes and passes them through a queue; another thread reads
// and frees them. Nearly every free is a cross-thread ("remote") free, which allocators built
// around thread-local caches must handle without locks on every operation or unbounded growth.
// Two such pairs run at once (4 threads) so the remote-free paths also contend.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>
#include "common.hpp"

namespace {

constexpr size_t kRing = 4096;  // power of two

// Single-producer single-consumer ring of pointers.
struct Queue {
  alignas(64) std::atomic<size_t> head{0};  // next slot to read
  alignas(64) std::atomic<size_t> tail{0};  // next slot to write
  alignas(64) char *slot[kRing];
};

void produce(Queue *q, long n, uint64_t seed) {
  bench::Rng rng(seed);
  for (long i = 0; i < n; i++) {
    size_t size = rng.log_range(16, 512);
    char *m = static_cast<char *>(std::malloc(size));
    std::memset(m, static_cast<int>(i), size);
    m[0] = static_cast<char>(size);  // size fits in a byte only modulo 256: fine for a check
    m[size - 1] = static_cast<char>(i ^ 0x5a);
    size_t t = q->tail.load(std::memory_order_relaxed);
    while (t - q->head.load(std::memory_order_acquire) == kRing) std::this_thread::yield();
    q->slot[t % kRing] = m;
    q->tail.store(t + 1, std::memory_order_release);
  }
  // end marker
  size_t t = q->tail.load(std::memory_order_relaxed);
  while (t - q->head.load(std::memory_order_acquire) == kRing) std::this_thread::yield();
  q->slot[t % kRing] = nullptr;
  q->tail.store(t + 1, std::memory_order_release);
}

void consume(Queue *q, uint64_t *out) {
  uint64_t h = 0;
  for (long i = 0;; i++) {
    size_t hd = q->head.load(std::memory_order_relaxed);
    while (q->tail.load(std::memory_order_acquire) == hd) std::this_thread::yield();
    char *m = q->slot[hd % kRing];
    q->head.store(hd + 1, std::memory_order_release);
    if (!m) break;
    h += bench::mix(static_cast<unsigned char>(m[0]) * 1000003ull + i +
                    (static_cast<unsigned char>(m[1]) << 8));
    std::free(m);
  }
  *out = h;
}

}  // namespace

int main(int argc, char **argv) {
  long n = bench::scaled(20000000, bench::scale(argc, argv));
  constexpr int kPairs = 1;
  std::vector<Queue *> queues;
  uint64_t sums[kPairs] = {};
  std::vector<std::thread> threads;
  for (int p = 0; p < kPairs; p++) {
    queues.push_back(new Queue);
    threads.emplace_back(produce, queues[p], n, 77 + p);
    threads.emplace_back(consume, queues[p], &sums[p]);
  }
  for (auto &t : threads) t.join();
  uint64_t h = 0;
  for (int p = 0; p < kPairs; p++) h += sums[p] * (p + 1), delete queues[p];
  bench::result("prodcons", h);
}
