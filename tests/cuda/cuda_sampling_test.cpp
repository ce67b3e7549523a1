// The CUDA sampling kernel against the host reference (tests/engine/
// device_sampling_reference.h), which keeps exactly the engine Sampler's
// distribution: greedy picks equal, logprobs and their top-N equal (ties to
// the lower id), and every draw lands where the uniform falls in the kept
// distribution's cumulative sum in id order. Vocabularies from 7 to Qwen's
// 151,936; bans, bias and penalties applied in place. Outputs are poisoned
// first. Runs on the GPU machine (label gpu).
#include "model/cuda_sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error.h"
#include "device_sampling_reference.h"
#include "engine/logprobs.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/kernels.h"

namespace arle::testing {
namespace {

namespace kc = kernels::cuda;

// Runs the kernel over host logits [rows, vocab].
std::vector<model::TokenLogprob> sample_on_gpu(const Tensor& logits, const std::vector<model::SamplingRow>& rows) {
  std::vector<std::int32_t> words(5, 0);  // something in front, as in the model's metadata copy
  const model::CudaSamplingLayout layout = model::pack_sampling_rows(rows, logits.size(0), logits.size(1), words);
  const Tensor device_logits = kc::to_device(logits, DType::kF32);
  const Tensor meta = kc::upload_i32(words);
  const Tensor out = kc::device_empty({static_cast<std::int64_t>(rows.size()) * kc::kSampleOutputWords}, DType::kI32);
  kc::fill_bytes(out, 0x7F);
  model::sample_rows(device_logits, meta, 5, layout, out);
  return model::unpack_samples(out, static_cast<std::int64_t>(rows.size()));
}

Tensor random_logits(std::int64_t rows, std::int64_t vocab, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Tensor t = Tensor::empty({rows, vocab}, DType::kF32);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

// The token must sit where `uniform` falls in the kept distribution's
// cumulative sum, in id order (up to float rounding at the edges).
void expect_draw_in_place(const std::vector<double>& p, std::int32_t token, float uniform, const std::string& where) {
  ASSERT_GE(token, 0) << where;
  ASSERT_LT(token, static_cast<std::int32_t>(p.size())) << where;
  ASSERT_GT(p[static_cast<std::size_t>(token)], 0.0) << where << ": token " << token << " is outside the kept set";
  double before = 0;
  for (std::int32_t i = 0; i < token; ++i) before += p[static_cast<std::size_t>(i)];
  EXPECT_LE(before, uniform + 1e-5) << where;
  EXPECT_GE(before + p[static_cast<std::size_t>(token)], uniform - 1e-5) << where;
}

model::SamplingRow row_with(std::int32_t logit_row, float temperature, std::int32_t top_k, float top_p, float min_p,
                            float uniform) {
  model::SamplingRow r;
  r.logit_row = logit_row;
  r.temperature = temperature;
  r.top_k = top_k;
  r.top_p = top_p;
  r.min_p = min_p;
  r.uniform = uniform;
  return r;
}

class CudaSampling : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(CudaSampling, GreedyAndLogprobsEqualTheReference) {
  const std::int64_t vocab = GetParam(), rows = 6;
  const Tensor logits = random_logits(rows, vocab, 1, 3.0f);
  std::vector<model::SamplingRow> spec;
  for (std::int32_t r = 0; r < rows; ++r) {
    model::SamplingRow row = row_with(r, 0.0f, 0, 1.0f, 0.0f, 0.0f);
    row.logprobs = std::min<std::int32_t>(r * 4, std::min<std::int64_t>(20, vocab));  // 0 .. 20 alternatives
    if (r == 5) row.logprobs = -1;
    spec.push_back(row);
  }
  const auto got = sample_on_gpu(logits, spec);
  for (std::int32_t r = 0; r < rows; ++r) {
    const model::TokenLogprob want = reference_sample(logits.data<float>() + r * vocab, vocab, spec[r]);
    EXPECT_EQ(got[r].token, want.token) << "row " << r;
    if (spec[r].logprobs < 0) continue;
    EXPECT_NEAR(got[r].logprob, want.logprob, 1e-4) << "row " << r;
    ASSERT_EQ(got[r].top.size(), want.top.size()) << "row " << r;
    for (std::size_t j = 0; j < want.top.size(); ++j) {
      EXPECT_EQ(got[r].top[j].token, want.top[j].token) << "row " << r << " rank " << j;
      EXPECT_NEAR(got[r].top[j].logprob, want.top[j].logprob, 1e-4);
    }
  }
}

TEST_P(CudaSampling, EveryDrawLandsWhereItsUniformFalls) {
  const std::int64_t vocab = GetParam();
  struct Filter {
    float temperature;
    std::int32_t top_k;
    float top_p, min_p;
  };
  const std::vector<Filter> filters = {{1.0f, 0, 1.0f, 0.0f},    {0.6f, 0, 1.0f, 0.0f},  {0.8f, 40, 1.0f, 0.0f},
                                       {0.8f, 0, 0.9f, 0.0f},    {1.2f, 0, 1.0f, 0.05f}, {0.7f, 20, 0.8f, 0.02f},
                                       {2.0f, 1000, 0.95f, 0.0f}};
  const std::int64_t draws = 24;
  for (std::size_t f = 0; f < filters.size(); ++f) {
    // Peaked (scale 4) and flat (scale 0.5) distributions.
    for (float scale : {4.0f, 0.5f}) {
      const Tensor logits = random_logits(draws, vocab, static_cast<std::uint32_t>(10 + f), scale);
      std::vector<model::SamplingRow> spec;
      for (std::int32_t r = 0; r < draws; ++r) {
        const Filter& x = filters[f];
        spec.push_back(row_with(r, x.temperature, x.top_k, x.top_p, x.min_p, (static_cast<float>(r) + 0.5f) / draws));
      }
      const auto got = sample_on_gpu(logits, spec);
      for (std::int32_t r = 0; r < draws; ++r) {
        const float* row = logits.data<float>() + r * vocab;
        const std::vector<double> p = kept_distribution(adjusted_logits(row, vocab, spec[r]), spec[r]);
        expect_draw_in_place(
            p, got[r].token, spec[r].uniform,
            "filter " + std::to_string(f) + " scale " + std::to_string(scale) + " row " + std::to_string(r));
      }
    }
  }
}

TEST_P(CudaSampling, AdjustmentsChangeTheRightLogitsAndLogprobsStayRaw) {
  const std::int64_t vocab = GetParam(), rows = 4;
  const Tensor logits = random_logits(rows, vocab, 3, 2.0f);
  std::vector<model::SamplingRow> spec;
  for (std::int32_t r = 0; r < rows; ++r) {
    model::SamplingRow row = row_with(r, r % 2 ? 0.9f : 0.0f, 0, 1.0f, 0.0f, 0.37f);
    row.repetition_penalty = 1.5f;
    row.presence_penalty = 0.7f;
    row.frequency_penalty = 0.3f;
    row.logprobs = 3;
    // Ban the raw argmax, lift a low token, penalize a few.
    const float* x = logits.data<float>() + r * vocab;
    const auto best = static_cast<std::int32_t>(std::max_element(x, x + vocab) - x);
    std::vector<model::TokenAdjustment> adj;
    for (std::int32_t t = 0; t < std::min<std::int64_t>(vocab, 6); ++t) {
      model::TokenAdjustment a{t};
      a.seen = t % 2 == 0;
      a.count = t % 3;
      if (t == 1) a.bias = 8.0f;
      adj.push_back(a);
    }
    if (best >= static_cast<std::int32_t>(adj.size())) adj.push_back(model::TokenAdjustment{best});
    for (auto& a : adj) a.banned = a.token == best;
    row.adjustments = adj;
    spec.push_back(row);
  }
  const auto got = sample_on_gpu(logits, spec);
  for (std::int32_t r = 0; r < rows; ++r) {
    const float* x = logits.data<float>() + r * vocab;
    const model::TokenLogprob want = reference_sample(x, vocab, spec[r]);
    if (spec[r].temperature == 0.0f) {
      EXPECT_EQ(got[r].token, want.token) << "row " << r;
    } else {
      expect_draw_in_place(kept_distribution(adjusted_logits(x, vocab, spec[r]), spec[r]), got[r].token,
                           spec[r].uniform, "row " + std::to_string(r));
    }
    // Logprobs are of the raw logits, the chosen token's included.
    const model::TokenLogprob raw = engine::token_logprob(x, vocab, got[r].token, 3);
    EXPECT_NEAR(got[r].logprob, raw.logprob, 1e-4) << "row " << r;
    ASSERT_EQ(got[r].top.size(), raw.top.size());
    for (std::size_t j = 0; j < raw.top.size(); ++j) EXPECT_EQ(got[r].top[j].token, raw.top[j].token);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocab, CudaSampling, ::testing::Values(7, 512, 1000, 32000, 151936));

TEST(CudaSamplingEdges, TiesGoToTheLowerIdAndAnAllBannedRowIsAnError) {
  const std::int64_t vocab = 1000;
  Tensor logits = Tensor::empty({2, vocab}, DType::kF32);
  for (std::int64_t i = 0; i < 2 * vocab; ++i) logits.data<float>()[i] = 0.0f;
  logits.data<float>()[700] = 1.0f;
  logits.data<float>()[300] = 1.0f;
  model::SamplingRow greedy = row_with(0, 0.0f, 0, 1.0f, 0.0f, 0.0f);
  greedy.logprobs = 5;
  model::SamplingRow flat = row_with(1, 1.0f, 3, 1.0f, 0.0f, 0.99f);  // top_k 3 of 1000 equal: ties all kept
  const auto got = sample_on_gpu(logits, {greedy, flat});
  EXPECT_EQ(got[0].token, 300);
  ASSERT_EQ(got[0].top.size(), 5u);
  const std::vector<std::int32_t> want_top = {300, 700, 0, 1, 2};
  for (std::size_t j = 0; j < 5; ++j) EXPECT_EQ(got[0].top[j].token, want_top[j]);
  EXPECT_GE(got[1].token, 0);

  // Every token banned: no finite logit to sample.
  model::SamplingRow banned = row_with(0, 0.8f, 0, 1.0f, 0.0f, 0.5f);
  for (std::int32_t t = 0; t < 7; ++t) banned.adjustments.push_back({t, 0.0f, 0, false, true});
  const Tensor small = random_logits(1, 7, 4, 1.0f);
  EXPECT_THROW(sample_on_gpu(small, {banned}), Error);
}

TEST(CudaSamplingEdges, BadRowsAreRejectedBeforeTheKernel) {
  const Tensor logits = random_logits(2, 16, 5, 1.0f);
  std::vector<std::int32_t> words;
  auto pack = [&](std::vector<model::SamplingRow> rows) { return model::pack_sampling_rows(rows, 2, 16, words); };
  EXPECT_THROW(pack({row_with(2, 0, 0, 1, 0, 0)}), Error);                              // row out of range
  EXPECT_THROW(pack({row_with(0, 0, 0, 1, 0, 0), row_with(0, 0, 0, 1, 0, 0)}), Error);  // two on one row
  EXPECT_THROW(pack({row_with(0, 0.5f, 0, 0.0f, 0, 0)}), Error);                        // top_p 0
  EXPECT_THROW(pack({row_with(0, 0.5f, 0, 1.0f, 0, 1.0f)}), Error);                     // uniform 1
  model::SamplingRow unsorted = row_with(0, 0, 0, 1, 0, 0);
  unsorted.adjustments = {{3}, {3}};
  EXPECT_THROW(pack({unsorted}), Error);
  model::SamplingRow outside = row_with(0, 0, 0, 1, 0, 0);
  outside.adjustments = {{16}};
  EXPECT_THROW(pack({outside}), Error);
}

}  // namespace
}  // namespace arle::testing
