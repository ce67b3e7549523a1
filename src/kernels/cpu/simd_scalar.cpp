// The scalar kernel set: see simd_kernels.h. Tile 1x4 fits the register file.
#define ARLE_SIMD_NAMESPACE scalar
#include "kernels/cpu/simd_kernels_impl.h"

namespace arle::kernels::cpu {

const SimdKernels& scalar_kernels() {
  static const SimdKernels kernels{"scalar", &scalar::dot_rows_tiled<1, 4>, &scalar::dot, &scalar::axpy, &scalar::attend};
  return kernels;
}

}  // namespace arle::kernels::cpu
