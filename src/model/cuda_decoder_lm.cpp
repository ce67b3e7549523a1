#include "model/cuda_decoder_lm.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/error.h"
#include "common/log.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/kernels.h"
#include "kernels/ops.h"
#include "model/cuda_sampling.h"
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

Tensor CudaDecoderLm::upload_f32(const Tensor& host) {
  if (!host.defined()) return {};
  Tensor t = kc::to_device(host, DType::kF32, device_);
  bytes_ += t.nbytes();
  return t;
}

CudaDecoderLm::Mlp CudaDecoderLm::upload_mlp(const MlpWeights& m) {
  return Mlp{upload(m.gate_up), upload(m.gate_up_bias), upload(m.down), upload(m.down_bias)};
}

void CudaDecoderLm::start(const Tensor& embed_tokens, const Tensor& final_norm, const Tensor& lm_head) {
  ARLE_CUDA_CHECK(cudaSetDevice(device_));
  // A blocking stream: the KV pool's copies on the default stream stay ordered with it.
  cudaStream_t stream = nullptr;
  ARLE_CUDA_CHECK(cudaStreamCreate(&stream));
  stream_ = stream;
  gemm_ = std::make_unique<kc::CublasLtGemm>(32u << 20, device_);
  embed_tokens_ = upload(embed_tokens);
  final_norm_ = upload(final_norm);
  // A tied head is the embedding table itself: upload it once.
  lm_head_ = lm_head.storage() == embed_tokens.storage() ? embed_tokens_ : upload(lm_head);
}

void CudaDecoderLm::add_experts(Layer& layer, const std::vector<MlpWeights>& experts) {
  if (experts.empty()) return;
  moe_ = true;
  const MoeConfig& m = config_.moe;
  if (std::ssize(experts) > kc::kMoeMaxExperts || m.experts_per_token > kc::kMoeMaxTopK ||
      config_.hidden_size % 8 != 0 || m.expert_intermediate_size % 8 != 0) {
    throw_error(ErrorCode::kUnsupported,
                "CUDA MoE needs at most {} experts, top-{} routing and sizes that are multiples of 8 "
                "(this model: {} experts, top-{}, hidden {}, expert width {})",
                kc::kMoeMaxExperts, kc::kMoeMaxTopK, experts.size(), m.experts_per_token, config_.hidden_size,
                m.expert_intermediate_size);
  }
  std::vector<Tensor> gate_ups, downs;
  for (const MlpWeights& e : experts) {
    if (e.gate_up_bias.defined() || e.down_bias.defined()) {
      throw_error(ErrorCode::kUnsupported, "CUDA MoE experts have no biases");
    }
    layer.experts.push_back(Mlp{upload(e.gate_up), Tensor(), upload(e.down), Tensor()});
    gate_ups.push_back(layer.experts.back().gate_up);
    downs.push_back(layer.experts.back().down);
  }
  layer.expert_gate_up = kc::expert_pointers(gate_ups);
  layer.expert_down = kc::expert_pointers(downs);
}

CudaDecoderLm::CudaDecoderLm(ModelConfig config, const DecoderWeights& w, int device, bool cuda_graphs)
    : config_(std::move(config)), device_(device), rope_(config_), use_graphs_(cuda_graphs) {
  moe_normalize_ = config_.moe.norm_topk_prob;
  start(w.embed_tokens, w.final_norm, w.lm_head);
  for (const DecoderLayerWeights& l : w.layers) {
    Layer layer;
    layer.input_norm = upload(l.input_norm);
    layer.post_attention_norm = upload(l.post_attention_norm);
    layer.qkv = upload(l.qkv);
    layer.qkv_bias = upload(l.qkv_bias);
    layer.o_proj = upload(l.o_proj);
    layer.o_bias = upload(l.o_bias);
    layer.q_norm = upload(l.q_norm);
    layer.k_norm = upload(l.k_norm);
    layer.mlp = upload_mlp(l.mlp);
    layer.router = upload(l.router);
    add_experts(layer, l.experts);
    layers_.push_back(std::move(layer));
  }
}

CudaDecoderLm::CudaDecoderLm(ModelConfig config, const HybridWeights& w, int device, bool cuda_graphs)
    : config_(std::move(config)), device_(device), rope_(config_), use_graphs_(cuda_graphs) {
  hybrid_ = true;
  norm_offset_ = true;
  moe_normalize_ = true;  // HybridLm's routing: softmax top-k, renormalized
  const LinearAttentionConfig& la = config_.linear;
  if (la.key_head_dim > kc::kDeltaRuleMaxKeyDim) {
    throw_error(ErrorCode::kUnsupported, "CUDA Gated DeltaNet needs key heads of at most {} (this model: {})",
                kc::kDeltaRuleMaxKeyDim, la.key_head_dim);
  }
  // A switch for benchmarks only: prefill walks its rows one by one, as
  // before the chunked form, to measure what the chunked form gains.
  if (const char* e = std::getenv("ARLE_RECURRENT_DELTA_RULE"); e != nullptr && std::string_view(e) == "1") {
    chunked_delta_rule_ = false;
    log::warn("ARLE_RECURRENT_DELTA_RULE=1: the delta rule runs token by token in prefill too");
  }
  start(w.embed_tokens, w.final_norm, w.lm_head);
  for (const HybridLayerWeights& l : w.layers) {
    Layer layer;
    layer.type = l.type;
    layer.input_norm = upload(l.input_norm);
    layer.post_attention_norm = upload(l.post_attention_norm);
    if (l.type == LayerType::kLinearAttention) {
      const GatedDeltaNetWeights& g = l.linear;
      layer.linear = LinearAttention{upload(g.in_proj),     upload_f32(g.conv), upload_f32(g.neg_exp_a),
                                     upload_f32(g.dt_bias), upload_f32(g.norm), upload(g.out_proj)};
    } else {
      layer.qkv = upload(l.attention.qkvg);
      layer.qkv_bias = upload(l.attention.qkvg_bias);
      layer.o_proj = upload(l.attention.o_proj);
      layer.q_norm = upload(l.attention.q_norm);
      layer.k_norm = upload(l.attention.k_norm);
    }
    layer.mlp = upload_mlp(l.mlp);
    layer.router = upload(l.router);
    add_experts(layer, l.experts);
    layer.shared = upload_mlp(l.shared_expert);
    layer.shared_gate = upload(l.shared_expert_gate);
    layers_.push_back(std::move(layer));
  }
}

CudaDecoderLm::~CudaDecoderLm() {
  graphs_.clear();
  if (stream_) cudaStreamDestroy(stream_);
}

std::string CudaDecoderLm::device_name() const {
  cudaDeviceProp prop{};
  ARLE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
  return fmt::format("{} (cuda:{}, CUDA graphs {})", prop.name, device_, use_graphs_ ? "on" : "off");
}

KvStorage CudaDecoderLm::kv_storage() const {
  const int device = device_;
  KvStorage s;
  s.dtype = DType::kBF16;
  s.allocate = [device](const Shape& shape, DType dtype) { return kc::device_empty(shape, dtype, device); };
  s.copy = [](void* dst, const void* src, std::size_t bytes) {
    ARLE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
  };
  s.zero = [](void* dst, std::size_t bytes) { ARLE_CUDA_CHECK(cudaMemset(dst, 0, bytes)); };
  return s;
}

void CudaDecoderLm::moe(const Layer& l, const Tensor& h, const Tensor& out) {
  // Routing, grouping and the experts' GEMMs all on the stream: no count
  // comes back to the host, so MoE decode steps can be graphed too.
  const std::int64_t rows = h.size(0), k = config_.moe.experts_per_token;
  const auto experts = static_cast<std::int64_t>(l.experts.size());
  const Tensor router_logits = ws_.moe_router.narrow_rows(0, rows);
  gemm_->linear(h, l.router, Tensor(), router_logits, stream_);
  const kc::MoeRouting routing = kc::moe_routing_view(ws_.moe_meta, ws_.moe_weights, rows * k, experts);
  kc::moe_route(router_logits, k, moe_normalize_, routing, stream_);
  const std::int64_t assignments = rows * k, inter = l.experts[0].down.size(1);
  const Tensor x = ws_.moe_x.narrow_rows(0, assignments), gate_up = ws_.moe_gate_up.narrow_rows(0, assignments);
  const Tensor act = ws_.moe_act.narrow_rows(0, assignments), y = ws_.moe_y.narrow_rows(0, assignments);
  kc::embedding(h, routing.gather, x, stream_);
  kc::grouped_gemm(x, l.expert_gate_up, 2 * inter, routing, gate_up, stream_);
  kc::silu_and_mul(gate_up, act, stream_);
  kc::grouped_gemm(act, l.expert_down, config_.hidden_size, routing, y, stream_);
  kc::combine_rows(y, routing.index, routing.weights, k, out, stream_);
}

void CudaDecoderLm::linear_attention(const Layer& l, std::int64_t index, const kc::StateBatch& state,
                                     PagedKvCache& cache, const Tensor& h, const Tensor& out) {
  // As HybridLm::gated_deltanet: one projection [q k v (conv) | z | b | a],
  // the conv with each sequence's window, norms and gates, the delta rule
  // on each sequence's state, the gated norm, out_proj.
  const LinearAttentionConfig& la = config_.linear;
  const std::int64_t rows = h.size(0), hk = la.num_key_heads, hv = la.num_value_heads;
  const std::int64_t dk = la.key_head_dim, dv = la.value_head_dim;
  const std::int64_t key = hk * dk, value = hv * dv, conv = 2 * key + value;
  const Tensor proj = ws_.proj.narrow_rows(0, rows), mixed = ws_.mixed.narrow_rows(0, rows);
  const Tensor beta = ws_.beta.narrow_rows(0, rows), g = ws_.g.narrow_rows(0, rows);
  const Tensor core = ws_.core.narrow_rows(0, rows), normed = ws_.normed.narrow_rows(0, rows);
  CUstream_st* const st = stream_;
  gemm_->linear(h, l.linear.in_proj, Tensor(), proj, st);
  kc::causal_conv1d_silu(proj.narrow_cols(0, conv), l.linear.conv, state, cache.conv_window(index), mixed, st);
  kc::gdn_gates(mixed, hk, dk, proj.narrow_cols(conv + value, conv + value + hv),
                proj.narrow_cols(conv + value + hv, conv + value + 2 * hv), l.linear.neg_exp_a, l.linear.dt_bias, beta,
                g, st);
  const Tensor scratch = ws_.delta_scratch.defined() ? ws_.delta_scratch.narrow_rows(0, rows) : Tensor();
  kc::gated_delta_rule(mixed, hk, dk, hv, dv, g, beta, state, cache.recurrent_state(index), core, scratch, st);
  kc::gated_rms_norm(core, proj.narrow_cols(conv, conv + value), l.linear.norm, dv,
                     static_cast<float>(config_.rms_norm_eps), normed, st);
  gemm_->linear(normed, l.linear.out_proj, Tensor(), out, st);
}

void CudaDecoderLm::shared_expert(const Layer& l, const Tensor& h, const Tensor& out) {
  const std::int64_t rows = h.size(0);
  const Tensor act = ws_.shared_act.narrow_rows(0, rows), y = ws_.o.narrow_rows(0, rows);
  const Tensor logit = ws_.shared_logit.narrow_rows(0, rows);
  CUstream_st* const st = stream_;
  if (!gemm_->gated_linear(h, l.shared.gate_up, l.shared.gate_up_bias, act, st)) {
    const Tensor gate_up = ws_.shared_gate_up.narrow_rows(0, rows);
    gemm_->linear(h, l.shared.gate_up, l.shared.gate_up_bias, gate_up, st);
    kc::silu_and_mul(gate_up, act, st);
  }
  gemm_->linear(act, l.shared.down, l.shared.down_bias, y, st);
  gemm_->linear(h, l.shared_gate, Tensor(), logit, st);
  kc::add_sigmoid_scaled(out, y, logit, st);
}

void CudaDecoderLm::prepare(std::int64_t max_rows, std::int64_t max_sequences) {
  if (max_rows < 1 || max_sequences < 1) {
    throw_error(ErrorCode::kInvalidArgument, "prepare: {} rows of {} sequences", max_rows, max_sequences);
  }
  ARLE_CUDA_CHECK(cudaSetDevice(device_));
  // Logits rows: every decode graph bucket in one slice; longer lists
  // (prompt logprobs) are computed in slices of this many rows.
  const std::int64_t logit_rows = std::max(CudaGraphs::bucket_for(std::min(max_sequences, CudaGraphs::kMaxRows)),
                                           std::min<std::int64_t>(max_rows, 256));
  prepared_ = false;
  // Fresh buffers of exactly the planned size; the generation keeps rising
  // (graphs captured on the old buffers must not match).
  const std::uint64_t generation = ws_.generation;
  ws_ = Workspace{};
  ws_.generation = generation + 1;
  reserve(max_rows, logit_rows);
  reserve_samples(std::max(logit_rows, max_sequences));
  // Metadata of a full step (rows, sampling rows and their adjustments, page
  // tables); only an unusually long list of adjustments grows it later.
  ws_.metadata = kc::device_empty({metadata_words(max_rows)}, DType::kI32, device_);
  if (use_graphs_) graph_metadata();
  prepared_ = true;
}

std::optional<CausalLm::DeviceMemory> CudaDecoderLm::device_memory() const {
  ARLE_CUDA_CHECK(cudaSetDevice(device_));
  std::size_t free = 0, total = 0;
  ARLE_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  DeviceMemory m;
  m.total = total;
  m.free = free;
  m.workspace = ws_.bytes() + (graph_metadata_.defined() ? graph_metadata_.nbytes() : 0);
  m.workspace += gemm_->workspace_bytes();
  return m;
}

const Tensor& CudaDecoderLm::graph_metadata() {
  if (!graph_metadata_.defined()) {
    graph_metadata_ = kc::device_empty({metadata_words(CudaGraphs::kMaxRows)}, DType::kI32, device_);
  }
  return graph_metadata_;
}

std::int64_t CudaDecoderLm::metadata_words(std::int64_t rows) const {
  // Per row: token id, logit row, rotary cos and sin, sampling parameters,
  // sequence, position and table offset, and query tiles or single rows (at
  // most one word a row; four leave slack); then the adjustments and tables.
  // Hybrid models add each row's sequence and each sequence's first row and
  // state slot (three words a row at most).
  const std::int64_t per_row = 2 + 2 * config_.head_dim + kSamplingRowWords + 3 + 4 + (hybrid_ ? 3 : 0);
  return rows * per_row + kSamplingAdjustmentWords * kGraphAdjustments + kGraphTableWords;
}

std::uint64_t CudaDecoderLm::Workspace::bytes() const {
  std::uint64_t total = 0;
  for (const Tensor* t : {&residual,
                          &h,
                          &qkv,
                          &attention,
                          &o,
                          &mlp_out,
                          &gate_up,
                          &act,
                          &attention_scratch,
                          &last,
                          &logits,
                          &metadata,
                          &samples,
                          &moe_router,
                          &moe_meta,
                          &moe_weights,
                          &moe_x,
                          &moe_gate_up,
                          &moe_act,
                          &moe_y,
                          &shared_gate_up,
                          &shared_act,
                          &shared_logit,
                          &proj,
                          &mixed,
                          &beta,
                          &g,
                          &core,
                          &normed,
                          &delta_scratch}) {
    if (t->defined()) total += t->nbytes();
  }
  return total;
}

void CudaDecoderLm::reserve_samples(std::int64_t rows) {
  if (ws_.samples.defined() && ws_.samples.numel() >= rows * kc::kSampleOutputWords) return;
  ws_.samples = kc::device_empty({rows * kc::kSampleOutputWords}, DType::kI32, device_);
  ++ws_.generation;
}

void CudaDecoderLm::reserve(std::int64_t rows, std::int64_t logit_rows) {
  const ModelConfig& c = config_;
  if (rows > ws_.rows) {
    // Grow by half again, so a slowly rising row count reallocates rarely
    // (after prepare() only a caller past its plan gets here).
    const std::int64_t n = prepared_ || ws_.rows == 0 ? rows : std::max(rows, ws_.rows + ws_.rows / 2);
    auto bf16 = [&](std::int64_t width) { return kc::device_empty({n, width}, DType::kBF16, device_); };
    ws_.residual = kc::device_empty({n, c.hidden_size}, DType::kF32, device_);
    ws_.h = bf16(c.hidden_size);
    ws_.qkv = bf16((c.attn_output_gate ? 2 : 1) * c.q_size() + 2 * c.kv_size());  // [q | k | v (| gate)]
    ws_.attention = bf16(c.q_size());
    ws_.o = bf16(c.hidden_size);
    ws_.mlp_out = bf16(c.hidden_size);
    // Dense layers' width (0 in an all-MoE model: one column keeps views valid).
    const std::int64_t inter = std::max<std::int64_t>(1, c.intermediate_size);
    ws_.gate_up = bf16(2 * inter);
    ws_.act = bf16(inter);
    ws_.attention_scratch = kc::device_empty(
        {kc::paged_attention_workspace_floats(n, c.num_attention_heads, c.num_kv_heads, c.head_dim, device_)},
        DType::kF32, device_);
    if (moe_) {
      const std::int64_t assignments = n * c.moe.experts_per_token;
      const std::int64_t inter = std::max<std::int64_t>(1, c.moe.expert_intermediate_size);
      ws_.moe_router = kc::device_empty({n, c.moe.num_experts}, DType::kF32, device_);
      ws_.moe_meta = kc::device_empty({kc::moe_routing_words(assignments, c.moe.num_experts)}, DType::kI32, device_);
      ws_.moe_weights = kc::device_empty({assignments}, DType::kF32, device_);
      ws_.moe_x = kc::device_empty({assignments, c.hidden_size}, DType::kBF16, device_);
      ws_.moe_gate_up = kc::device_empty({assignments, 2 * inter}, DType::kBF16, device_);
      ws_.moe_act = kc::device_empty({assignments, inter}, DType::kBF16, device_);
      ws_.moe_y = kc::device_empty({assignments, c.hidden_size}, DType::kBF16, device_);
    }
    if (c.moe.shared_expert_intermediate_size > 0) {
      ws_.shared_gate_up = bf16(2 * c.moe.shared_expert_intermediate_size);
      ws_.shared_act = bf16(c.moe.shared_expert_intermediate_size);
      ws_.shared_logit = kc::device_empty({n, 1}, DType::kF32, device_);
    }
    if (hybrid_) {
      const LinearAttentionConfig& la = c.linear;
      const std::int64_t key = la.num_key_heads * la.key_head_dim, value = la.num_value_heads * la.value_head_dim;
      const std::int64_t conv = 2 * key + value;
      auto f32 = [&](std::int64_t width) { return kc::device_empty({n, width}, DType::kF32, device_); };
      ws_.proj = bf16(conv + value + 2 * la.num_value_heads);
      ws_.mixed = f32(conv);
      ws_.beta = f32(la.num_value_heads);
      ws_.g = f32(la.num_value_heads);
      ws_.core = f32(value);
      ws_.normed = bf16(value);
      // The chunked delta rule's per-row scratch (W, U, P and G of each value
      // head); without it prefill would walk its rows one by one.
      if (chunked_delta_rule_ && la.key_head_dim % 4 == 0 && la.value_head_dim % 4 == 0) {
        ws_.delta_scratch = f32(kc::delta_rule_scratch_width(la.num_value_heads, la.key_head_dim, la.value_head_dim));
      }
    }
    ws_.rows = n;
    ++ws_.generation;
  }
  // Once prepared, the logits buffer keeps its size: longer steps run the
  // head in slices.
  if (logit_rows > ws_.logit_rows && !prepared_) {
    const std::int64_t n = ws_.logit_rows == 0 ? logit_rows : std::max(logit_rows, ws_.logit_rows + ws_.logit_rows / 2);
    ws_.last = kc::device_empty({n, c.hidden_size}, DType::kBF16, device_);
    ws_.logits = kc::device_empty({n, c.vocab_size}, DType::kF32, device_);
    ws_.logit_rows = n;
    ++ws_.generation;
  }
}

CudaDecoderLm::StepInputs CudaDecoderLm::stage(const ForwardBatch& batch, std::int64_t page_size,
                                               const std::vector<SamplingRow>& sampled, std::int64_t pad_to,
                                               Tensor& device_buffer) {
  // The step's metadata in one host buffer and one copy:
  //   token ids | logit rows | rotary cos | sin (float32 bits, from the same
  //   RopeTable as the CPU) | sampling params | adjustments | paged batch.
  // Padded (CUDA graph) steps put everything but the page tables at offsets
  // fixed by pad_to; padding rows read token 0 at position -1.
  const std::int64_t rows = batch.rows(), logit_rows = std::ssize(batch.logit_rows);
  const std::int64_t padded_rows = std::max(rows, pad_to), padded_logits = std::max(logit_rows, pad_to);
  Tensor cos_host, sin_host;
  rope_.fill(batch.positions, cos_host, sin_host);
  const std::int64_t half = cos_host.size(1);
  staging_.assign(static_cast<std::size_t>(padded_rows + padded_logits + 2 * padded_rows * half), 0);
  std::copy(batch.token_ids.begin(), batch.token_ids.end(), staging_.begin());
  std::copy(batch.logit_rows.begin(), batch.logit_rows.end(), staging_.begin() + padded_rows);
  for (std::int64_t r = logit_rows; r < padded_logits; ++r) staging_[static_cast<std::size_t>(padded_rows + r)] = r;
  const std::int64_t at_cos = padded_rows + padded_logits, at_sin = at_cos + padded_rows * half;
  std::memcpy(staging_.data() + at_cos, cos_host.raw_data(), static_cast<std::size_t>(rows * half) * sizeof(float));
  std::memcpy(staging_.data() + at_sin, sin_host.raw_data(), static_cast<std::size_t>(rows * half) * sizeof(float));
  StepInputs in;
  in.rows = padded_rows;
  in.logit_rows = padded_logits;
  in.sampling_at = static_cast<std::int64_t>(staging_.size());
  in.sampling = pack_sampling_rows(sampled, padded_logits, config_.vocab_size, staging_, pad_to,
                                   pad_to > 0 ? kGraphAdjustments : 0);
  // Hybrid models: sequences numbered in row order (their rows are
  // adjacent), each one's first row and state slot, then each row's
  // sequence; before the paged batch, so a padded (graph) step finds them at
  // fixed offsets. Padding rows are sequences of their own without a slot
  // (-1), which the linear-attention kernels leave alone.
  const auto state_at = static_cast<std::int64_t>(staging_.size());
  std::int64_t sequences = 0;
  if (hybrid_) {
    std::vector<std::int32_t> begin{0}, slots, row_seq;
    std::int64_t longest = 0, run = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      run = r > 0 && batch.row_sequence[r] == batch.row_sequence[r - 1] ? run + 1 : 1;
      longest = std::max(longest, run);
      if (r > 0 && batch.row_sequence[r] != batch.row_sequence[r - 1]) begin.push_back(static_cast<std::int32_t>(r));
      if (r == 0 || batch.row_sequence[r] != batch.row_sequence[r - 1]) {
        slots.push_back(batch.state_slots[static_cast<std::size_t>(batch.row_sequence[r])]);
      }
      row_seq.push_back(static_cast<std::int32_t>(slots.size() - 1));
    }
    for (std::int64_t r = rows; r < padded_rows; ++r) {
      begin.push_back(static_cast<std::int32_t>(r));
      slots.push_back(-1);
      row_seq.push_back(static_cast<std::int32_t>(slots.size() - 1));
    }
    begin.push_back(static_cast<std::int32_t>(padded_rows));
    sequences = std::ssize(slots);
    in.state.longest = std::max<std::int64_t>(longest, padded_rows > rows ? 1 : 0);
    staging_.insert(staging_.end(), begin.begin(), begin.end());
    staging_.insert(staging_.end(), slots.begin(), slots.end());
    staging_.insert(staging_.end(), row_seq.begin(), row_seq.end());
  }
  std::vector<const std::vector<std::int32_t>*> tables(batch.page_tables.begin(), batch.page_tables.end());
  const kc::PagedLayout layout =
      kc::append_paged_batch(staging_, tables, batch.row_sequence, batch.positions, page_size, pad_to);
  const auto total = static_cast<std::int64_t>(staging_.size());
  if (!device_buffer.defined() || device_buffer.numel() < total) {
    device_buffer = kc::device_empty({total + total / 2}, DType::kI32, device_);
  }
  ARLE_CUDA_CHECK(cudaMemcpyAsync(device_buffer.raw_data(), staging_.data(), static_cast<std::size_t>(total) * 4,
                                  cudaMemcpyHostToDevice, stream_));
  in.meta = device_buffer;
  in.ids = device_buffer.narrow_rows(0, padded_rows);
  in.logit_ids = device_buffer.narrow_rows(padded_rows, padded_rows + padded_logits);
  auto f32_view = [&](std::int64_t at) {
    return Tensor::view_of(device_buffer.storage(), static_cast<std::size_t>(at) * 4, {padded_rows, half}, DType::kF32);
  };
  in.cos = f32_view(at_cos);
  in.sin = f32_view(at_sin);
  in.paged = kc::paged_batch_view(device_buffer, layout);
  if (hybrid_) {
    in.state.sequences = sequences;
    in.state.rows = padded_rows;
    in.state.begin = device_buffer.narrow_rows(state_at, state_at + sequences + 1);
    in.state.slot = device_buffer.narrow_rows(state_at + sequences + 1, state_at + 2 * sequences + 1);
    in.state.row_seq =
        device_buffer.narrow_rows(state_at + 2 * sequences + 1, state_at + 2 * sequences + 1 + padded_rows);
  }
  return in;
}

void CudaDecoderLm::enqueue(const StepInputs& in, PagedKvCache& cache, const SliceDone& slice_done) {
  const ModelConfig& c = config_;
  const std::int64_t rows = in.rows, n = in.logit_rows;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  const std::int64_t q_size = c.q_size();
  const Tensor residual = ws_.residual.narrow_rows(0, rows), h = ws_.h.narrow_rows(0, rows);
  const Tensor qkv = ws_.qkv.narrow_rows(0, rows), attention = ws_.attention.narrow_rows(0, rows);
  const Tensor o = ws_.o.narrow_rows(0, rows), mlp_out = ws_.mlp_out.narrow_rows(0, rows);
  const Tensor gate_up = ws_.gate_up.narrow_rows(0, rows), act = ws_.act.narrow_rows(0, rows);
  CUstream_st* const st = stream_;

  // residual carries the hidden state in float32, from zero; every norm
  // first adds a branch's output into it (fused), then normalizes into h.
  ARLE_CUDA_CHECK(cudaMemsetAsync(residual.raw_data(), 0, residual.nbytes(), st));
  kc::embedding(embed_tokens_, in.ids, mlp_out, st);
  const std::int64_t qkv_size = q_size + 2 * c.kv_size();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    const auto layer = static_cast<std::int64_t>(i);
    kc::rms_norm(mlp_out, l.input_norm, eps, norm_offset_, h, residual, st);
    if (l.type == LayerType::kLinearAttention) {
      linear_attention(l, layer, in.state, cache, h, o);
    } else {
      gemm_->linear(h, l.qkv, l.qkv_bias, qkv, st);
      kc::qkv_norm_rope_write(qkv.narrow_cols(0, qkv_size), c.num_attention_heads, c.head_dim,
                              c.qk_norm ? l.q_norm : Tensor(), c.qk_norm ? l.k_norm : Tensor(), eps, norm_offset_,
                              in.cos, in.sin, kernels::cpu::RopeLayout::kNeox, in.paged, cache.k(layer), cache.v(layer),
                              st);
      kc::paged_attention(qkv.narrow_cols(0, q_size), in.paged, cache.k(layer), cache.v(layer), c.num_attention_heads,
                          scale, attention, ws_.attention_scratch, st);
      // Qwen3.5's gated attention: the output times sigmoid of q_proj's gate half.
      if (c.attn_output_gate) kc::sigmoid_mul(attention, qkv.narrow_cols(qkv_size, qkv_size + q_size), st);
      gemm_->linear(attention, l.o_proj, l.o_bias, o, st);
    }
    kc::rms_norm(o, l.post_attention_norm, eps, norm_offset_, h, residual, st);
    if (!l.experts.empty()) {
      moe(l, h, mlp_out);
      if (l.shared_gate.defined()) shared_expert(l, h, mlp_out);
      continue;
    }
    if (!gemm_->gated_linear(h, l.mlp.gate_up, l.mlp.gate_up_bias, act, st)) {
      gemm_->linear(h, l.mlp.gate_up, l.mlp.gate_up_bias, gate_up, st);
      kc::silu_and_mul(gate_up, act, st);
    }
    gemm_->linear(act, l.mlp.down, l.mlp.down_bias, mlp_out, st);
  }
  kc::rms_norm(mlp_out, final_norm_, eps, norm_offset_, h, residual, st);
  // Logits, in float32, only for the rows that need them, a buffer's worth
  // at a time; each slice's sampling rows are sampled before the next.
  for (std::int64_t first = 0; first < n; first += ws_.logit_rows) {
    const std::int64_t end = std::min(n, first + ws_.logit_rows);
    const Tensor last = ws_.last.narrow_rows(0, end - first);
    kc::embedding(h, in.logit_ids.narrow_rows(first, end), last, st);
    const Tensor logits = ws_.logits.narrow_rows(0, end - first);
    gemm_->linear(last, lm_head_, Tensor(), logits, st);
    if (in.sampling.rows > 0) {
      sample_rows(logits, in.meta, in.sampling_at, in.sampling,
                  ws_.samples.narrow_rows(0, in.sampling.rows * kc::kSampleOutputWords), st, first);
    }
    if (slice_done) slice_done(first, end);
  }
}

bool CudaDecoderLm::graphable(const ForwardBatch& batch, const std::vector<std::int32_t>& host_rows,
                              const std::vector<SamplingRow>& sampled) const {
  // A step where every row is its sequence's only row and is sampled in
  // order: decode (or one-token prefill chunks), the same launches every time.
  const std::int64_t rows = batch.rows();
  const std::int64_t bucket = CudaGraphs::bucket_for(rows);
  if (!use_graphs_ || !host_rows.empty() || bucket == 0) return false;
  if (prepared_ && bucket > ws_.logit_rows) return false;  // one slice of logits only
  if (std::ssize(batch.logit_rows) != rows || std::ssize(sampled) != rows || std::ssize(batch.page_tables) != rows) {
    return false;
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    if (batch.logit_rows[r] != r || sampled[r].logit_row != r) return false;
  }
  std::int64_t table_words = 0;
  for (const auto* t : batch.page_tables) table_words += std::ssize(*t);
  return count_adjustments(sampled) <= kGraphAdjustments && table_words <= kGraphTableWords;
}

Tensor CudaDecoderLm::forward(const ForwardBatch& batch, PagedKvCache& cache) {
  if (batch.rows() == 0) return Tensor::empty({0, config_.vocab_size}, DType::kF32);
  validate_forward_batch(batch, config_.vocab_size, cache);
  ARLE_CUDA_CHECK(cudaSetDevice(device_));
  reserve(batch.rows(), std::max<std::int64_t>(std::ssize(batch.logit_rows), 1));
  const StepInputs in = stage(batch, cache.page_size(), {}, 0, ws_.metadata);
  Tensor logits = Tensor::empty({in.logit_rows, config_.vocab_size}, DType::kF32);
  enqueue(in, cache, [&](std::int64_t first, std::int64_t end) {
    ARLE_CUDA_CHECK(cudaMemcpyAsync(logits.narrow_rows(first, end).raw_data(), ws_.logits.raw_data(),
                                    static_cast<std::size_t>((end - first) * config_.vocab_size) * sizeof(float),
                                    cudaMemcpyDeviceToHost, stream_));
  });
  ARLE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return logits;
}

CausalLm::StepOutput CudaDecoderLm::forward_and_sample(const ForwardBatch& batch, PagedKvCache& cache,
                                                       const std::vector<std::int32_t>& host_rows,
                                                       const std::vector<SamplingRow>& sampled) {
  const std::int64_t vocab = config_.vocab_size;
  StepOutput out;
  out.logits = Tensor::empty({static_cast<std::int64_t>(host_rows.size()), vocab}, DType::kF32);
  if (batch.rows() == 0) return out;
  validate_forward_batch(batch, vocab, cache);
  const auto logit_rows = static_cast<std::int64_t>(batch.logit_rows.size());
  for (std::int32_t r : host_rows) {
    if (r < 0 || r >= logit_rows) throw_error(ErrorCode::kInvalidArgument, "host logits row {} is out of range", r);
    for (const SamplingRow& row : sampled) {
      if (row.logit_row == r) throw_error(ErrorCode::kInvalidArgument, "logits row {} is both sampled and copied", r);
    }
  }
  ARLE_CUDA_CHECK(cudaSetDevice(device_));
  StepInputs in;
  if (graphable(batch, host_rows, sampled)) {
    const std::int64_t bucket = CudaGraphs::bucket_for(batch.rows());
    reserve(bucket, bucket);
    reserve_samples(bucket);
    graph_metadata();
    in = stage(batch, cache.page_size(), sampled, bucket, graph_metadata_);
    // Long contexts split attention the most; the graph keeps that count.
    in.paged.max_context = config_.max_position_embeddings;
    // What the graph bakes in: the workspace, the metadata buffer and every
    // layer's cache address (a new cache may reuse some of an old one's).
    std::uint64_t key = 1469598103934665603ull;
    auto mix = [&key](std::uint64_t v) { key = (key ^ v) * 1099511628211ull; };
    mix(ws_.generation);
    mix(reinterpret_cast<std::uintptr_t>(graph_metadata_.raw_data()));
    for (std::int64_t l = 0; l < cache.num_layers(); ++l) {
      const bool linear = layers_[static_cast<std::size_t>(l)].type == LayerType::kLinearAttention;
      mix(reinterpret_cast<std::uintptr_t>(linear ? cache.conv_window(l).raw_data() : cache.k(l).raw_data()));
      mix(reinterpret_cast<std::uintptr_t>(linear ? cache.recurrent_state(l).raw_data() : cache.v(l).raw_data()));
    }
    graphs_.run(bucket, key, stream_, [&] { enqueue(in, cache); });
  } else {
    reserve(batch.rows(), std::max<std::int64_t>(logit_rows, 1));
    reserve_samples(std::ssize(sampled));
    in = stage(batch, cache.page_size(), sampled, 0, ws_.metadata);
    // Host rows are copied out of each slice of logits before the next.
    enqueue(in, cache, [&](std::int64_t first, std::int64_t end) {
      for (std::size_t i = 0; i < host_rows.size(); ++i) {
        if (host_rows[i] < first || host_rows[i] >= end) continue;
        ARLE_CUDA_CHECK(
            cudaMemcpyAsync(out.logits.data<float>() + static_cast<std::int64_t>(i) * vocab,
                            ws_.logits.narrow_rows(host_rows[i] - first, host_rows[i] - first + 1).raw_data(),
                            static_cast<std::size_t>(vocab) * sizeof(float), cudaMemcpyDeviceToHost, stream_));
      }
    });
  }
  ARLE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (!sampled.empty()) out.sampled = unpack_samples(ws_.samples, static_cast<std::int64_t>(sampled.size()));
  return out;
}

}  // namespace arle::model
