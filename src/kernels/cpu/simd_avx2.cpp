// The avx2 kernel set: see simd_kernels.h. Tile 2x3 fits the register file.
#define ARLE_SIMD_AVX2 1
#define ARLE_SIMD_NAMESPACE avx2
#include "kernels/cpu/simd_kernels_impl.h"

namespace arle::kernels::cpu {

const SimdKernels& avx2_kernels() {
  static const SimdKernels kernels{"avx2", &avx2::dot_rows_tiled<2, 3>, &avx2::dot, &avx2::axpy, &avx2::attend};
  return kernels;
}

}  // namespace arle::kernels::cpu
