#include "model/cuda_decoder_lm.h"

#include <cuda_runtime_api.h>

#include <cmath>

#include "common/error.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"
#include "model/forward_batch.h"
#include "model/paged_kv_cache.h"

namespace arle::model {

namespace kc = kernels::cuda;

Tensor CudaDecoderLm::upload(const Tensor& host) {
  if (!host.defined()) return {};
  Tensor t = kc::to_device(host, DType::kBF16, device_);
  bytes_ += t.nbytes();
  return t;
}

CudaDecoderLm::CudaDecoderLm(ModelConfig config, const DecoderWeights& w, int device)
    : config_(std::move(config)), device_(device), rope_(config_) {
  gemm_ = std::make_unique<kc::CublasLtGemm>(32u << 20, device_);
  embed_tokens_ = upload(w.embed_tokens);
  final_norm_ = upload(w.final_norm);
  // A tied head is the embedding table itself: upload it once.
  lm_head_ = w.lm_head.storage() == w.embed_tokens.storage() ? embed_tokens_ : upload(w.lm_head);
  for (const DecoderLayerWeights& l : w.layers) {
    if (!l.experts.empty()) throw_error(ErrorCode::kUnsupported, "MoE layers do not run on CUDA yet");
    layers_.push_back({upload(l.input_norm), upload(l.post_attention_norm), upload(l.qkv), upload(l.qkv_bias),
                       upload(l.o_proj), upload(l.o_bias), upload(l.q_norm), upload(l.k_norm), upload(l.mlp.gate_up),
                       upload(l.mlp.gate_up_bias), upload(l.mlp.down), upload(l.mlp.down_bias)});
  }
}

KvStorage CudaDecoderLm::kv_storage() const {
  const int device = device_;
  KvStorage s;
  s.dtype = DType::kBF16;
  s.allocate = [device](const Shape& shape, DType dtype) { return kc::device_empty(shape, dtype, device); };
  s.copy = [](void* dst, const void* src, std::size_t bytes) {
    ARLE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
  };
  return s;
}

Tensor CudaDecoderLm::forward(const ForwardBatch& batch, PagedKvCache& cache) {
  validate_forward_batch(batch, config_.vocab_size, cache);
  const ModelConfig& c = config_;
  const std::int64_t rows = batch.rows();
  if (rows == 0) return Tensor::empty({0, c.vocab_size}, DType::kF32);
  ARLE_CUDA_CHECK(cudaSetDevice(device_));

  // Step metadata: token ids, where each row lives in the KV pool, rotary
  // cos/sin per row (computed on the host by the same RopeTable as the CPU).
  const Tensor ids = kc::upload_i32(batch.token_ids, device_);
  std::vector<const std::vector<std::int32_t>*> tables(batch.page_tables.begin(), batch.page_tables.end());
  const kc::PagedBatch paged =
      kc::upload_paged_batch(tables, batch.row_sequence, batch.positions, cache.page_size(), device_);
  Tensor cos_host, sin_host;
  rope_.fill(batch.positions, cos_host, sin_host);
  const Tensor cos = kc::to_device(cos_host, DType::kF32, device_);
  const Tensor sin = kc::to_device(sin_host, DType::kF32, device_);

  const float eps = static_cast<float>(c.rms_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const std::int64_t q_size = c.q_size(), kv_size = c.kv_size();
  auto empty = [&](std::int64_t width) { return kc::device_empty({rows, width}, DType::kBF16, device_); };
  const Tensor residual = kc::device_empty({rows, c.hidden_size}, DType::kF32, device_);
  const Tensor h = empty(c.hidden_size), qkv = empty(q_size + 2 * kv_size);
  const Tensor attention = empty(q_size), o = empty(c.hidden_size), mlp_out = empty(c.hidden_size);
  const Tensor gate_up = empty(2 * c.intermediate_size), act = empty(c.intermediate_size);

  // residual carries the hidden state in float32, from zero; every norm
  // first adds a branch's output into it (fused), then normalizes into h.
  ARLE_CUDA_CHECK(cudaMemsetAsync(residual.raw_data(), 0, residual.nbytes()));
  kc::embedding(embed_tokens_, ids, mlp_out);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    kc::rms_norm(mlp_out, l.input_norm, eps, false, h, residual);
    gemm_->linear(h, l.qkv, l.qkv_bias, qkv);
    const Tensor q = qkv.narrow_cols(0, q_size);
    const Tensor k = qkv.narrow_cols(q_size, q_size + kv_size);
    const Tensor v = qkv.narrow_cols(q_size + kv_size, q_size + 2 * kv_size);
    kc::head_norm_rope(q, c.head_dim, c.qk_norm ? l.q_norm : Tensor(), eps, false, cos, sin, kernels::cpu::RopeLayout::kNeox);
    kc::head_norm_rope(k, c.head_dim, c.qk_norm ? l.k_norm : Tensor(), eps, false, cos, sin, kernels::cpu::RopeLayout::kNeox);
    const auto layer = static_cast<std::int64_t>(i);
    kc::paged_kv_write(k, v, paged, cache.k(layer), cache.v(layer));
    kc::paged_attention(q, paged, cache.k(layer), cache.v(layer), c.num_attention_heads, scale, attention);
    gemm_->linear(attention, l.o_proj, l.o_bias, o);
    kc::rms_norm(o, l.post_attention_norm, eps, false, h, residual);
    gemm_->linear(h, l.gate_up, l.gate_up_bias, gate_up);
    kc::silu_and_mul(gate_up, act);
    gemm_->linear(act, l.down, l.down_bias, mlp_out);
  }
  kc::rms_norm(mlp_out, final_norm_, eps, false, h, residual);
  // Logits, in float32, only for the rows that need them.
  const auto n = static_cast<std::int64_t>(batch.logit_rows.size());
  const Tensor last = kc::device_empty({n, c.hidden_size}, DType::kBF16, device_);
  kc::embedding(h, kc::upload_i32(batch.logit_rows, device_), last);
  const Tensor logits = kc::device_empty({n, c.vocab_size}, DType::kF32, device_);
  gemm_->linear(last, lm_head_, Tensor(), logits);
  return kc::to_host_f32(logits);
}

}  // namespace arle::model
