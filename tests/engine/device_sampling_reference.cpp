#include "device_sampling_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "common/error.h"
#include "engine/logprobs.h"

namespace arle::testing {

std::vector<float> adjusted_logits(const float* logits, std::int64_t vocab, const model::SamplingRow& row) {
  std::vector<float> out(logits, logits + vocab);
  for (const model::TokenAdjustment& a : row.adjustments) {
    float v = out[a.token];
    if (a.banned) v = -INFINITY;
    v += a.bias;
    if (a.seen && row.repetition_penalty != 1.0f) v = v > 0 ? v / row.repetition_penalty : v * row.repetition_penalty;
    if (a.count > 0) v -= row.frequency_penalty * static_cast<float>(a.count) + row.presence_penalty;
    out[a.token] = v;
  }
  return out;
}

std::vector<double> kept_distribution(const std::vector<float>& adjusted, const model::SamplingRow& row) {
  const float max_logit = *std::max_element(adjusted.begin(), adjusted.end());
  std::vector<double> p(adjusted.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    p[i] = std::exp((static_cast<double>(adjusted[i]) - max_logit) / row.temperature);
    if (!(p[i] > 0 && p[i] >= row.min_p)) p[i] = 0;
  }
  auto keep_from = [&](double cut) {
    for (double& v : p) v = v >= cut ? v : 0.0;
  };
  std::vector<double> sorted;
  for (double v : p) {
    if (v > 0) sorted.push_back(v);
  }
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  if (row.top_k > 0 && static_cast<std::size_t>(row.top_k) < sorted.size()) {
    const double cut = sorted[static_cast<std::size_t>(row.top_k) - 1];
    keep_from(cut);
    while (!sorted.empty() && sorted.back() < cut) sorted.pop_back();
  }
  if (row.top_p < 1.0f) {
    double total = 0;
    for (double v : sorted) total += v;
    double cumulative = 0;
    for (double v : sorted) {
      cumulative += v;
      if (cumulative >= row.top_p * total) {
        keep_from(v);
        break;
      }
    }
  }
  double total = 0;
  for (double v : p) total += v;
  for (double& v : p) v /= total;
  return p;
}

model::TokenLogprob reference_sample(const float* logits, std::int64_t vocab, const model::SamplingRow& row) {
  const std::vector<float> adjusted = adjusted_logits(logits, vocab, row);
  std::int32_t token = 0;
  if (row.temperature == 0.0f) {
    token = static_cast<std::int32_t>(std::max_element(adjusted.begin(), adjusted.end()) - adjusted.begin());
  } else {
    const std::vector<double> p = kept_distribution(adjusted, row);
    double cumulative = 0;
    token = -1;
    for (std::int64_t i = 0; i < vocab; ++i) {
      if (p[i] == 0) continue;
      cumulative += p[i];
      token = static_cast<std::int32_t>(i);
      if (cumulative > row.uniform) break;
    }
  }
  if (row.logprobs < 0) return {token, 0.0f, {}};
  return engine::token_logprob(logits, vocab, token, row.logprobs);
}

model::CausalLm::StepOutput HostSamplingModel::forward_and_sample(const model::ForwardBatch& batch,
                                                                  model::PagedKvCache& cache,
                                                                  const std::vector<std::int32_t>& host_rows,
                                                                  const std::vector<model::SamplingRow>& sampled) {
  const Tensor logits = inner_->forward(batch, cache);
  const std::int64_t vocab = config().vocab_size;
  StepOutput out;
  out.logits = Tensor::empty({static_cast<std::int64_t>(host_rows.size()), vocab}, DType::kF32);
  for (std::size_t i = 0; i < host_rows.size(); ++i) {
    std::memcpy(out.logits.data<float>() + static_cast<std::int64_t>(i) * vocab,
                logits.data<float>() + host_rows[i] * vocab, static_cast<std::size_t>(vocab) * sizeof(float));
  }
  for (const model::SamplingRow& row : sampled) {
    for (std::int32_t r : host_rows) {
      if (r == row.logit_row) throw_error(ErrorCode::kInternal, "logits row {} is both sampled and copied", r);
    }
    out.sampled.push_back(reference_sample(logits.data<float>() + row.logit_row * vocab, vocab, row));
  }
  return out;
}

}  // namespace arle::testing
