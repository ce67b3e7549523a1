#include "common/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/error.h"

namespace arle {
namespace {

// About 20-50 microseconds of polling: long enough to catch the next layer's
// kernel during a decode step, short enough not to burn a core when idle.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_share(int share, int shares) {
  const std::int64_t begin = job_count_ * share / shares;
  const std::int64_t end = job_count_ * (share + 1) / shares;
  if (begin >= end) return;
  try {
    (*job_)(begin, end);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!job_error_) job_error_ = std::current_exception();
  }
}

void ThreadPool::worker_loop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    std::uint64_t now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpinIterations; ++spin) {
      cpu_relax();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    if (index < job_shares_) run_share(index, job_shares_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(std::int64_t count, std::int64_t grain,
                              const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (count <= 0) return;
  grain = std::max<std::int64_t>(1, grain);
  const int shares = static_cast<int>(std::min<std::int64_t>(size(), (count + grain - 1) / grain));
  if (shares <= 1) {
    fn(0, count);
    return;
  }
  job_ = &fn;
  job_count_ = count;
  job_shares_ = shares;
  job_error_ = nullptr;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_share(0, shares);
  while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
  job_ = nullptr;
  if (job_error_) std::rethrow_exception(job_error_);
}

namespace {

std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
int& requested_threads() {
  static int threads = 0;
  return threads;
}

}  // namespace

int default_kernel_threads() {
  if (const char* env = std::getenv("ARLE_THREADS")) {
    char* end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || value < 1 || value > 1024) {
      throw_error(ErrorCode::kInvalidArgument, "ARLE_THREADS '{}' is not a thread count from 1 to 1024", env);
    }
    return static_cast<int>(value);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void set_kernel_threads(int threads) {
  if (threads < 1 || threads > 1024) {
    throw_error(ErrorCode::kInvalidArgument, "thread count {} is not from 1 to 1024", threads);
  }
  requested_threads() = threads;
  pool_slot().reset();
}

ThreadPool& kernel_thread_pool() {
  std::unique_ptr<ThreadPool>& pool = pool_slot();
  if (!pool) pool = std::make_unique<ThreadPool>(requested_threads() > 0 ? requested_threads() : default_kernel_threads());
  return *pool;
}

}  // namespace arle
