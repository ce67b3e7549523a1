#pragma once
// The CUDA kernels on Tensors: shape, dtype and device checks in front of
// kernels.h and the cuBLASLt GEMM. Activations are bf16 (or float32) device
// tensors [rows, width] whose rows may be strided; weights are contiguous and
// of the activations' dtype. Every call is enqueued on `stream` (null: the
// default stream) and returns without waiting.

#include <cstdint>
#include <vector>

#include "kernels/cpu/rope.h"
#include "kernels/cuda/kernels.h"
#include "tensor/tensor.h"

struct CUstream_st;

namespace arle::kernels::cuda {

// int32 values on the device (token ids, row indices).
Tensor upload_i32(const std::vector<std::int32_t>& values, int device = 0);

// out[r] = table[ids[r]]; ids are int32 on the device and must be in range.
void embedding(const Tensor& table, const Tensor& ids, const Tensor& out, CUstream_st* stream = nullptr);
// out = RMSNorm(x) * (offset ? 1 + w : w). With a residual: residual += x,
// then out = RMSNorm(residual) (x and out may be the same tensor). The
// residual may be float32 under bf16 activations (the model keeps its
// running hidden state exact that way).
void rms_norm(const Tensor& x, const Tensor& w, float eps, bool offset, const Tensor& out, const Tensor& residual = {},
              CUstream_st* stream = nullptr);
// In place on every head_dim slice of every row of x: RMSNorm with norm_w
// (when defined), then RoPE with cos/sin [rows, rotary_dim/2] float32.
void head_norm_rope(const Tensor& x, std::int64_t head_dim, const Tensor& norm_w, float eps, bool norm_offset,
                    const Tensor& cos, const Tensor& sin, cpu::RopeLayout layout, CUstream_st* stream = nullptr);
// [rows, 2d] = [gate | up] -> out [rows, d].
void silu_and_mul(const Tensor& gate_up, const Tensor& out, CUstream_st* stream = nullptr);
// x += y (same shape, contiguous).
void add(const Tensor& x, const Tensor& y, CUstream_st* stream = nullptr);

// MoE combine: out[r] = sum_j weights[r*k + j] * y[index[r*k + j]] in j
// order; index int32 and weights float32 on the device, [rows * k].
void combine_rows(const Tensor& y, const Tensor& index, const Tensor& weights, std::int64_t k, const Tensor& out,
                  CUstream_st* stream = nullptr);

// MoE routing and grouped expert GEMMs on the device (kernels.h MoeGroups)
// for `assignments` (row, expert) pairs: views of an int32 buffer of
// moe_routing_words() words and a float32 one of `assignments` (weights).
struct MoeRouting {
  Tensor ids, weights, scratch, gather, index, tiles, tile_count;
  std::int64_t assignments = 0, max_tiles = 0;
  MoeGroups groups() const;
};
std::int64_t moe_routing_words(std::int64_t assignments, std::int64_t experts);
MoeRouting moe_routing_view(const Tensor& buffer, const Tensor& weights, std::int64_t assignments,
                            std::int64_t experts);
// router_logits [rows, experts] float32 -> r (rows * k == r.assignments).
void moe_route(const Tensor& router_logits, std::int64_t k, bool normalize, const MoeRouting& r,
               CUstream_st* stream = nullptr);
// A device array of the experts' weight pointers ([n, k] bf16 each, alike).
Tensor expert_pointers(const std::vector<Tensor>& weights);
// y [assignments, n] = per tile, x [assignments, k] times its expert's w^T.
void grouped_gemm(const Tensor& x, const Tensor& pointers, std::int64_t n, const MoeRouting& r, const Tensor& y,
                  CUstream_st* stream = nullptr);

// A step's rows in the paged KV cache, on the device: the page tables of its
// sequences (concatenated, each found by its offset), each row's sequence
// and position (-1: a padding row). Built from host vectors with one copy.
// Unpadded batches also list their query tiles (runs of up to 64 rows of
// one sequence, as (begin, end) pairs) and the rows alone in their sequence;
// when no run is longer than one row both are empty (a decode step).
struct PagedBatch {
  Tensor block_tables, table_offsets, row_seq, positions;  // int32
  Tensor tiles, single_rows;                               // int32; see above
  std::int64_t tile_count = 0, single_count = 0;
  std::int64_t page_size = 0;
  std::int64_t max_context = 0;  // the longest row's position + 1 (attention splits by it)
  std::int64_t rows() const { return row_seq.defined() ? row_seq.size(0) : 0; }
};
PagedBatch upload_paged_batch(const std::vector<const std::vector<std::int32_t>*>& page_tables,
                              const std::vector<std::int32_t>& row_seq, const std::vector<std::int64_t>& positions,
                              std::int64_t page_size, int device = 0);

// The same in two halves, for callers that send more metadata in the same
// copy: append the batch to a host buffer (checked: every row inside its
// page table), then view it in the device copy of that buffer. The layout is
// [row_seq | positions | table offsets | tables | tiles | single rows]; with
// `pad_to`, rows and sequences are padded to that count (padding rows at
// position -1), so everything but the tables sits at offsets fixed by pad_to
// (CUDA graphs), and no tiles are listed.
struct PagedLayout {
  std::int64_t offset = 0, sequences = 0, rows = 0, table_words = 0, page_size = 0, max_context = 0;
  std::int64_t tiles = 0, singles = 0;
};
PagedLayout append_paged_batch(std::vector<std::int32_t>& host,
                               const std::vector<const std::vector<std::int32_t>*>& page_tables,
                               const std::vector<std::int32_t>& row_seq, const std::vector<std::int64_t>& positions,
                               std::int64_t page_size, std::int64_t pad_to = 0);
PagedBatch paged_batch_view(const Tensor& device_i32, const PagedLayout& layout);

// Caches are [pages, page_size, kv_heads, head_dim] of the activations' dtype.
// k, v: [rows, kv_heads * head_dim].
void paged_kv_write(const Tensor& k, const Tensor& v, const PagedBatch& batch, const Tensor& k_cache,
                    const Tensor& v_cache, CUstream_st* stream = nullptr);
// The fused attention prologue: qkv [rows, (q_heads + 2 kv_heads) * head_dim];
// per-head RMSNorm (q_norm / k_norm, when defined) and RoPE on q in place and
// on k into the cache, v copied into the cache. The same as head_norm_rope on
// the q and k columns, then paged_kv_write, in one launch.
void qkv_norm_rope_write(const Tensor& qkv, std::int64_t q_heads, std::int64_t head_dim, const Tensor& q_norm,
                         const Tensor& k_norm, float eps, bool norm_offset, const Tensor& cos, const Tensor& sin,
                         cpu::RopeLayout layout, const PagedBatch& batch, const Tensor& k_cache, const Tensor& v_cache,
                         CUstream_st* stream = nullptr);
// q [rows, q_heads * head_dim] -> out [rows, q_heads * head_dim]. Query
// tiles, and decode rows grouped by kv head, run on tensor cores where the
// shape allows (bf16, head_dim 64, 128 or 256). Rows with long contexts and few (row, head) pairs split their
// context across blocks (flash-decoding); the partial results go to
// `workspace` (float32, at least
// paged_attention_workspace_floats() elements), or to a temporary when it
// is undefined or too small.
void paged_attention(const Tensor& q, const PagedBatch& batch, const Tensor& k_cache, const Tensor& v_cache,
                     std::int64_t q_heads, float scale, const Tensor& out, const Tensor& workspace = {},
                     CUstream_st* stream = nullptr);
// Floats of workspace paged_attention may use for `rows` rows.
std::int64_t paged_attention_workspace_floats(std::int64_t rows, std::int64_t q_heads, std::int64_t kv_heads,
                                              std::int64_t head_dim, int device = 0);

}  // namespace arle::kernels::cuda
