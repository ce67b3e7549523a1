#include "common/thread_pool.h"
#include "common/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace arle {
namespace {

TEST(ThreadPool, CoversEveryIndexOnceForAnySize) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (std::int64_t count : {0, 1, 2, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
      pool.parallel_for(count, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << threads << " threads, " << count;
    }
  }
}

TEST(ThreadPool, SmallLoopsStayOnTheCallingThread) {
  ThreadPool pool(4);
  std::atomic<int> calls{0};
  pool.parallel_for(10, 100, [&](std::int64_t b, std::int64_t e) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 10);
    calls++;
  });
  EXPECT_EQ(calls.load(), 1);
}

TEST(ThreadPool, ExceptionsReachTheCallerAndThePoolStaysUsable) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(30, 1, [](std::int64_t b, std::int64_t) {
                 if (b > 0) throw std::runtime_error("boom");
               }),
               std::runtime_error);
  std::atomic<std::int64_t> sum{0};
  pool.parallel_for(100, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(ThreadPool, KernelPoolSizeIsConfigurable) {
  set_kernel_threads(3);
  EXPECT_EQ(kernel_thread_pool().size(), 3);
  EXPECT_THROW(set_kernel_threads(0), Error);
  set_kernel_threads(default_kernel_threads());
}

}  // namespace
}  // namespace arle
