// CPU-only builds: the CUDA backend is not compiled in.
#include "kernels/cuda/cuda_probe.h"

namespace arle::kernels::cuda {

CudaProbe probe_cuda() {
  CudaProbe probe;
  probe.error = "this build has no CUDA backend (configure with --preset cuda)";
  return probe;
}

}  // namespace arle::kernels::cuda
