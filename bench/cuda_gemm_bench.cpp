// The card's bf16 matmul rate through our cuBLASLt wrapper: TFLOP/s for a
// square GEMM and for the projection shapes of Qwen3-0.6B and Qwen3-4B at
// decode (M = 1, 64) and prefill (M = 4096) sizes. Timed with CUDA events,
// median of 20 runs after 5 warm-ups. Prints a table.
//
//   cuda_gemm_bench
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "kernels/cuda/cublaslt_gemm.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_memory.h"

using namespace arle;
using namespace arle::kernels::cuda;

namespace {

struct Shape3 {
  const char* name;
  std::int64_t m, n, k;
};

double median_ms(CublasLtGemm& gemm, const Tensor& x, const Tensor& w, const Tensor& y) {
  cudaEvent_t start, stop;
  ARLE_CUDA_CHECK(cudaEventCreate(&start));
  ARLE_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < 5; ++i) gemm.linear(x, w, Tensor(), y);
  std::vector<float> times;
  for (int i = 0; i < 20; ++i) {
    ARLE_CUDA_CHECK(cudaEventRecord(start));
    gemm.linear(x, w, Tensor(), y);
    ARLE_CUDA_CHECK(cudaEventRecord(stop));
    ARLE_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    ARLE_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return times[times.size() / 2];
}

}  // namespace

int main() {
  cudaDeviceProp prop{};
  ARLE_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  fmt::print("{} ({} SMs)\n", prop.name, prop.multiProcessorCount);
  const std::vector<Shape3> shapes = {
      {"square 8192", 8192, 8192, 8192},
      {"0.6B qkv, M=4096", 4096, 4096, 1024},
      {"0.6B gate_up, M=4096", 4096, 6144, 1024},
      {"0.6B down, M=4096", 4096, 1024, 3072},
      {"0.6B lm_head, M=1", 1, 151936, 1024},
      {"0.6B gate_up, M=1", 1, 6144, 1024},
      {"0.6B gate_up, M=64", 64, 6144, 1024},
      {"4B qkv, M=4096", 4096, 6144, 2560},
      {"4B gate_up, M=4096", 4096, 19456, 2560},
      {"4B down, M=4096", 4096, 2560, 9728},
      {"4B gate_up, M=1", 1, 19456, 2560},
      {"4B gate_up, M=64", 64, 19456, 2560},
  };
  CublasLtGemm gemm;
  fmt::print("{:<24} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10}\n", "shape", "M", "N", "K", "ms", "TFLOP/s", "GB/s");
  for (const Shape3& s : shapes) {
    const Tensor x = device_empty({s.m, s.k}, DType::kBF16);
    const Tensor w = device_empty({s.n, s.k}, DType::kBF16);
    const Tensor y = device_empty({s.m, s.n}, DType::kBF16);
    fill_bytes(x, 0x3C);  // small finite bf16 values
    fill_bytes(w, 0x3C);
    const double ms = median_ms(gemm, x, w, y);
    const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
    const double bytes = 2.0 * static_cast<double>(s.m * s.k + s.n * s.k + s.m * s.n);
    fmt::print("{:<24} {:>8} {:>8} {:>8} {:>10.4f} {:>10.1f} {:>10.0f}\n", s.name, s.m, s.n, s.k, ms,
               flops / ms / 1e9, bytes / ms / 1e6);
  }
}
