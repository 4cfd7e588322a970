// Workload: producer/consumer.
//
// Models a pipeline stage (a log writer, a network send queue, a work queue): one thread
// allocates messages of mixed small sizes and passes them through a queue in batches of 256;
// another thread reads and frees them. Nearly every free is a cross-thread ("remote") free,
// which allocators built around thread-local caches must handle without a lock per operation
// and without memory piling up in the wrong thread's cache.
#include <atomic>
#include <cstring>
#include <thread>
#include "common.hpp"

namespace {

constexpr size_t kSlots = 16, kBatch = 256;  // kSlots: a power of two

// Single-producer single-consumer ring of batches of message pointers.
struct Queue {
  alignas(64) std::atomic<size_t> head{0};  // next batch to read
  alignas(64) std::atomic<size_t> tail{0};  // next batch to write
  alignas(64) char *batch[kSlots][kBatch];
} queue;

void produce(long batches) {
  bench::Rng rng(77);
  for (long b = 0; b <= batches; b++) {  // the last batch is all NULL: the end marker
    size_t t = queue.tail.load(std::memory_order_relaxed);
    while (t - queue.head.load(std::memory_order_acquire) == kSlots) std::this_thread::yield();
    for (size_t i = 0; i < kBatch; i++) {
      char *m = nullptr;
      if (b < batches) {
        size_t size = rng.log_range(16, 512);
        m = static_cast<char *>(std::malloc(size));
        std::memset(m, static_cast<int>(i), size);
        m[0] = static_cast<char>(size);
      }
      queue.batch[t % kSlots][i] = m;
    }
    queue.tail.store(t + 1, std::memory_order_release);
  }
}

uint64_t consume() {
  uint64_t h = 0;
  for (;;) {
    size_t hd = queue.head.load(std::memory_order_relaxed);
    while (queue.tail.load(std::memory_order_acquire) == hd) std::this_thread::yield();
    char **batch = queue.batch[hd % kSlots];
    if (!batch[0]) break;
    for (size_t i = 0; i < kBatch; i++) {
      char *m = batch[i];
      h += bench::mix(static_cast<unsigned char>(m[0]) * 1000003ull + hd * kBatch + i +
                      (static_cast<unsigned char>(m[1]) << 8));
      std::free(m);
    }
    queue.head.store(hd + 1, std::memory_order_release);
  }
  return h;
}

}  // namespace

int main(int argc, char **argv) {
  long batches = bench::scaled(20000000 / kBatch, bench::scale(argc, argv));
  uint64_t h = 0;
  std::thread producer(produce, batches);
  std::thread consumer([&] { h = consume(); });
  producer.join();
  consumer.join();
  bench::result("prodcons", h);
}
