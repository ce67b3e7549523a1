// The avx512 kernel set: see simd_kernels.h. Tile 4x4 fits the register file.
#define ARLE_SIMD_AVX512 1
#define ARLE_SIMD_NAMESPACE avx512
#include "kernels/cpu/simd_kernels_impl.h"

namespace arle::kernels::cpu {

const SimdKernels& avx512_kernels() {
  static const SimdKernels kernels{"avx512", &avx512::dot_rows_tiled<4, 4>, &avx512::dot, &avx512::axpy, &avx512::attend};
  return kernels;
}

}  // namespace arle::kernels::cpu
