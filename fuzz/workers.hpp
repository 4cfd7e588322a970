// Worker threads of the fuzzer. Each operation runs on one worker, chosen by the input, and
// the caller waits for it: execution is sequential and so reproducible, yet rayalloc sees
// blocks allocated on one thread and freed or grown on another, several thread heaps, and
// threads that exit with live blocks (a worker can be replaced by a fresh thread).
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace fuzz {

class Worker {
 public:
  Worker() { start(); }
  ~Worker() { stop(); }
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  // Runs `job` on this worker's thread and returns when it is done.
  void run(const std::function<void()> &job) {
    std::unique_lock<std::mutex> lock(mu_);
    job_ = &job;
    cv_.notify_all();
    cv_.wait(lock, [this] { return job_ == nullptr; });
  }

  // Thread churn: the current thread exits (its heaps are abandoned), a new one takes over.
  void restart() {
    stop();
    start();
  }

 private:
  void start() {
    quit_ = false;
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return quit_ || job_ != nullptr; });
      if (job_ != nullptr) {
        (*job_)();
        job_ = nullptr;
        cv_.notify_all();
        continue;
      }
      if (quit_) return;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()> *job_ = nullptr;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace fuzz
