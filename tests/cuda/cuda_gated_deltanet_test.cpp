// Qwen3.5's linear-attention kernels on the GPU against the CPU: the conv1d
// with windows carried across two calls (sequences of 1 to 40 rows, slots
// out of order), the q/k norms and gates, the gated delta rule (recurrent
// over up to 70 rows, state carried across calls, key/value dims 16 and
// 128, two value heads per key head), the gated RMSNorm, the sigmoid
// output gate and the shared expert's gated add. Outputs are poisoned first.
// Runs on the GPU machine.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.h"
#include "cuda_test_util.h"
#include "kernels/cpu/causal_conv1d.h"
#include "kernels/cpu/gated_delta_rule.h"
#include "kernels/cuda/cuda_probe.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/gated_deltanet.h"

namespace arle::kernels::cuda {
namespace {

class GatedDeltaNet : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    const CudaProbe probe = probe_cuda();
    ASSERT_FALSE(probe.gpus.empty()) << "no CUDA device: " << probe.error;
  }
  DType dtype() const { return GetParam(); }
};

// Row-to-sequence lists for sequence lengths.
std::vector<std::int32_t> row_sequences(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int32_t> out;
  for (std::size_t s = 0; s < lengths.size(); ++s) out.insert(out.end(), lengths[s], static_cast<std::int32_t>(s));
  return out;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST_P(GatedDeltaNet, ConvCarriesEachSequencesWindowAcrossCalls) {
  const std::int64_t channels = 300, kernel = 4, slots = 3;
  const std::vector<std::int32_t> slot_of = {2, 0, 1};
  const Tensor w = random_f32({channels, kernel}, 1);
  Tensor windows = random_f32({slots, kernel - 1, channels}, 2);  // as if earlier calls left them
  const Tensor w_dev = to_device(w, DType::kF32);
  const Tensor windows_dev = to_device(windows, DType::kF32);
  std::uint32_t seed = 3;
  for (const std::vector<std::int64_t>& lengths : {std::vector<std::int64_t>{1, 5, 40}, {3, 1, 2}}) {
    const std::vector<std::int32_t> rows = row_sequences(lengths);
    const auto n = static_cast<std::int64_t>(rows.size());
    const Tensor wide = rounded(random_f32({n, channels + 8}, seed++, -2.0f, 2.0f), dtype());
    const Tensor x = wide.narrow_cols(0, channels);
    Tensor want = Tensor::empty({n, channels}, DType::kF32);
    std::int64_t begin = 0;
    for (std::size_t s = 0; s < lengths.size(); ++s) {
      cpu::causal_conv1d_silu(x.data<float>() + begin * x.row_stride(), x.row_stride(), lengths[s], channels,
                              w.data<float>(), kernel, windows.data<float>() + slot_of[s] * (kernel - 1) * channels,
                              want.data<float>() + begin * channels, channels);
      begin += lengths[s];
    }
    const Tensor out = poisoned({n, channels}, DType::kF32);
    causal_conv1d_silu(to_device(wide, dtype()).narrow_cols(0, channels), w_dev, upload_state_batch(rows, slot_of),
                       windows_dev, out);
    EXPECT_LT(relative_error(to_host_f32(out), want), 1e-5);
    EXPECT_LT(relative_error(to_host_f32(windows_dev), windows), 1e-7);
  }
}

TEST_P(GatedDeltaNet, GatesNormaliseQAndKAndMatchTheCpuFormulas) {
  for (const std::int64_t dk : {16, 128}) {
    const std::int64_t rows = 7, hk = 2, hv = 4, width = 2 * hk * dk + hv * 16;
    Tensor mixed = random_f32({rows, width}, 4, -3.0f, 3.0f);
    const Tensor proj = rounded(random_f32({rows, 2 * hv + 5}, 5, -4.0f, 4.0f), dtype());
    const Tensor neg_exp_a = random_f32({hv}, 6, -2.0f, -0.1f), dt_bias = random_f32({hv}, 7);
    const Tensor mixed_dev = to_device(mixed, DType::kF32), proj_dev = to_device(proj, dtype());
    const Tensor beta = poisoned({rows, hv}, DType::kF32), g = poisoned({rows, hv}, DType::kF32);
    gdn_gates(mixed_dev, hk, dk, proj_dev.narrow_cols(0, hv), proj_dev.narrow_cols(hv, 2 * hv),
              to_device(neg_exp_a, DType::kF32), to_device(dt_bias, DType::kF32), beta, g);
    Tensor want_beta = Tensor::empty({rows, hv}, DType::kF32), want_g = Tensor::empty({rows, hv}, DType::kF32);
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t h = 0; h < 2 * hk; ++h) {
        float* head = mixed.data<float>() + r * width + h * dk;
        float sum = 0.0f;
        for (std::int64_t i = 0; i < dk; ++i) sum += head[i] * head[i];
        const float inv = (h < hk ? 1.0f / std::sqrt(static_cast<float>(dk)) : 1.0f) / std::sqrt(sum + 1e-6f);
        for (std::int64_t i = 0; i < dk; ++i) head[i] *= inv;
      }
      for (std::int64_t h = 0; h < hv; ++h) {
        const float b = proj.data<float>()[r * proj.row_stride() + h];
        const float a = proj.data<float>()[r * proj.row_stride() + hv + h] + dt_bias.data<float>()[h];
        want_beta.data<float>()[r * hv + h] = sigmoid(b);
        want_g.data<float>()[r * hv + h] = neg_exp_a.data<float>()[h] * (a > 20.0f ? a : std::log1p(std::exp(a)));
      }
    }
    EXPECT_LT(relative_error(to_host_f32(mixed_dev), mixed), 1e-6) << "dk " << dk;
    EXPECT_LT(relative_error(to_host_f32(beta), want_beta), 1e-6);
    EXPECT_LT(relative_error(to_host_f32(g), want_g), 1e-6);
  }
}

// q and k L2-normalised as gdn_gates leaves them, g in [-1, 0), beta in (0, 1).
Tensor delta_rule_inputs(std::int64_t rows, std::int64_t hk, std::int64_t dk, std::int64_t width, std::uint32_t seed) {
  Tensor mixed = random_f32({rows, width}, seed);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t h = 0; h < 2 * hk; ++h) {
      float* head = mixed.data<float>() + r * width + h * dk;
      float sum = 0.0f;
      for (std::int64_t i = 0; i < dk; ++i) sum += head[i] * head[i];
      for (std::int64_t i = 0; i < dk; ++i) head[i] /= std::sqrt(sum);
    }
  }
  return mixed;
}

TEST(GatedDeltaRule, MatchesTheCpuRecurrenceAndCarriesTheState) {
  ASSERT_FALSE(probe_cuda().gpus.empty());
  struct Case {
    std::int64_t dk, dv;
  };
  for (const Case c : {Case{16, 16}, Case{128, 128}, Case{128, 200}}) {
    SCOPED_TRACE(::testing::Message() << "dk " << c.dk << " dv " << c.dv);
    const std::int64_t hk = 2, hv = 4, slots = 4, width = 2 * hk * c.dk + hv * c.dv;
    const std::vector<std::int32_t> slot_of = {3, 0, 2};
    Tensor state = random_f32({slots, hv, c.dk, c.dv}, 8, -0.1f, 0.1f);
    const Tensor state_dev = to_device(state, DType::kF32);
    std::uint32_t seed = 9;
    for (const std::vector<std::int64_t>& lengths : {std::vector<std::int64_t>{1, 2, 70}, {1, 1, 1}}) {
      const std::vector<std::int32_t> rows = row_sequences(lengths);
      const auto n = static_cast<std::int64_t>(rows.size());
      const Tensor mixed = delta_rule_inputs(n, hk, c.dk, width, seed++);
      const Tensor g = random_f32({n, hv}, seed++, -1.0f, -0.01f), beta = random_f32({n, hv}, seed++, 0.01f, 0.99f);
      Tensor want = Tensor::empty({n, hv * c.dv}, DType::kF32);
      std::int64_t begin = 0;
      for (std::size_t s = 0; s < lengths.size(); ++s) {
        const float* m = mixed.data<float>() + begin * width;
        for (std::int64_t j = 0; j < hv; ++j) {
          const std::int64_t kh = j / (hv / hk);
          const cpu::DeltaRuleInputs in{m + kh * c.dk,
                                        m + hk * c.dk + kh * c.dk,
                                        m + 2 * hk * c.dk + j * c.dv,
                                        g.data<float>() + begin * hv + j,
                                        beta.data<float>() + begin * hv + j,
                                        width,
                                        width,
                                        width,
                                        hv,
                                        lengths[s],
                                        c.dk,
                                        c.dv};
          cpu::gated_delta_rule_recurrent(in, state.data<float>() + (slot_of[s] * hv + j) * c.dk * c.dv,
                                          want.data<float>() + begin * hv * c.dv + j * c.dv, hv * c.dv);
        }
        begin += lengths[s];
      }
      const Tensor out = poisoned({n, hv * c.dv}, DType::kF32);
      gated_delta_rule(to_device(mixed, DType::kF32), hk, c.dk, hv, c.dv, to_device(g, DType::kF32),
                       to_device(beta, DType::kF32), upload_state_batch(rows, slot_of), state_dev, out);
      EXPECT_LT(relative_error(to_host_f32(out), want), 1e-5);
      EXPECT_LT(relative_error(to_host_f32(state_dev), state), 1e-5);
    }
  }
}

TEST_P(GatedDeltaNet, GatedRmsNormAndSigmoidGateMatchTheCpuFormulas) {
  const std::int64_t rows = 5, heads = 3, dv = 128, width = heads * dv;
  const Tensor core = random_f32({rows, width}, 20, -2.0f, 2.0f);
  const Tensor zwide = rounded(random_f32({rows, width + 8}, 21, -3.0f, 3.0f), dtype());
  const Tensor w = random_f32({dv}, 22);
  Tensor want = Tensor::empty({rows, width}, DType::kF32);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const float* c = core.data<float>() + r * width + h * dv;
      float sum = 0.0f;
      for (std::int64_t i = 0; i < dv; ++i) sum += c[i] * c[i];
      const float inv = 1.0f / std::sqrt(sum / static_cast<float>(dv) + 1e-6f);
      for (std::int64_t i = 0; i < dv; ++i) {
        const float z = zwide.data<float>()[r * zwide.row_stride() + h * dv + i];
        want.data<float>()[r * width + h * dv + i] = c[i] * inv * w.data<float>()[i] * z * sigmoid(z);
      }
    }
  }
  const Tensor out = poisoned({rows, width}, dtype());
  gated_rms_norm(to_device(core, DType::kF32), to_device(zwide, dtype()).narrow_cols(0, width),
                 to_device(w, DType::kF32), dv, 1e-6f, out);
  EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype()));

  const Tensor x = rounded(random_f32({rows, 333}, 23), dtype());
  const Tensor gate_wide = rounded(random_f32({rows, 400}, 24, -5.0f, 5.0f), dtype());
  Tensor want_x = x.to_f32();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t i = 0; i < 333; ++i) {
      want_x.data<float>()[r * 333 + i] *= sigmoid(gate_wide.data<float>()[r * 400 + 50 + i]);
    }
  }
  const Tensor x_dev = to_device(x, dtype());
  sigmoid_mul(x_dev, to_device(gate_wide, dtype()).narrow_cols(50, 383));
  EXPECT_LT(relative_error(to_host_f32(x_dev), want_x), tolerance(dtype()));

  // The shared expert's gated add.
  const Tensor y = rounded(random_f32({rows, 333}, 25), dtype());
  const Tensor logit = random_f32({rows, 1}, 26, -3.0f, 3.0f);
  Tensor want_sum = want_x.to_f32();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t i = 0; i < 333; ++i) {
      want_sum.data<float>()[r * 333 + i] += sigmoid(logit.data<float>()[r]) * y.data<float>()[r * 333 + i];
    }
  }
  add_sigmoid_scaled(x_dev, to_device(y, dtype()), to_device(logit, DType::kF32));
  EXPECT_LT(relative_error(to_host_f32(x_dev), want_sum), tolerance(dtype()));
}

TEST(GatedDeltaNetShapes, BadInputsAreErrors) {
  ASSERT_FALSE(probe_cuda().gpus.empty());
  const Tensor mixed = device_empty({2, 64}, DType::kF32), out = device_empty({2, 32}, DType::kF32);
  const Tensor g = device_empty({2, 2}, DType::kF32), state = device_empty({1, 2, 8, 16}, DType::kF32);
  const StateBatch batch = upload_state_batch({0, 0}, {0});
  EXPECT_NO_THROW(gated_delta_rule(mixed, 1, 8, 2, 16, g, g, batch, state, out));
  EXPECT_THROW(gated_delta_rule(mixed, 1, 256, 2, 16, g, g, batch, state, out), Error);  // key_dim > 128
  EXPECT_THROW(gated_delta_rule(mixed, 2, 8, 3, 16, g, g, batch, state, out), Error);    // 3 % 2
  EXPECT_THROW(upload_state_batch({0, 1, 0}, {0, 1}), Error);                            // rows apart
  EXPECT_THROW(upload_state_batch({1}, {0, 1}), Error);                                  // not from 0
  EXPECT_THROW(sigmoid_mul(device_empty({2, 4}, DType::kBF16), device_empty({2, 4}, DType::kF32)), Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GatedDeltaNet, ::testing::Values(DType::kBF16, DType::kF32),
                         [](const auto& info) { return info.param == DType::kBF16 ? "bf16" : "f32"; });

}  // namespace
}  // namespace arle::kernels::cuda
