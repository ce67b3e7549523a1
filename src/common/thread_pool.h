#pragma once
// ThreadPool: a fixed set of workers that run one parallel_for at a time.
// The caller's thread takes the first share, so a pool of N threads starts
// N-1 workers and a pool of 1 runs everything inline with no synchronisation.
//
// Work is split statically into contiguous ranges: which thread computes an
// element never changes what it computes, so kernels stay deterministic
// whatever the thread count. Workers spin briefly before sleeping, because
// decode steps issue many small parallel_fors back to back.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace arle {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint ranges covering [0, count); returns when
  // all are done. Ranges hold at least `grain` items (except the last), so
  // small loops stay on the calling thread. Not reentrant: fn must not call
  // parallel_for on the same pool. The first exception thrown by fn is
  // rethrown here after every range has finished.
  void parallel_for(std::int64_t count, std::int64_t grain,
                    const std::function<void(std::int64_t, std::int64_t)>& fn);

 private:
  void worker_loop(int index);
  void run_share(int share, int shares);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stopping_ = false;

  // The job of the current generation.
  const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
  std::int64_t job_count_ = 0;
  int job_shares_ = 0;
  std::exception_ptr job_error_;
  std::mutex error_mutex_;
};

// The process-wide pool kernels run on; sized by set_kernel_threads() before
// first use (default: ARLE_THREADS or the hardware thread count).
ThreadPool& kernel_thread_pool();
void set_kernel_threads(int threads);
int default_kernel_threads();

}  // namespace arle
