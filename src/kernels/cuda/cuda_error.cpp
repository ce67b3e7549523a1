#include "kernels/cuda/cuda_error.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include "common/error.h"

namespace arle::kernels::cuda {

void throw_cuda_error(int code, const char* call, const char* file, int line) {
  const auto e = static_cast<cudaError_t>(code);
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw_error(e == cudaErrorMemoryAllocation ? ErrorCode::kOutOfMemory : ErrorCode::kInternal, "{} failed: {} ({}:{})",
              call, cudaGetErrorString(e), file, line);
}

void throw_cublas_error(int status, const char* call, const char* file, int line) {
  const auto s = static_cast<cublasStatus_t>(status);
  throw_error(s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::kOutOfMemory : ErrorCode::kInternal,
              "{} failed: cuBLAS status {} ({}:{})", call, cublasLtGetStatusString(s), file, line);
}

}  // namespace arle::kernels::cuda
