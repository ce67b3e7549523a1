// Device discovery for the doctor, plus a one-block smoke kernel per GPU that
// proves the binary carries code this card can run (a missing sm_XX in the
// fatbin shows up here as "no kernel image is available").
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_probe.h"

namespace arle::kernels::cuda {
namespace {

__global__ void smoke_kernel(int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i * 3 + 1;
}

std::string run_smoke_kernel() {
  constexpr int kN = 256;
  int* device = nullptr;
  if (cudaError_t e = cudaMalloc(&device, kN * sizeof(int)); e != cudaSuccess) return cudaGetErrorString(e);
  smoke_kernel<<<1, kN>>>(device, kN);
  cudaError_t e = cudaGetLastError();
  int host[kN] = {};
  if (e == cudaSuccess) e = cudaMemcpy(host, device, sizeof(host), cudaMemcpyDeviceToHost);
  cudaFree(device);
  if (e != cudaSuccess) return cudaGetErrorString(e);
  for (int i = 0; i < kN; ++i) {
    if (host[i] != i * 3 + 1) return "smoke kernel returned wrong values";
  }
  return "";
}

}  // namespace

CudaProbe probe_cuda() {
  CudaProbe probe;
  probe.compiled = true;
  probe.compiled_archs = ARLE_CUDA_ARCHS;
  cudaRuntimeGetVersion(&probe.runtime_version);
  cudaDriverGetVersion(&probe.driver_version);
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    probe.error = cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error state
    return probe;
  }
  for (int i = 0; i < count; ++i) {
    GpuInfo gpu;
    gpu.index = i;
    cudaDeviceProp prop{};
    if (cudaError_t e = cudaGetDeviceProperties(&prop, i); e != cudaSuccess) {
      gpu.error = cudaGetErrorString(e);
      probe.gpus.push_back(gpu);
      continue;
    }
    gpu.name = prop.name;
    gpu.compute_major = prop.major;
    gpu.compute_minor = prop.minor;
    gpu.multiprocessors = prop.multiProcessorCount;
    gpu.memory_total_bytes = prop.totalGlobalMem;
    if (cudaSetDevice(i) == cudaSuccess) {
      size_t free_bytes = 0, total_bytes = 0;
      if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) gpu.memory_free_bytes = free_bytes;
      gpu.error = run_smoke_kernel();
      gpu.kernel_ok = gpu.error.empty();
    }
    probe.gpus.push_back(gpu);
  }
  return probe;
}

}  // namespace arle::kernels::cuda
