#pragma once
// CudaGraphs: decode steps captured once per batch-size bucket and replayed.
// A step's launches (a few hundred, each a few microseconds of CPU) become
// one graph launch. What a graph bakes in (buffer addresses, grid sizes, GEMM
// plans) is named by a key; a step with a new key for its bucket is captured
// again. Built only with ARLE_CUDA.

#include <cstdint>
#include <functional>
#include <map>

struct CUstream_st;
struct CUgraphExec_st;

namespace arle::model {

class CudaGraphs {
 public:
  CudaGraphs() = default;
  CudaGraphs(const CudaGraphs&) = delete;
  CudaGraphs& operator=(const CudaGraphs&) = delete;
  ~CudaGraphs();

  // The padded batch size a step of `rows` rows runs at: 1, 2, 4, 8, then
  // multiples of 8 up to kMaxRows; 0 past it (run eagerly).
  static std::int64_t bucket_for(std::int64_t rows);
  static constexpr std::int64_t kMaxRows = 512;

  // Replays the graph of `bucket` when its key matches; else captures
  // `enqueue` (which must only enqueue work on `stream`) and replays that.
  void run(std::int64_t bucket, std::uint64_t key, CUstream_st* stream, const std::function<void()>& enqueue);
  std::int64_t captured() const { return static_cast<std::int64_t>(graphs_.size()); }
  void clear();

 private:
  struct Graph {
    CUgraphExec_st* exec = nullptr;
    std::uint64_t key = 0;
  };
  std::map<std::int64_t, Graph> graphs_;
};

}  // namespace arle::model
