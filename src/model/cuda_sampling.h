#pragma once
// SamplingRows to the GPU and back: packs rows and their adjustments into
// int32 words (kernels.h layouts) that ride in the step's metadata copy,
// launches the sampling kernel over a step's device logits, and reads the
// packed results into TokenLogprobs. Built only with ARLE_CUDA.

#include <cstdint>
#include <vector>

#include "kernels/cuda/kernels.h"
#include "model/sampling_row.h"
#include "tensor/tensor.h"

struct CUstream_st;

namespace arle::model {

// Words one packed sampling row and one packed adjustment take.
inline constexpr std::int64_t kSamplingRowWords = sizeof(kernels::cuda::SampleRowParams) / 4;
inline constexpr std::int64_t kSamplingAdjustmentWords = sizeof(kernels::cuda::SampleAdjustment) / 4;

struct CudaSamplingLayout {
  std::int64_t rows = 0, adjustments = 0;  // counts; params first, then adjustments
};

// Appends the rows' words to `words`: [params | adjustments]. With `pad_to`,
// greedy rows on logits rows rows.size() .. pad_to - 1 fill the params to
// pad_to rows and the adjustments region is `adjust_capacity` long, so a CUDA
// graph finds both at fixed offsets. Throws kInvalidArgument for a row
// outside [0, logit_rows), two rows on one logits row, a token outside the
// vocabulary, a parameter out of range, or more adjustments than capacity.
CudaSamplingLayout pack_sampling_rows(const std::vector<SamplingRow>& rows, std::int64_t logit_rows, std::int64_t vocab,
                                      std::vector<std::int32_t>& words, std::int64_t pad_to = 0,
                                      std::int64_t adjust_capacity = 0);
// Adjustments across `rows` (what a padded layout needs room for).
std::int64_t count_adjustments(const std::vector<SamplingRow>& rows);
// Samples logits [logit rows, vocab] (float32, device; changed in place by
// the adjustments) with the words packed at word `at` of `metadata` (device
// int32, writable: the kernel keeps the raw logits it replaced there), into
// `out` (int32 device, rows * kSampleOutputWords). With `first_row`, logits
// holds the step's logits rows from first_row on (a slice); only the
// sampling rows on those rows are sampled.
void sample_rows(const Tensor& logits, const Tensor& metadata, std::int64_t at, const CudaSamplingLayout& layout,
                 const Tensor& out, CUstream_st* stream = nullptr, std::int64_t first_row = 0);
// Copies `out` back (waits for the stream) and unpacks `rows` results.
// Throws kInternal where a row had no finite logit to sample.
std::vector<TokenLogprob> unpack_samples(const Tensor& out, std::int64_t rows);

}  // namespace arle::model
