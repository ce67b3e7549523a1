// Qwen3.5's linear-attention kernels on the GPU against the CPU: the conv1d
// with windows carried across two calls (sequences of 1 to 40 rows, slots
// out of order), the q/k norms and gates, the gated delta rule (recurrent
// over up to 70 rows; chunked over up to 2,000 rows against the CPU's
// chunked form and its recurrence; state carried across calls, key/value
// dims 16 to 128 and 200, grouped value heads, padding sequences), the
// gated RMSNorm, the sigmoid
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

// The CPU's delta rule over each sequence of a step (its state in slot
// slot_of[s] of `state`, advanced), in the recurrent or the chunked form.
struct DeltaRuleShape {
  std::int64_t hk, hv, dk, dv;
  std::int64_t width() const { return 2 * hk * dk + hv * dv; }
};
Tensor cpu_delta_rule(const DeltaRuleShape& d, const Tensor& mixed, const Tensor& g, const Tensor& beta,
                      const std::vector<std::int64_t>& lengths, const std::vector<std::int32_t>& slot_of, Tensor& state,
                      bool chunked) {
  const std::int64_t width = d.width(), n = mixed.size(0);
  Tensor want = Tensor::empty({n, d.hv * d.dv}, DType::kF32);
  std::int64_t begin = 0;
  for (std::size_t s = 0; s < lengths.size(); ++s) {
    const float* m = mixed.data<float>() + begin * width;
    for (std::int64_t j = 0; j < d.hv; ++j) {
      const std::int64_t kh = j / (d.hv / d.hk);
      const cpu::DeltaRuleInputs in{m + kh * d.dk,
                                    m + d.hk * d.dk + kh * d.dk,
                                    m + 2 * d.hk * d.dk + j * d.dv,
                                    g.data<float>() + begin * d.hv + j,
                                    beta.data<float>() + begin * d.hv + j,
                                    width,
                                    width,
                                    width,
                                    d.hv,
                                    lengths[s],
                                    d.dk,
                                    d.dv};
      float* slot_state = state.data<float>() + (slot_of[s] * d.hv + j) * d.dk * d.dv;
      float* out = want.data<float>() + begin * d.hv * d.dv + j * d.dv;
      if (chunked) {
        cpu::gated_delta_rule_chunked(in, slot_state, out, d.hv * d.dv);
      } else {
        cpu::gated_delta_rule_recurrent(in, slot_state, out, d.hv * d.dv);
      }
    }
    begin += lengths[s];
  }
  return want;
}

TEST(GatedDeltaRule, MatchesTheCpuRecurrenceAndCarriesTheState) {
  ASSERT_FALSE(probe_cuda().gpus.empty());
  for (const DeltaRuleShape d : {DeltaRuleShape{2, 4, 16, 16}, {2, 4, 128, 128}, {2, 4, 128, 200}}) {
    SCOPED_TRACE(::testing::Message() << "dk " << d.dk << " dv " << d.dv);
    const std::int64_t slots = 4;
    const std::vector<std::int32_t> slot_of = {3, 0, 2};
    Tensor state = random_f32({slots, d.hv, d.dk, d.dv}, 8, -0.1f, 0.1f);
    const Tensor state_dev = to_device(state, DType::kF32);
    std::uint32_t seed = 9;
    for (const std::vector<std::int64_t>& lengths : {std::vector<std::int64_t>{1, 2, 70}, {1, 1, 1}}) {
      const std::vector<std::int32_t> rows = row_sequences(lengths);
      const auto n = static_cast<std::int64_t>(rows.size());
      const Tensor mixed = delta_rule_inputs(n, d.hk, d.dk, d.width(), seed++);
      const Tensor g = random_f32({n, d.hv}, seed++, -1.0f, -0.01f);
      const Tensor beta = random_f32({n, d.hv}, seed++, 0.01f, 0.99f);
      const Tensor want = cpu_delta_rule(d, mixed, g, beta, lengths, slot_of, state, false);
      const Tensor out = poisoned({n, d.hv * d.dv}, DType::kF32);
      gated_delta_rule(to_device(mixed, DType::kF32), d.hk, d.dk, d.hv, d.dv, to_device(g, DType::kF32),
                       to_device(beta, DType::kF32), upload_state_batch(rows, slot_of), state_dev, out, Tensor());
      EXPECT_LT(relative_error(to_host_f32(out), want), 1e-5);
      EXPECT_LT(relative_error(to_host_f32(state_dev), state), 1e-5);
    }
  }
}

// With scratch, sequences of two rows or more run the chunked form: against
// the CPU's chunked form (the same operations) and its recurrence (the
// definition), over lengths on and off the chunk of 64, one-row sequences
// (the recurrent kernel's) in the same step, value dims that are not a
// multiple of the 32-column tile, decays strong enough to underflow within
// a chunk, and the state carried into a second step.
TEST(GatedDeltaRule, ChunkedFormMatchesTheCpuAndCarriesTheState) {
  ASSERT_FALSE(probe_cuda().gpus.empty());
  struct Case {
    DeltaRuleShape d;
    float strongest_decay;
    std::vector<std::vector<std::int64_t>> steps;
  };
  const std::vector<Case> cases = {
      {{2, 4, 16, 16}, -1.0f, {{2, 1, 65, 130}, {64, 63, 1, 200}}},
      {{2, 4, 128, 128}, -1.0f, {{2, 1, 65, 130}, {64, 63, 1, 200}}},
      {{2, 4, 128, 200}, -8.0f, {{3, 1, 127, 64}, {1, 1, 1, 5}}},
      {{1, 3, 32, 40}, -0.1f, {{100, 1, 1, 2}, {2, 2, 2, 2}}},
      {{2, 4, 128, 128}, -0.5f, {{2000, 1, 1, 1}}},
  };
  std::uint32_t seed = 30;
  for (const Case& c : cases) {
    const DeltaRuleShape& d = c.d;
    SCOPED_TRACE(::testing::Message() << "dk " << d.dk << " dv " << d.dv << " decay to " << c.strongest_decay);
    const std::vector<std::int32_t> slot_of = {3, 0, 2, 1};
    Tensor state_chunked = random_f32({4, d.hv, d.dk, d.dv}, seed++, -0.1f, 0.1f);
    Tensor state_recurrent = state_chunked.to_f32();  // a copy
    const Tensor state_dev = to_device(state_chunked, DType::kF32);
    for (const std::vector<std::int64_t>& lengths : c.steps) {
      const std::vector<std::int32_t> rows = row_sequences(lengths);
      const auto n = static_cast<std::int64_t>(rows.size());
      SCOPED_TRACE(::testing::Message() << n << " rows");
      const Tensor mixed = delta_rule_inputs(n, d.hk, d.dk, d.width(), seed++);
      const Tensor g = random_f32({n, d.hv}, seed++, c.strongest_decay, -0.01f);
      const Tensor beta = random_f32({n, d.hv}, seed++, 0.01f, 0.99f);
      const Tensor want = cpu_delta_rule(d, mixed, g, beta, lengths, slot_of, state_chunked, true);
      const Tensor definition = cpu_delta_rule(d, mixed, g, beta, lengths, slot_of, state_recurrent, false);
      const Tensor out = poisoned({n, d.hv * d.dv}, DType::kF32);
      const Tensor scratch = poisoned({n, delta_rule_scratch_width(d.hv, d.dk, d.dv)}, DType::kF32);
      gated_delta_rule(to_device(mixed, DType::kF32), d.hk, d.dk, d.hv, d.dv, to_device(g, DType::kF32),
                       to_device(beta, DType::kF32), upload_state_batch(rows, slot_of), state_dev, out, scratch);
      const Tensor got = to_host_f32(out), got_state = to_host_f32(state_dev);
      EXPECT_LT(relative_error(got, want), 1e-5);
      EXPECT_LT(relative_error(got_state, state_chunked), 1e-5);
      EXPECT_LT(relative_error(got, definition), 1e-4);
      EXPECT_LT(relative_error(got_state, state_recurrent), 1e-4);
    }
  }
}

// Padding sequences (slot -1, as CUDA graphs add) get zeros and leave every
// state alone, in both forms.
TEST(GatedDeltaRule, PaddingSequencesGetZerosInBothForms) {
  ASSERT_FALSE(probe_cuda().gpus.empty());
  const DeltaRuleShape d{1, 2, 16, 40};
  const std::vector<std::int64_t> lengths = {3, 1, 4};
  const std::vector<std::int32_t> rows = row_sequences(lengths), slot_of = {-1, -1, 0};
  const auto n = static_cast<std::int64_t>(rows.size());
  const Tensor mixed = delta_rule_inputs(n, d.hk, d.dk, d.width(), 50);
  const Tensor g = random_f32({n, d.hv}, 51, -1.0f, -0.01f), beta = random_f32({n, d.hv}, 52, 0.01f, 0.99f);
  Tensor state = random_f32({1, d.hv, d.dk, d.dv}, 53, -0.1f, 0.1f);
  const Tensor state_dev = to_device(state, DType::kF32);
  const Tensor out = poisoned({n, d.hv * d.dv}, DType::kF32);
  gated_delta_rule(to_device(mixed, DType::kF32), d.hk, d.dk, d.hv, d.dv, to_device(g, DType::kF32),
                   to_device(beta, DType::kF32), upload_state_batch(rows, slot_of), state_dev, out,
                   poisoned({n, delta_rule_scratch_width(d.hv, d.dk, d.dv)}, DType::kF32));
  const Tensor got = to_host_f32(out);
  for (std::int64_t i = 0; i < 4 * d.hv * d.dv; ++i) ASSERT_EQ(got.data<float>()[i], 0.0f) << i;
  // The real sequence (rows 4..7, slot 0) against the CPU.
  const Tensor tail_mixed = mixed.narrow_rows(4, 8), tail_g = g.narrow_rows(4, 8);
  const Tensor want = cpu_delta_rule(d, tail_mixed, tail_g, beta.narrow_rows(4, 8), {4}, {0}, state, true);
  EXPECT_LT(relative_error(got.narrow_rows(4, 8), want), 1e-5);
  EXPECT_LT(relative_error(to_host_f32(state_dev), state), 1e-5);
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
  const Tensor scratch = device_empty({2, delta_rule_scratch_width(2, 8, 16)}, DType::kF32);
  EXPECT_NO_THROW(gated_delta_rule(mixed, 1, 8, 2, 16, g, g, batch, state, out, Tensor()));
  EXPECT_NO_THROW(gated_delta_rule(mixed, 1, 8, 2, 16, g, g, batch, state, out, scratch));
  EXPECT_THROW(gated_delta_rule(mixed, 1, 256, 2, 16, g, g, batch, state, out, Tensor()), Error);  // key_dim > 128
  EXPECT_THROW(gated_delta_rule(mixed, 2, 8, 3, 16, g, g, batch, state, out, Tensor()), Error);    // 3 % 2
  EXPECT_THROW(gated_delta_rule(mixed, 1, 8, 2, 16, g, g, batch, state, out, scratch.narrow_cols(0, 10)),
               Error);                                         // scratch too narrow
  EXPECT_THROW(upload_state_batch({0, 1, 0}, {0, 1}), Error);  // rows apart
  EXPECT_THROW(upload_state_batch({1}, {0, 1}), Error);        // not from 0
  EXPECT_THROW(sigmoid_mul(device_empty({2, 4}, DType::kBF16), device_empty({2, 4}, DType::kF32)), Error);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GatedDeltaNet, ::testing::Values(DType::kBF16, DType::kF32),
                         [](const auto& info) { return info.param == DType::kBF16 ? "bf16" : "f32"; });

}  // namespace
}  // namespace arle::kernels::cuda
