#pragma once
// What a SamplingRow asks of a device, computed plainly on the host: the
// reference the CUDA sampling kernel is tested against, and a model wrapper
// that takes the engine's device-sampling path on the CPU, so CI tests that
// path's plumbing (forks, bans, penalties, logprobs) without a GPU.

#include <cstdint>
#include <memory>
#include <vector>

#include "model/causal_lm.h"
#include "model/sampling_row.h"

namespace arle::testing {

// The logits after the row's adjustments (bans, bias, penalties).
std::vector<float> adjusted_logits(const float* logits, std::int64_t vocab, const model::SamplingRow& row);
// The draw's distribution over token ids (zero outside the kept set, sums
// to 1) for a row with temperature > 0: min_p, then top_k and top_p with
// every tie at a cut kept.
std::vector<double> kept_distribution(const std::vector<float>& adjusted, const model::SamplingRow& row);
// Greedy argmax (ties to the lower id), or the first id whose cumulative
// kept probability in id order passes the row's uniform; with logprobs of
// the raw logits when asked.
model::TokenLogprob reference_sample(const float* logits, std::int64_t vocab, const model::SamplingRow& row);

// `inner` with samples_on_device(): forward_and_sample runs inner.forward
// and reference_sample.
class HostSamplingModel final : public model::CausalLm {
 public:
  explicit HostSamplingModel(std::unique_ptr<model::CausalLm> inner) : inner_(std::move(inner)) {}
  const model::ModelConfig& config() const override { return inner_->config(); }
  Tensor forward(const model::ForwardBatch& batch, model::PagedKvCache& cache) override {
    return inner_->forward(batch, cache);
  }
  std::size_t weight_bytes() const override { return inner_->weight_bytes(); }
  model::KvStorage kv_storage() const override { return inner_->kv_storage(); }
  bool samples_on_device() const override { return true; }
  StepOutput forward_and_sample(const model::ForwardBatch& batch, model::PagedKvCache& cache,
                                const std::vector<std::int32_t>& host_rows,
                                const std::vector<model::SamplingRow>& sampled) override;

 private:
  std::unique_ptr<model::CausalLm> inner_;
};

}  // namespace arle::testing
