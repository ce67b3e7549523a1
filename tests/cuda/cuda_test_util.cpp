#include "cuda_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cuda/device_memory.h"
#include "tensor/float_convert.h"

namespace arle::kernels::cuda {

Tensor random_f32(const Shape& shape, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::empty(shape, DType::kF32);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor rounded(const Tensor& t, DType dtype) {
  Tensor narrow = Tensor::empty(t.shape(), dtype);
  convert_from_f32(t.data<float>(), narrow.raw_data(), dtype, static_cast<std::size_t>(t.numel()));
  return narrow.to_f32();
}

Tensor poisoned(const Shape& shape, DType dtype) {
  Tensor t = device_empty(shape, dtype);
  fill_bytes(t, 0xFF);
  return t;
}

double relative_error(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  double diff = 0, norm = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    const double g = got.data<float>()[i], w = want.data<float>()[i];
    if (!std::isfinite(g)) {
      ADD_FAILURE() << "element " << i << " is not finite (never written?)";
      return INFINITY;
    }
    diff += (g - w) * (g - w);
    norm += w * w;
  }
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

double tolerance(DType dtype) { return dtype == DType::kBF16 ? 1e-2 : 1e-5; }

}  // namespace arle::kernels::cuda
