#include "model/cuda_graphs.h"

#include <cuda_runtime_api.h>

#include "common/error.h"
#include "common/log.h"
#include "kernels/cuda/cuda_error.h"

namespace arle::model {

CudaGraphs::~CudaGraphs() { clear(); }

std::int64_t CudaGraphs::bucket_for(std::int64_t rows) {
  if (rows <= 0 || rows > kMaxRows) return 0;
  if (rows <= 8) {
    std::int64_t b = 1;
    while (b < rows) b *= 2;
    return b;
  }
  return (rows + 7) / 8 * 8;
}

void CudaGraphs::clear() {
  for (auto& [bucket, g] : graphs_) {
    if (g.exec) cudaGraphExecDestroy(g.exec);
  }
  graphs_.clear();
}

void CudaGraphs::run(std::int64_t bucket, std::uint64_t key, CUstream_st* stream,
                     const std::function<void()>& enqueue) {
  Graph& g = graphs_[bucket];
  if (!g.exec || g.key != key) {
    if (g.exec) ARLE_CUDA_CHECK(cudaGraphExecDestroy(g.exec));
    g.exec = nullptr;
    cudaGraph_t graph = nullptr;
    // Thread-local mode: other threads' unrelated CUDA calls stay legal.
    ARLE_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue();
    } catch (...) {
      cudaStreamEndCapture(stream, &graph);
      if (graph) cudaGraphDestroy(graph);
      graphs_.erase(bucket);
      throw;
    }
    ARLE_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    if (status != cudaSuccess) {
      graphs_.erase(bucket);
      ARLE_CUDA_CHECK(status);
    }
    g.exec = exec;
    g.key = key;
    log::debug("captured the decode graph for {} rows", bucket);
  }
  ARLE_CUDA_CHECK(cudaGraphLaunch(g.exec, stream));
}

}  // namespace arle::model
