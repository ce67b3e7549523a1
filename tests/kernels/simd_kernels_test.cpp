// The three SIMD kernel sets against float64, and against themselves: an
// element's value must not depend on the tile it was computed in.
#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/simd_kernels.h"

namespace arle::testing {
namespace {

using kernels::cpu::SimdKernels;

std::vector<const SimdKernels*> available_sets() {
  std::vector<const SimdKernels*> sets{&kernels::cpu::scalar_kernels()};
  const auto level = kernels::cpu::simd_level();
  if (level != kernels::cpu::SimdLevel::kScalar) sets.push_back(&kernels::cpu::avx2_kernels());
  if (level == kernels::cpu::SimdLevel::kAvx512) sets.push_back(&kernels::cpu::avx512_kernels());
  return sets;
}

TEST(SimdKernels, DotRowsMatchFloat64AtOddSizes) {
  for (const SimdKernels* simd : available_sets()) {
    for (std::int64_t k : {1, 7, 15, 16, 17, 33, 100, 257}) {
      const std::int64_t m = 5, n = 7, ldx = k + 3, ldw = k + 1;
      auto x = random_floats(static_cast<std::size_t>(m * ldx), 1);
      auto w = random_floats(static_cast<std::size_t>(n * ldw), 2);
      std::vector<float> out(static_cast<std::size_t>(m * n));
      simd->dot_rows(x.data(), ldx, m, w.data(), ldw, n, k, out.data(), n);
      std::vector<double> want(out.size());
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j)
          for (std::int64_t p = 0; p < k; ++p) want[i * n + j] += double(x[i * ldx + p]) * w[j * ldw + p];
      expect_close(out, want, 1e-5 * std::sqrt(double(k)), 1e-5, std::string(simd->name) + " k=" + std::to_string(k));
    }
  }
}

TEST(SimdKernels, TileShapeDoesNotChangeBits) {
  for (const SimdKernels* simd : available_sets()) {
    const std::int64_t m = 9, n = 13, k = 75;
    auto x = random_floats(static_cast<std::size_t>(m * k), 3);
    auto w = random_floats(static_cast<std::size_t>(n * k), 4);
    std::vector<float> block(static_cast<std::size_t>(m * n));
    simd->dot_rows(x.data(), k, m, w.data(), k, n, k, block.data(), n);
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        const float single = simd->dot(x.data() + i * k, w.data() + j * k, k);
        ASSERT_EQ(std::memcmp(&single, &block[i * n + j], sizeof(float)), 0) << simd->name << " " << i << "," << j;
      }
    }
  }
}

TEST(SimdKernels, AxpyMatchesFloat64) {
  for (const SimdKernels* simd : available_sets()) {
    for (std::int64_t n : {1, 8, 16, 19, 40}) {
      auto x = random_floats(static_cast<std::size_t>(n), 5);
      auto y = random_floats(static_cast<std::size_t>(n), 6);
      std::vector<double> want(y.begin(), y.end());
      for (std::int64_t i = 0; i < n; ++i) want[i] += 0.75 * x[i];
      simd->axpy(0.75f, x.data(), y.data(), n);
      expect_close(y, want, 1e-6, 1e-6, simd->name);
    }
  }
}

TEST(SimdKernels, UnknownOrUnavailableSetIsAnError) {
  EXPECT_THROW(kernels::cpu::use_simd_kernels("neon"), Error);
  kernels::cpu::use_simd_kernels("scalar");
  EXPECT_STREQ(kernels::cpu::simd_kernels().name, "scalar");
  kernels::cpu::use_simd_kernels(available_sets().back()->name);
}

}  // namespace
}  // namespace arle::testing
