#pragma once
// Launchers of ARLE's own CUDA kernels: raw device pointers and sizes, so
// that this header is plain C++17 for both nvcc and g++. Activations are
// float32 or bf16 (`bf16` picks), rows may be strided (`ld*`, in elements);
// all math is float32. Shapes are checked by the callers (cuda_ops.h).

#include <cstdint>

struct CUstream_st;

namespace arle::kernels::cuda {

// out[r, :] = table[ids[r], :]
void launch_embedding(const std::int32_t* ids, std::int64_t rows, const void* table, std::int64_t dim, void* out,
                      std::int64_t ldo, bool bf16, CUstream_st* stream);

// RMSNorm of each row: out = x / rms(x) * (offset ? 1 + w : w). With a
// residual, first residual = x + residual (stored), and the sum is normalized
// (vLLM's fused_add_rms_norm). The residual is float32 (residual_f32) or of
// the activations' type.
void launch_rms_norm(const void* x, std::int64_t ldx, void* residual, std::int64_t ldr, bool residual_f32,
                     const void* w, void* out, std::int64_t ldo, std::int64_t rows, std::int64_t width, float eps,
                     bool offset, bool bf16, CUstream_st* stream);

// Per head of each row, in place: optional RMSNorm over head_dim with
// norm_w (Qwen3 q/k norm; null skips it), then RoPE on the first rotary_dim
// components with cos/sin [rows, rotary_dim / 2] (float32). neox: pairs
// (i, i + rotary_dim/2), else (2i, 2i + 1).
void launch_head_norm_rope(void* x, std::int64_t ldx, std::int64_t rows, std::int64_t heads, std::int64_t head_dim,
                           const void* norm_w, float eps, bool norm_offset, const float* cos, const float* sin,
                           std::int64_t rotary_dim, bool neox, bool bf16, CUstream_st* stream);

// [rows, 2d] laid out [gate | up] -> out[rows, d] = silu(gate) * up.
void launch_silu_and_mul(const void* in, std::int64_t ldi, void* out, std::int64_t ldo, std::int64_t rows,
                         std::int64_t d, bool bf16, CUstream_st* stream);

// x[i] += y[i] for n contiguous elements.
void launch_add(void* x, const void* y, std::int64_t n, bool bf16, CUstream_st* stream);

// MoE combine: out[r] = sum over j < k of weights[r * k + j] * y[index[r * k + j]],
// in j order (the caller lists each row's experts in ascending expert id).
// out [rows, width], y [*, width], both contiguous.
void launch_combine_rows(const void* y, const std::int32_t* index, const float* weights, std::int64_t rows,
                         std::int64_t k, std::int64_t width, void* out, bool bf16, CUstream_st* stream);

}  // namespace arle::kernels::cuda

namespace arle::kernels::cuda {

// Where each row of a step lives in the paged KV cache (device arrays):
// row r belongs to sequence row_seq[r], whose page ids start at
// block_tables[table_offsets[row_seq[r]]], and sits at positions[r]; it
// attends to positions [0, positions[r]]. A row at position -1 is padding
// (a CUDA graph's spare rows): nothing is written for it and its attention
// output is zero.
struct PagedMeta {
  const std::int32_t* block_tables;
  const std::int32_t* table_offsets;
  const std::int32_t* row_seq;
  const std::int32_t* positions;
  std::int64_t rows;
  std::int64_t page_size;
};

// Writes each row's K and V ([rows, kv_width], row stride ld) into its slot;
// caches are [pages, page_size, kv_width].
void launch_paged_kv_write(const void* k, const void* v, std::int64_t ld, const PagedMeta& meta, std::int64_t kv_width,
                           void* k_cache, void* v_cache, bool bf16, CUstream_st* stream);

// The attention inputs of a step, fused: in qkv [rows, (q_heads + 2 kv_heads)
// * head_dim] (row stride ld), q heads get RMSNorm with q_norm (when given)
// and RoPE in place; k heads the same with k_norm, written to their cache
// slot; v heads are copied to theirs. Replaces head_norm_rope on q and k and
// paged_kv_write (one launch instead of three).
void launch_qkv_norm_rope_write(void* qkv, std::int64_t ld, std::int64_t rows, std::int64_t q_heads,
                                std::int64_t kv_heads, std::int64_t head_dim, const void* q_norm, const void* k_norm,
                                float eps, bool norm_offset, const float* cos, const float* sin,
                                std::int64_t rotary_dim, bool neox, const PagedMeta& meta, void* k_cache, void* v_cache,
                                bool bf16, CUstream_st* stream);

// Causal attention of q [rows, q_heads * head_dim] (row stride ldq) against
// the cache, GQA by q_heads / kv_heads; out [rows, q_heads * head_dim]
// (row stride ldo). Float32 softmax and accumulation, any head_dim up to 512.
// When few (row, head) pairs would leave the GPU idle (decode), each one's
// context is split into `splits` chunks computed in parallel and merged by a
// second kernel (flash-decoding); `workspace` then holds
// rows * q_heads * splits * (head_dim + 2) floats. paged_attention_splits()
// picks the count. With a `row_list` (device, list_rows entries) only those
// rows are computed, and the workspace holds list_rows rows' partials.
void launch_paged_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const void* k_cache,
                            const void* v_cache, std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim,
                            float scale, void* out, std::int64_t ldo, std::int64_t splits, float* workspace, bool bf16,
                            const std::int32_t* row_list, std::int64_t list_rows, CUstream_st* stream);

// The same attention for query tiles on tensor cores (FlashAttention-2
// style, prefill_attention.cu), bf16 only, head_dim 64, 128 or 256. Tile t
// is the rows [tiles[2t], tiles[2t + 1]) of one sequence, at most 64; device
// array. q, out, ldq, ldo and the caches' rows must be 16-byte aligned.
bool prefill_attention_supports(std::int64_t head_dim);
void launch_prefill_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const std::int32_t* tiles,
                              std::int64_t tile_count, const void* k_cache, const void* v_cache, std::int64_t q_heads,
                              std::int64_t kv_heads, std::int64_t head_dim, float scale, void* out, std::int64_t ldo,
                              CUstream_st* stream);
inline constexpr std::int64_t kPrefillTileRows = 64;

// Decode attention on tensor cores (decode_attention.cu): the same result as
// launch_paged_attention for its rows (or the row list), bf16 only, head_dim
// 64, 128 or 256 and at most 16 query heads per kv head; one block per (row,
// kv head, split) reads each K/V byte once for the group. Splits (from
// paged_attention_splits with kv_heads blocks per row) merge as in
// launch_paged_attention, with the same workspace bound.
bool decode_attention_supports(std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim);
void launch_decode_attention(const void* q, std::int64_t ldq, const PagedMeta& meta, const void* k_cache,
                             const void* v_cache, std::int64_t q_heads, std::int64_t kv_heads, std::int64_t head_dim,
                             float scale, void* out, std::int64_t ldo, std::int64_t splits, float* workspace,
                             const std::int32_t* row_list, std::int64_t list_rows, CUstream_st* stream);
// The merge of split partials: workspace [(i * q_heads + h) * splits + s]
// holds (max, sum, acc[head_dim]) of launch row i (row_list[i] in the step,
// or i), max in natural-log units; out gets sum-normalized rows.
void launch_split_merge(const float* workspace, std::int64_t rows, std::int64_t q_heads, std::int64_t head_dim,
                        std::int64_t splits, void* out, std::int64_t ldo, const std::int32_t* row_list, bool bf16,
                        CUstream_st* stream);
// Splits for `rows` rows of at most `max_context` positions, each row taking
// `blocks_per_row` blocks per split (query heads for the CUDA-core kernel,
// kv heads for the tensor-core one), on a GPU of `multiprocessors` SMs:
// enough blocks for about four per SM, chunks of at least 64 positions.
std::int64_t paged_attention_splits(std::int64_t rows, std::int64_t blocks_per_row, std::int64_t max_context,
                                    int multiprocessors);

}  // namespace arle::kernels::cuda

namespace arle::kernels::cuda {

// MoE on the device (moe.cu). Routing gives each row k (expert, weight)
// pairs in ascending expert id; grouping lays the row * k assignments out in
// per-expert runs (assignment a sits at slot index[a] and gathers row
// gather[slot]) cut into tiles of kMoeTileRows rows of one expert.
inline constexpr int kMoeMaxExperts = 512, kMoeMaxTopK = 16, kMoeTileRows = 64;
struct MoeGroups {
  std::int32_t* gather;       // [assignments] slot -> row
  std::int32_t* index;        // [assignments] assignment -> slot
  std::int32_t* tile_expert;  // [max tiles]
  std::int32_t* tile_begin;   // [max tiles] first slot
  std::int32_t* tile_end;     // [max tiles] one past the last slot
  std::int32_t* tile_count;   // [1] tiles in use
};
// Softmax over `experts` router logits per row (float32), top k (ties to the
// lower id), weights renormalized over the k when `normalize` (cpu::moe_route),
// into ids / weights [rows * k]; then the grouping (scratch: rows * k words).
void launch_moe_route(const float* logits, std::int64_t rows, std::int64_t experts, std::int64_t k, bool normalize,
                      std::int32_t* ids, float* weights, std::int32_t* scratch, const MoeGroups& groups,
                      CUstream_st* stream);
// Tiles the grouping can produce for `assignments` over `experts`.
std::int64_t moe_max_tiles(std::int64_t assignments, std::int64_t experts);
// For every tile: y[slots] = x[slots] w_e^T with x [assignments, k] and y
// [assignments, n] contiguous bf16, w_e = expert_weights[e] [n, k] bf16
// (a device array of pointers); float32 accumulation on tensor cores. k a
// multiple of 8.
void launch_grouped_gemm(const void* x, const void* const* expert_weights, std::int64_t n, std::int64_t k,
                         const MoeGroups& groups, std::int64_t max_tiles, void* y, CUstream_st* stream);

// Device sampling (sampling.cu). One logits row's choice; layouts shared with
// the host packing in model/cuda_sampling.cpp.
struct SampleRowParams {
  std::int32_t logit_row;
  float temperature;   // 0: greedy
  std::int32_t top_k;  // 0: off
  float top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty;
  float uniform;                          // the draw, [0, 1)
  std::int32_t logprobs;                  // -1: none, else the top N (N <= kSampleTopMax)
  std::int32_t adjust_begin, adjust_end;  // this row's SampleAdjustments
};
inline constexpr int kSampleAdjustBanned = 1, kSampleAdjustSeen = 2;
struct SampleAdjustment {
  std::int32_t token;
  float bias;
  std::int32_t count;
  std::int32_t flags;  // kSampleAdjust*
  float saved;         // written by the kernel: the raw logit it replaced
};
inline constexpr int kSampleTopMax = 20;
// Per row: token (-1: no finite logit), its raw logprob (float bits), the
// number of alternatives, then (token, logprob bits) pairs, most likely first.
inline constexpr int kSampleOutputWords = 3 + 2 * kSampleTopMax;

// For each of `n` rows: logprobs of the raw logits (when asked), then the
// row's adjustments applied to logits in place, then greedy argmax (ties to
// the lower id) or the filtered draw: p = exp((l - max) / T), kept where
// p >= min_p, among the top_k and within the smallest most-likely set
// reaching top_p of the mass (ties at a cut all kept), then the token where
// the cumulative kept mass in id order passes uniform * total. Masses are
// fixed-point integers, so results do not depend on thread timing.
// `logits` holds logits rows [first_row, end_row) only (a slice of a step's
// rows): rows of other slices are left alone.
void launch_sample_rows(float* logits, std::int64_t vocab, const SampleRowParams* rows, std::int64_t n,
                        SampleAdjustment* adjustments, std::int32_t* out, std::int64_t first_row, std::int64_t end_row,
                        CUstream_st* stream);

}  // namespace arle::kernels::cuda

namespace arle::kernels::cuda {

// y[m, n] = x[m, k] * w[n, k]^T (+ bias[n]) for 1 <= m <= kSkinnyRows, bf16 x,
// w and bias, float32 accumulation, bf16 (or float32: f32_out) y. Needs k a
// multiple of 8, ldx a multiple of 8 and 16-byte aligned x and w (the caller
// checks; CublasLtGemm::linear routes here). gated: w (and bias) hold [gate;
// up], 2n rows, and y = silu(x gate^T) * (x up^T), SiLU-and-mul fused.
inline constexpr std::int64_t kSkinnyRows = 8;
void launch_skinny_gemm(const void* x, std::int64_t ldx, const void* w, std::int64_t m, std::int64_t n, std::int64_t k,
                        const void* bias, void* out, std::int64_t ldo, bool f32_out, bool gated, CUstream_st* stream);

}  // namespace arle::kernels::cuda

namespace arle::kernels::cuda {

// Qwen3.5's linear-attention kernels (gated_deltanet.cu); gated_deltanet.h
// says what each computes. Sequences: rows [seq_begin[s], seq_begin[s + 1]),
// state slot seq_slot[s] (-1: padding rows, which get zeros and touch no
// state); row_seq[r] is row r's sequence (device int32).
// `longest` is the most rows of one sequence (known on the host).
struct StateRows {
  const std::int32_t* seq_begin;
  const std::int32_t* seq_slot;
  const std::int32_t* row_seq;
  std::int64_t sequences, rows, longest;
};
inline constexpr int kDeltaRuleMaxKeyDim = 128;
inline constexpr int kDeltaRuleChunk = 64;
void launch_causal_conv1d_silu(const void* x, std::int64_t ldx, const StateRows& rows, std::int64_t channels,
                               const float* w, std::int64_t kernel, float* windows, float* out, std::int64_t ldo,
                               bool bf16, CUstream_st* stream);
void launch_gdn_gates(float* mixed, std::int64_t ldm, std::int64_t rows, std::int64_t key_heads, std::int64_t key_dim,
                      const void* b, const void* a, std::int64_t ldp, std::int64_t value_heads, const float* neg_exp_a,
                      const float* dt_bias, float* beta, float* g, bool bf16, CUstream_st* stream);
// The recurrent form, for every sequence or (single_rows_only) for the
// sequences of one row, which the chunked form (delta_rule_chunked.cu)
// leaves to it.
void launch_gated_delta_rule(const float* mixed, std::int64_t ldm, std::int64_t key_heads, std::int64_t key_dim,
                             std::int64_t value_heads, std::int64_t value_dim, const float* g, const float* beta,
                             const StateRows& rows, float* state, float* out, std::int64_t ldo, bool single_rows_only,
                             CUstream_st* stream);
// The chunked form for the sequences of two rows or more; scratch is
// float32 [rows, delta_rule_scratch_width(...)], 16-byte aligned. Needs
// key_dim <= 128, and key_dim and value_dim multiples of 4.
std::int64_t delta_rule_scratch_width(std::int64_t value_heads, std::int64_t key_dim, std::int64_t value_dim);
void launch_gated_delta_rule_chunked(const float* mixed, std::int64_t ldm, std::int64_t key_heads, std::int64_t key_dim,
                                     std::int64_t value_heads, std::int64_t value_dim, const float* g,
                                     const float* beta, const StateRows& rows, float* state, float* out,
                                     std::int64_t ldo, float* scratch, CUstream_st* stream);
void launch_gated_rms_norm(const float* core, std::int64_t ldc, const void* z, std::int64_t ldz, const float* w,
                           std::int64_t rows, std::int64_t heads, std::int64_t head_dim, float eps, void* out,
                           std::int64_t ldo, bool bf16, CUstream_st* stream);
void launch_sigmoid_mul(void* x, std::int64_t ldx, const void* gate, std::int64_t ldg, std::int64_t rows,
                        std::int64_t width, bool bf16, CUstream_st* stream);
void launch_add_sigmoid_scaled(void* x, std::int64_t ldx, const void* y, std::int64_t ldy, const float* gate,
                               std::int64_t ldg, std::int64_t rows, std::int64_t width, bool bf16, CUstream_st* stream);

}  // namespace arle::kernels::cuda
