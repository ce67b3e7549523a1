#pragma once
// Helpers of the CUDA op tests: random inputs, the values a dtype keeps,
// outputs poisoned with NaN (an element a kernel never wrote fails the
// check), and the relative L2 error the tests bound.

#include <cstdint>

#include "tensor/tensor.h"

namespace arle::kernels::cuda {

Tensor random_f32(const Shape& shape, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f);
// The values the device sees: rounded through `dtype`.
Tensor rounded(const Tensor& t, DType dtype);
// A device tensor of NaNs.
Tensor poisoned(const Shape& shape, DType dtype);
// Relative L2 error of `got` against `want` (host float32); every element
// must be finite.
double relative_error(const Tensor& got, const Tensor& want);
// 1e-2 for bf16 paths, 1e-5 for float32.
double tolerance(DType dtype);

}  // namespace arle::kernels::cuda
