#include "model/cuda_sampling.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"

namespace arle::model {

namespace kc = kernels::cuda;

static_assert(kc::kSampleTopMax == kMaxSampledLogprobs);
static_assert(sizeof(kc::SampleRowParams) % 4 == 0 && sizeof(kc::SampleAdjustment) % 4 == 0);

namespace {

template <typename T>
void append_words(std::vector<std::int32_t>& words, const T& value) {
  const std::size_t at = words.size();
  words.resize(at + sizeof(T) / 4);
  std::memcpy(words.data() + at, &value, sizeof(T));
}

void check_row(const SamplingRow& r, std::int64_t logit_rows, std::int64_t vocab) {
  auto bad = [](const char* what, double value) {
    throw_error(ErrorCode::kInvalidArgument, "sampling row: {} = {} is out of range", what, value);
  };
  if (r.logit_row < 0 || r.logit_row >= logit_rows) bad("logit_row", r.logit_row);
  if (!(r.temperature >= 0.0f) || !std::isfinite(r.temperature)) bad("temperature", r.temperature);
  if (r.top_k < 0) bad("top_k", r.top_k);
  if (!(r.top_p > 0.0f && r.top_p <= 1.0f)) bad("top_p", r.top_p);
  if (!(r.min_p >= 0.0f && r.min_p <= 1.0f)) bad("min_p", r.min_p);
  if (!(r.repetition_penalty > 0.0f) || !std::isfinite(r.repetition_penalty)) {
    bad("repetition_penalty", r.repetition_penalty);
  }
  if (!(r.uniform >= 0.0f && r.uniform < 1.0f)) bad("uniform", r.uniform);
  if (r.logprobs < -1 || r.logprobs > kMaxSampledLogprobs) bad("logprobs", r.logprobs);
  for (const TokenAdjustment& a : r.adjustments) {
    if (a.token < 0 || a.token >= vocab) bad("adjustment token", a.token);
  }
}

}  // namespace

std::int64_t count_adjustments(const std::vector<SamplingRow>& rows) {
  std::int64_t n = 0;
  for (const SamplingRow& r : rows) n += std::ssize(r.adjustments);
  return n;
}

CudaSamplingLayout pack_sampling_rows(const std::vector<SamplingRow>& rows, std::int64_t logit_rows, std::int64_t vocab,
                                      std::vector<std::int32_t>& words, std::int64_t pad_to,
                                      std::int64_t adjust_capacity) {
  std::vector<std::uint8_t> taken(static_cast<std::size_t>(logit_rows), 0);
  CudaSamplingLayout layout;
  layout.rows = std::max(static_cast<std::int64_t>(rows.size()), pad_to);
  if (layout.rows > logit_rows) {
    throw_error(ErrorCode::kInvalidArgument, "{} sampling rows for {} logits rows", layout.rows, logit_rows);
  }
  if (pad_to > 0 && count_adjustments(rows) > adjust_capacity) {
    throw_error(ErrorCode::kInvalidArgument, "{} sampling adjustments do not fit {}", count_adjustments(rows),
                adjust_capacity);
  }
  for (const SamplingRow& r : rows) {
    check_row(r, logit_rows, vocab);
    if (taken[static_cast<std::size_t>(r.logit_row)]++) {
      throw_error(ErrorCode::kInvalidArgument, "two sampling rows read logits row {}", r.logit_row);
    }
  }
  std::int64_t adjust = 0;
  for (const SamplingRow& r : rows) {
    const kc::SampleRowParams p{r.logit_row,
                                r.temperature,
                                r.top_k,
                                r.top_p,
                                r.min_p,
                                r.repetition_penalty,
                                r.presence_penalty,
                                r.frequency_penalty,
                                r.uniform,
                                r.logprobs,
                                static_cast<std::int32_t>(adjust),
                                static_cast<std::int32_t>(adjust + std::ssize(r.adjustments))};
    append_words(words, p);
    adjust += std::ssize(r.adjustments);
  }
  for (auto r = static_cast<std::int32_t>(rows.size()); r < layout.rows; ++r) {
    const auto at = static_cast<std::int32_t>(adjust);
    append_words(words, kc::SampleRowParams{r, 0.0f, 0, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, -1, at, at});
  }
  layout.adjustments = std::max(adjust, pad_to > 0 ? adjust_capacity : 0);
  for (const SamplingRow& r : rows) {
    std::int32_t previous = -1;
    for (const TokenAdjustment& a : r.adjustments) {
      // The kernel changes logits in place: one entry per token, or two
      // threads would race on it.
      if (a.token <= previous) throw_error(ErrorCode::kInvalidArgument, "sampling adjustments must be sorted, unique");
      previous = a.token;
      const int flags = (a.banned ? kc::kSampleAdjustBanned : 0) | (a.seen ? kc::kSampleAdjustSeen : 0);
      append_words(words, kc::SampleAdjustment{a.token, a.bias, a.count, flags, 0.0f});
    }
  }
  words.resize(words.size() + static_cast<std::size_t>((layout.adjustments - adjust) * kSamplingAdjustmentWords), 0);
  return layout;
}

void sample_rows(const Tensor& logits, const Tensor& metadata, std::int64_t at, const CudaSamplingLayout& layout,
                 const Tensor& out, CUstream_st* stream, std::int64_t first_row) {
  if (layout.rows == 0) return;
  if (logits.dtype() != DType::kF32 || logits.dim() != 2 || !logits.is_contiguous()) {
    throw_error(ErrorCode::kInvalidArgument, "sample_rows: logits must be contiguous float32 [rows, vocab]");
  }
  if (at + layout.rows * kSamplingRowWords + layout.adjustments * kSamplingAdjustmentWords > metadata.numel() ||
      out.numel() < layout.rows * kc::kSampleOutputWords) {
    throw_error(ErrorCode::kInvalidArgument, "sample_rows: the metadata or output buffer is too small");
  }
  auto* words = static_cast<std::int32_t*>(metadata.raw_data()) + at;
  kc::launch_sample_rows(static_cast<float*>(logits.raw_data()), logits.size(1),
                         reinterpret_cast<const kc::SampleRowParams*>(words), layout.rows,
                         reinterpret_cast<kc::SampleAdjustment*>(words + layout.rows * kSamplingRowWords),
                         static_cast<std::int32_t*>(out.raw_data()), first_row, first_row + logits.size(0), stream);
}

std::vector<TokenLogprob> unpack_samples(const Tensor& out, std::int64_t rows) {
  std::vector<std::int32_t> host(static_cast<std::size_t>(rows * kc::kSampleOutputWords));
  ARLE_CUDA_CHECK(cudaMemcpy(host.data(), out.raw_data(), host.size() * 4, cudaMemcpyDeviceToHost));
  auto as_float = [](std::int32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  };
  std::vector<TokenLogprob> result;
  result.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t* w = host.data() + r * kc::kSampleOutputWords;
    if (w[0] < 0) throw_error(ErrorCode::kInternal, "the model produced logits with no finite value");
    TokenLogprob t{w[0], as_float(w[1]), {}};
    for (std::int32_t j = 0; j < w[2]; ++j) t.top.push_back({w[3 + 2 * j], as_float(w[4 + 2 * j])});
    result.push_back(std::move(t));
  }
  return result;
}

}  // namespace arle::model
