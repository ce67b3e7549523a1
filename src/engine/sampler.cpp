#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace arle::engine {
namespace {

// top_p without top_k: the nucleus is usually far smaller than the
// vocabulary, so sort the best few first and only sort everything when
// they do not reach top_p.
constexpr std::int64_t kNucleusGuess = 1024;

bool more_likely(const std::vector<double>& p, std::int32_t a, std::int32_t b) {
  return p[a] > p[b] || (p[a] == p[b] && a < b);
}

}  // namespace

Sampler::Sampler(SamplingParams params, const std::vector<std::int32_t>& prompt_ids, std::int64_t vocab_size)
    : params_(std::move(params)),
      vocab_(vocab_size),
      random_(params_.seed ? *params_.seed : Random::entropy_seed()),
      seen_(static_cast<std::size_t>(vocab_size), 0),
      output_counts_(static_cast<std::size_t>(vocab_size), 0) {
  validate_sampling_params(params_, vocab_size);
  for (std::int32_t id : prompt_ids) {
    if (id >= 0 && id < vocab_size && !seen_[id]) {
      seen_[id] = 1;
      seen_ids_.push_back(id);
    }
  }
}

void Sampler::record(std::int32_t token) {
  if (token < 0 || token >= vocab_)
    throw_error(ErrorCode::kInternal, "sampled token {} is outside the vocabulary", token);
  if (!seen_[token]) {
    seen_[token] = 1;
    seen_ids_.push_back(token);
  }
  if (output_counts_[token]++ == 0) output_ids_.push_back(token);
}

SampleResult Sampler::accept(model::TokenLogprob device_pick) {
  record(device_pick.token);
  const std::int32_t token = device_pick.token;
  return SampleResult{token, std::move(device_pick)};
}

model::SamplingRow Sampler::device_row(std::int32_t logit_row, const std::vector<std::int32_t>& banned) {
  model::SamplingRow row;
  row.logit_row = logit_row;
  if (!params_.greedy()) {
    row.temperature = static_cast<float>(params_.temperature);
    row.top_k = static_cast<std::int32_t>(std::min<std::int64_t>(std::max<std::int64_t>(params_.top_k, 0), vocab_));
    row.top_p = static_cast<float>(params_.top_p);
    row.min_p = static_cast<float>(params_.min_p);
    row.uniform = static_cast<float>(random_.uniform());
    // A float rounding of a uniform just below 1 would reach 1.
    if (row.uniform >= 1.0f) row.uniform = std::nextafter(1.0f, 0.0f);
  }
  row.repetition_penalty = static_cast<float>(params_.repetition_penalty);
  row.presence_penalty = static_cast<float>(params_.presence_penalty);
  row.frequency_penalty = static_cast<float>(params_.frequency_penalty);
  row.logprobs = params_.logprobs;

  // One adjustment per token: gather every reason, then merge by token.
  std::vector<model::TokenAdjustment>& adj = row.adjustments;
  auto add = [&](std::int32_t token) -> model::TokenAdjustment& {
    adj.push_back(model::TokenAdjustment{token});
    return adj.back();
  };
  for (std::int32_t token : banned) {
    if (token >= 0 && token < vocab_) add(token).banned = true;
  }
  for (const auto& [token, bias] : params_.logit_bias) add(token).bias = bias;
  if (params_.repetition_penalty != 1.0) {
    for (std::int32_t token : seen_ids_) add(token).seen = true;
  }
  if (params_.presence_penalty != 0.0 || params_.frequency_penalty != 0.0) {
    for (std::int32_t token : output_ids_) add(token).count = output_counts_[token];
  }
  std::sort(adj.begin(), adj.end(), [](const auto& a, const auto& b) { return a.token < b.token; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < adj.size(); ++i) {
    if (kept > 0 && adj[kept - 1].token == adj[i].token) {
      model::TokenAdjustment& into = adj[kept - 1];
      into.banned = into.banned || adj[i].banned;
      into.bias += adj[i].bias;
      into.seen = into.seen || adj[i].seen;
      into.count += adj[i].count;
    } else {
      adj[kept++] = adj[i];
    }
  }
  adj.resize(kept);
  return row;
}

void Sampler::process_logits(const float* logits, const std::vector<std::int32_t>& banned,
                             std::vector<float>& out) const {
  out.assign(logits, logits + vocab_);
  for (std::int32_t token : banned) {
    if (token >= 0 && token < vocab_) out[token] = -INFINITY;
  }
  for (const auto& [token, bias] : params_.logit_bias) out[token] += bias;
  const auto rp = static_cast<float>(params_.repetition_penalty);
  const auto presence = static_cast<float>(params_.presence_penalty);
  const auto frequency = static_cast<float>(params_.frequency_penalty);
  if (rp != 1.0f || presence != 0.0f || frequency != 0.0f) {
    for (std::int64_t i = 0; i < vocab_; ++i) {
      if (rp != 1.0f && seen_[i]) out[i] = out[i] > 0 ? out[i] / rp : out[i] * rp;
      if (output_counts_[i] > 0) out[i] -= frequency * static_cast<float>(output_counts_[i]) + presence;
    }
  }
}

void Sampler::filter(const std::vector<float>& processed, std::vector<std::int32_t>& ids,
                     std::vector<double>& probs) const {
  const double inv_t = 1.0 / params_.temperature;
  const float max_logit = *std::max_element(processed.begin(), processed.end());
  probs.resize(static_cast<std::size_t>(vocab_));
  double max_prob = 0.0;
  for (std::int64_t i = 0; i < vocab_; ++i) {
    probs[i] = std::exp((static_cast<double>(processed[i]) - max_logit) * inv_t);
    max_prob = std::max(max_prob, probs[i]);
  }
  ids.clear();
  const double min_keep = params_.min_p * max_prob;
  for (std::int64_t i = 0; i < vocab_; ++i) {
    if (probs[i] > 0 && probs[i] >= min_keep) ids.push_back(static_cast<std::int32_t>(i));
  }
  const auto by_prob = [&](std::int32_t a, std::int32_t b) { return more_likely(probs, a, b); };
  const auto n = static_cast<std::int64_t>(ids.size());
  const std::int64_t top_k = params_.top_k > 0 ? std::min(params_.top_k, n) : n;
  if (top_k < n) {
    std::partial_sort(ids.begin(), ids.begin() + top_k, ids.end(), by_prob);
    ids.resize(static_cast<std::size_t>(top_k));
  } else if (params_.top_p < 1.0) {
    // Sort enough of the head to cover top_p of the mass.
    double total = 0.0;
    for (std::int32_t id : ids) total += probs[id];
    const std::int64_t guess = std::min(kNucleusGuess, n);
    std::partial_sort(ids.begin(), ids.begin() + guess, ids.end(), by_prob);
    double head = 0.0;
    for (std::int64_t i = 0; i < guess; ++i) head += probs[ids[i]];
    if (head < params_.top_p * total) std::sort(ids.begin() + guess, ids.end(), by_prob);
  }
  if (params_.top_p < 1.0) {
    double total = 0.0;
    for (std::int32_t id : ids) total += probs[id];
    // Smallest prefix whose mass reaches top_p (at least one token).
    double cumulative = 0.0;
    std::size_t keep = 0;
    while (keep < ids.size()) {
      cumulative += probs[ids[keep++]];
      if (cumulative >= params_.top_p * total) break;
    }
    ids.resize(keep);
  }
  if (ids.empty()) throw_error(ErrorCode::kInternal, "the model produced logits with no finite value");
}

std::vector<double> Sampler::distribution(const float* logits) {
  process_logits(logits, {}, scratch_);
  std::vector<double> out(static_cast<std::size_t>(vocab_), 0.0);
  if (params_.greedy()) {
    out[std::max_element(scratch_.begin(), scratch_.end()) - scratch_.begin()] = 1.0;
    return out;
  }
  std::vector<std::int32_t> ids;
  std::vector<double> probs;
  filter(scratch_, ids, probs);
  double total = 0.0;
  for (std::int32_t id : ids) total += probs[id];
  for (std::int32_t id : ids) out[id] = probs[id] / total;
  return out;
}

SampleResult Sampler::sample(const float* logits, const std::vector<std::int32_t>& banned) {
  process_logits(logits, banned, scratch_);
  std::int32_t token;
  if (params_.greedy()) {
    // max_element returns the first maximum: ties go to the lower id.
    token = static_cast<std::int32_t>(std::max_element(scratch_.begin(), scratch_.end()) - scratch_.begin());
  } else {
    std::vector<std::int32_t> ids;
    std::vector<double> probs;
    filter(scratch_, ids, probs);
    double total = 0.0;
    for (std::int32_t id : ids) total += probs[id];
    const double target = random_.uniform() * total;
    double cumulative = 0.0;
    token = ids.back();
    for (std::int32_t id : ids) {
      cumulative += probs[id];
      if (target < cumulative) {
        token = id;
        break;
      }
    }
  }
  SampleResult result{token, {token, 0.0f, {}}};
  if (params_.logprobs >= 0) result.logprob = token_logprob(logits, vocab_, token, params_.logprobs);
  record(token);
  return result;
}

}  // namespace arle::engine
