#pragma once
// What the CUDA backend sees: whether it was compiled in, the runtime and
// driver versions, and every visible GPU. Plain C++ so that CPU-only builds
// (which link cuda_probe_stub.cpp instead) and the doctor share one API.

#include <cstdint>
#include <string>
#include <vector>

namespace arle::kernels::cuda {

struct GpuInfo {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  std::uint64_t memory_total_bytes = 0;
  std::uint64_t memory_free_bytes = 0;
  int multiprocessors = 0;
  bool kernel_ok = false;  // a test kernel ran and returned the right answer
  std::string error;       // why the device or its test kernel failed
};

struct CudaProbe {
  bool compiled = false;
  int runtime_version = 0;  // e.g. 13000
  int driver_version = 0;
  std::string compiled_archs;  // "sm_80 sm_89 sm_90"
  std::string error;           // why no device could be queried
  std::vector<GpuInfo> gpus;
};

// Safe to call on machines without a GPU or driver: failures land in `error`.
CudaProbe probe_cuda();

}  // namespace arle::kernels::cuda
