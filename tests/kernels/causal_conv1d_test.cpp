// The causal depthwise conv1d + SiLU of Qwen3.5's linear-attention layers:
// against the definition in double precision, and split calls (chunked
// prefill, one-token decode) against one call through the carried window.
#include "kernels/cpu/causal_conv1d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernel_test_util.h"

namespace arle::testing {
namespace {

TEST(CausalConv1d, MatchesTheDefinitionAndCarriesItsWindow) {
  const std::int64_t channels = 11, kernel = 4, tokens = 23, ldx = channels + 2;
  const std::vector<float> x = random_floats(static_cast<std::size_t>(tokens * ldx), 3);
  const std::vector<float> w = random_floats(static_cast<std::size_t>(channels * kernel), 4);
  std::vector<double> want;
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t c = 0; c < channels; ++c) {
      double s = 0;
      for (std::int64_t i = 0; i < kernel; ++i) {
        const std::int64_t p = t - (kernel - 1) + i;  // zeros before the sequence
        if (p >= 0) s += static_cast<double>(w[c * kernel + i]) * x[p * ldx + c];
      }
      want.push_back(s / (1 + std::exp(-s)));
    }
  }
  // One call from a fresh (zero) window.
  std::vector<float> window((kernel - 1) * channels, 0.0f), got(tokens * channels);
  kernels::cpu::causal_conv1d_silu(x.data(), ldx, tokens, channels, w.data(), kernel, window.data(), got.data(),
                                   channels);
  expect_close(got, want, 1e-5, 1e-5, "one call");
  // The final window holds the last kernel - 1 inputs.
  for (std::int64_t r = 0; r < kernel - 1; ++r) {
    for (std::int64_t c = 0; c < channels; ++c) {
      EXPECT_EQ(window[r * channels + c], x[(tokens - (kernel - 1) + r) * ldx + c]);
    }
  }
  // Chunks of 1, 2, 7, then one token at a time.
  std::fill(window.begin(), window.end(), 0.0f);
  std::vector<float> split(tokens * channels);
  std::int64_t first = 0;
  for (const std::int64_t n : {1, 2, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) {
    kernels::cpu::causal_conv1d_silu(x.data() + first * ldx, ldx, n, channels, w.data(), kernel, window.data(),
                                     split.data() + first * channels, channels);
    first += n;
  }
  ASSERT_EQ(first, tokens);
  expect_close(split, want, 1e-5, 1e-5, "split calls");
}

}  // namespace
}  // namespace arle::testing
