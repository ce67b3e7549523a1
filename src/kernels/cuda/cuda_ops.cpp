#include "kernels/cuda/cuda_ops.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

// bf16 or float32 storage on a CUDA device, rows dense.
bool is_bf16(const Tensor& t, const char* what) {
  if (t.device().is_cpu()) throw_error(ErrorCode::kInvalidArgument, "{}: tensor is on the CPU", what);
  if (t.dtype() != DType::kBF16 && t.dtype() != DType::kF32) {
    throw_error(ErrorCode::kInvalidArgument, "{}: {} tensors are not supported", what, dtype_name(t.dtype()));
  }
  if (t.dim() == 2 && t.strides()[1] != 1) throw_error(ErrorCode::kInvalidArgument, "{}: rows must be dense", what);
  return t.dtype() == DType::kBF16;
}

void same_dtype(const Tensor& a, const Tensor& b, const char* what) {
  if (a.dtype() != b.dtype()) throw_error(ErrorCode::kInvalidArgument, "{}: dtypes differ", what);
}

void check_2d(const Tensor& t, const char* what) {
  if (t.dim() != 2) throw_error(ErrorCode::kInvalidArgument, "{}: expected a 2-D tensor", what);
}

// Rotary tables for `rows` rows: float32 [rows, rotary_dim / 2], rotary_dim <= head_dim.
void check_rotary(const Tensor& cos, const Tensor& sin, std::int64_t rows, std::int64_t head_dim, const char* what) {
  if (cos.dtype() != DType::kF32 || sin.dtype() != DType::kF32 || cos.shape() != sin.shape() || cos.dim() != 2 ||
      cos.size(0) != rows || 2 * cos.size(1) > head_dim || !cos.is_contiguous() || !sin.is_contiguous()) {
    throw_error(ErrorCode::kInvalidArgument, "{}: cos/sin must be float32 [rows, rotary_dim/2]", what);
  }
}

// A per-head norm weight, when given: `like`'s dtype, head_dim values.
void check_head_norm(const Tensor& w, const Tensor& like, std::int64_t head_dim, const char* what) {
  if (!w.defined()) return;
  same_dtype(like, w, what);
  if (w.numel() != head_dim) throw_error(ErrorCode::kInvalidArgument, "{}: norm weight size", what);
}

}  // namespace

Tensor upload_i32(const std::vector<std::int32_t>& values, int device) {
  Tensor out = device_empty({static_cast<std::int64_t>(values.size())}, DType::kI32, device);
  if (!values.empty()) {
    ARLE_CUDA_CHECK(cudaMemcpy(out.raw_data(), values.data(), out.nbytes(), cudaMemcpyHostToDevice));
  }
  return out;
}

void embedding(const Tensor& table, const Tensor& ids, const Tensor& out, CUstream_st* stream) {
  const bool bf16 = is_bf16(table, "embedding");
  check_2d(table, "embedding");
  check_2d(out, "embedding");
  same_dtype(table, out, "embedding");
  if (ids.dtype() != DType::kI32 || ids.dim() != 1 || ids.size(0) != out.size(0) || out.size(1) != table.size(1)) {
    throw_error(ErrorCode::kInvalidArgument, "embedding: ids {} and out {} do not fit table {}",
                shape_to_string(ids.shape()), shape_to_string(out.shape()), shape_to_string(table.shape()));
  }
  launch_embedding(ids.data<std::int32_t>(), out.size(0), table.raw_data(), table.size(1), out.raw_data(),
                   out.row_stride(), bf16, stream);
}

void rms_norm(const Tensor& x, const Tensor& w, float eps, bool offset, const Tensor& out, const Tensor& residual,
              CUstream_st* stream) {
  const bool bf16 = is_bf16(x, "rms_norm");
  check_2d(x, "rms_norm");
  check_2d(out, "rms_norm");
  same_dtype(x, w, "rms_norm");
  same_dtype(x, out, "rms_norm");
  if (w.numel() != x.size(1) || out.shape() != x.shape() || (residual.defined() && residual.shape() != x.shape())) {
    throw_error(ErrorCode::kInvalidArgument, "rms_norm: shapes do not fit");
  }
  if (residual.defined()) {
    is_bf16(residual, "rms_norm");
    if (residual.dtype() != DType::kF32) same_dtype(x, residual, "rms_norm");
  }
  launch_rms_norm(x.raw_data(), x.row_stride(), residual.defined() ? residual.raw_data() : nullptr,
                  residual.defined() ? residual.row_stride() : 0, residual.defined() && residual.dtype() == DType::kF32,
                  w.raw_data(), out.raw_data(), out.row_stride(), x.size(0), x.size(1), eps, offset, bf16, stream);
}

void head_norm_rope(const Tensor& x, std::int64_t head_dim, const Tensor& norm_w, float eps, bool norm_offset,
                    const Tensor& cos, const Tensor& sin, cpu::RopeLayout layout, CUstream_st* stream) {
  const bool bf16 = is_bf16(x, "head_norm_rope");
  check_2d(x, "head_norm_rope");
  if (head_dim <= 0 || x.size(1) % head_dim != 0) {
    throw_error(ErrorCode::kInvalidArgument, "head_norm_rope: width {} is not a multiple of head_dim {}", x.size(1),
                head_dim);
  }
  check_rotary(cos, sin, x.size(0), head_dim, "head_norm_rope");
  check_head_norm(norm_w, x, head_dim, "head_norm_rope");
  launch_head_norm_rope(x.raw_data(), x.row_stride(), x.size(0), x.size(1) / head_dim, head_dim,
                        norm_w.defined() ? norm_w.raw_data() : nullptr, eps, norm_offset, cos.data<float>(),
                        sin.data<float>(), 2 * cos.size(1), layout == cpu::RopeLayout::kNeox, bf16, stream);
}

void silu_and_mul(const Tensor& gate_up, const Tensor& out, CUstream_st* stream) {
  const bool bf16 = is_bf16(gate_up, "silu_and_mul");
  check_2d(gate_up, "silu_and_mul");
  check_2d(out, "silu_and_mul");
  same_dtype(gate_up, out, "silu_and_mul");
  if (gate_up.size(1) != 2 * out.size(1) || gate_up.size(0) != out.size(0)) {
    throw_error(ErrorCode::kInvalidArgument, "silu_and_mul: {} does not fit {}", shape_to_string(gate_up.shape()),
                shape_to_string(out.shape()));
  }
  launch_silu_and_mul(gate_up.raw_data(), gate_up.row_stride(), out.raw_data(), out.row_stride(), out.size(0),
                      out.size(1), bf16, stream);
}

void add(const Tensor& x, const Tensor& y, CUstream_st* stream) {
  const bool bf16 = is_bf16(x, "add");
  same_dtype(x, y, "add");
  if (x.shape() != y.shape() || !x.is_contiguous() || !y.is_contiguous()) {
    throw_error(ErrorCode::kInvalidArgument, "add: shapes differ or are strided");
  }
  launch_add(x.raw_data(), y.raw_data(), x.numel(), bf16, stream);
}

void combine_rows(const Tensor& y, const Tensor& index, const Tensor& weights, std::int64_t k, const Tensor& out,
                  CUstream_st* stream) {
  const bool bf16 = is_bf16(y, "combine_rows");
  check_2d(y, "combine_rows");
  check_2d(out, "combine_rows");
  same_dtype(y, out, "combine_rows");
  if (k <= 0 || index.dtype() != DType::kI32 || weights.dtype() != DType::kF32 || index.numel() != out.size(0) * k ||
      weights.numel() != index.numel() || y.size(1) != out.size(1) || !y.is_contiguous() || !out.is_contiguous()) {
    throw_error(ErrorCode::kInvalidArgument, "combine_rows: shapes do not fit");
  }
  launch_combine_rows(y.raw_data(), index.data<std::int32_t>(), weights.data<float>(), out.size(0), k, out.size(1),
                      out.raw_data(), bf16, stream);
}

namespace {

// Runs of consecutive rows of one sequence, cut at kPrefillTileRows: runs of
// two rows or more become tiles, the others single rows. A step without
// tiles lists nothing (every row is single: decode).
void append_query_tiles(std::vector<std::int32_t>& host, const std::vector<std::int32_t>& row_seq, PagedLayout& l) {
  std::vector<std::int32_t> tiles, singles;
  const auto rows = static_cast<std::int32_t>(row_seq.size());
  for (std::int32_t begin = 0, end = 0; begin < rows; begin = end) {
    end = begin + 1;
    while (end < rows && end - begin < kPrefillTileRows && row_seq[end] == row_seq[begin]) ++end;
    if (end - begin == 1) {
      singles.push_back(begin);
    } else {
      tiles.push_back(begin);
      tiles.push_back(end);
    }
  }
  if (tiles.empty()) return;
  l.tiles = std::ssize(tiles) / 2;
  l.singles = std::ssize(singles);
  host.insert(host.end(), tiles.begin(), tiles.end());
  host.insert(host.end(), singles.begin(), singles.end());
}

}  // namespace

MoeGroups MoeRouting::groups() const {
  auto* t = tiles.data<std::int32_t>();
  return {gather.data<std::int32_t>(), index.data<std::int32_t>(),     t, t + max_tiles,
          t + 2 * max_tiles,           tile_count.data<std::int32_t>()};
}

std::int64_t moe_routing_words(std::int64_t assignments, std::int64_t experts) {
  return 4 * assignments + 3 * moe_max_tiles(assignments, experts) + 1;
}

MoeRouting moe_routing_view(const Tensor& buffer, const Tensor& weights, std::int64_t assignments,
                            std::int64_t experts) {
  if (buffer.dtype() != DType::kI32 || buffer.numel() < moe_routing_words(assignments, experts) ||
      weights.dtype() != DType::kF32 || weights.numel() < assignments) {
    throw_error(ErrorCode::kInvalidArgument, "moe routing: the buffers are too small for {} assignments", assignments);
  }
  MoeRouting r;
  r.assignments = assignments;
  r.max_tiles = moe_max_tiles(assignments, experts);
  const std::int64_t a = assignments;
  r.ids = buffer.narrow_rows(0, a);
  r.weights = weights.narrow_rows(0, a);
  r.scratch = buffer.narrow_rows(a, 2 * a);
  r.gather = buffer.narrow_rows(2 * a, 3 * a);
  r.index = buffer.narrow_rows(3 * a, 4 * a);
  r.tiles = buffer.narrow_rows(4 * a, 4 * a + 3 * r.max_tiles);
  r.tile_count = buffer.narrow_rows(4 * a + 3 * r.max_tiles, 4 * a + 3 * r.max_tiles + 1);
  return r;
}

void moe_route(const Tensor& router_logits, std::int64_t k, bool normalize, const MoeRouting& r, CUstream_st* stream) {
  check_2d(router_logits, "moe_route");
  const std::int64_t rows = router_logits.size(0), experts = router_logits.size(1);
  if (router_logits.dtype() != DType::kF32 || !router_logits.is_contiguous() || k < 1 || k > kMoeMaxTopK ||
      k > experts || experts > kMoeMaxExperts || rows * k != r.assignments) {
    throw_error(ErrorCode::kInvalidArgument, "moe_route: top-{} of {} experts for {} rows does not fit", k, experts,
                rows);
  }
  launch_moe_route(router_logits.data<float>(), rows, experts, k, normalize, r.ids.data<std::int32_t>(),
                   r.weights.data<float>(), r.scratch.data<std::int32_t>(), r.groups(), stream);
}

Tensor expert_pointers(const std::vector<Tensor>& weights) {
  if (weights.empty()) return {};
  std::vector<std::int32_t> words(2 * weights.size());
  for (std::size_t e = 0; e < weights.size(); ++e) {
    const Tensor& w = weights[e];
    is_bf16(w, "expert_pointers");
    if (w.dim() != 2 || !w.is_contiguous() || w.shape() != weights[0].shape() || w.size(1) % 8 != 0) {
      throw_error(ErrorCode::kInvalidArgument, "expert_pointers: experts must be alike contiguous [n, k], k % 8 == 0");
    }
    const auto p = reinterpret_cast<std::uintptr_t>(w.raw_data());
    std::memcpy(&words[2 * e], &p, sizeof(p));
  }
  return upload_i32(words, weights[0].device().index);
}

void grouped_gemm(const Tensor& x, const Tensor& pointers, std::int64_t n, const MoeRouting& r, const Tensor& y,
                  CUstream_st* stream) {
  is_bf16(x, "grouped_gemm");
  check_2d(x, "grouped_gemm");
  check_2d(y, "grouped_gemm");
  same_dtype(x, y, "grouped_gemm");
  if (!x.is_contiguous() || !y.is_contiguous() || x.size(0) != r.assignments || y.size(0) != r.assignments ||
      y.size(1) != n || x.size(1) % 8 != 0 || n % 2 != 0) {
    throw_error(ErrorCode::kInvalidArgument, "grouped_gemm: x [{}, {}] and y [{}, {}] do not fit {} assignments",
                x.size(0), x.size(1), y.size(0), y.size(1), r.assignments);
  }
  launch_grouped_gemm(x.raw_data(), reinterpret_cast<const void* const*>(pointers.raw_data()), n, x.size(1), r.groups(),
                      r.max_tiles, y.raw_data(), stream);
}

PagedLayout append_paged_batch(std::vector<std::int32_t>& host,
                               const std::vector<const std::vector<std::int32_t>*>& page_tables,
                               const std::vector<std::int32_t>& row_seq, const std::vector<std::int64_t>& positions,
                               std::int64_t page_size, std::int64_t pad_to) {
  if (row_seq.size() != positions.size() || page_size <= 0) {
    throw_error(ErrorCode::kInvalidArgument, "paged batch: rows and positions differ");
  }
  const auto rows = static_cast<std::int64_t>(row_seq.size()), sequences = std::ssize(page_tables);
  if (pad_to > 0 && (rows > pad_to || sequences > pad_to)) {
    throw_error(ErrorCode::kInvalidArgument, "paged batch: {} rows do not pad to {}", rows, pad_to);
  }
  PagedLayout l;
  l.offset = static_cast<std::int64_t>(host.size());
  l.rows = std::max(rows, pad_to);
  l.sequences = std::max(sequences, pad_to);
  l.page_size = page_size;
  for (const auto* table : page_tables) l.table_words += std::ssize(*table);
  host.resize(static_cast<std::size_t>(l.offset + 2 * l.rows + l.sequences + l.table_words), 0);
  const auto seq_at = host.begin() + l.offset, pos_at = seq_at + l.rows, offsets_at = pos_at + l.rows,
             tables_at = offsets_at + l.sequences;
  std::int64_t words = 0;
  for (std::int64_t s = 0; s < sequences; ++s) {
    const auto& table = *page_tables[static_cast<std::size_t>(s)];
    offsets_at[s] = static_cast<std::int32_t>(words);
    std::copy(table.begin(), table.end(), tables_at + words);
    words += std::ssize(table);
  }
  for (std::int64_t r = 0; r < l.rows; ++r) {
    if (r >= rows) {
      pos_at[r] = -1;  // padding: sequence 0, nothing read or written
      continue;
    }
    const std::int32_t seq = row_seq[static_cast<std::size_t>(r)];
    const std::int64_t position = positions[static_cast<std::size_t>(r)];
    if (seq < 0 || seq >= sequences || position < 0 ||
        position / page_size >= std::ssize(*page_tables[static_cast<std::size_t>(seq)])) {
      throw_error(ErrorCode::kInvalidArgument, "paged batch: row {} points outside its page table", r);
    }
    l.max_context = std::max<std::int64_t>(l.max_context, position + 1);
    seq_at[r] = seq;
    pos_at[r] = static_cast<std::int32_t>(position);
  }
  if (pad_to == 0) append_query_tiles(host, row_seq, l);
  return l;
}

PagedBatch paged_batch_view(const Tensor& device_i32, const PagedLayout& l) {
  const std::int64_t pos_at = l.offset + l.rows, offsets_at = pos_at + l.rows, tables_at = offsets_at + l.sequences;
  PagedBatch b;
  b.row_seq = device_i32.narrow_rows(l.offset, pos_at);
  b.positions = device_i32.narrow_rows(pos_at, offsets_at);
  b.table_offsets = device_i32.narrow_rows(offsets_at, tables_at);
  // An empty table region still needs a valid view.
  b.block_tables = device_i32.narrow_rows(tables_at, std::max(tables_at + l.table_words, tables_at));
  const std::int64_t tiles_at = tables_at + l.table_words, singles_at = tiles_at + 2 * l.tiles;
  b.tiles = device_i32.narrow_rows(tiles_at, singles_at);
  b.single_rows = device_i32.narrow_rows(singles_at, singles_at + l.singles);
  b.tile_count = l.tiles;
  b.single_count = l.singles;
  b.page_size = l.page_size;
  b.max_context = l.max_context;
  return b;
}

PagedBatch upload_paged_batch(const std::vector<const std::vector<std::int32_t>*>& page_tables,
                              const std::vector<std::int32_t>& row_seq, const std::vector<std::int64_t>& positions,
                              std::int64_t page_size, int device) {
  std::vector<std::int32_t> host;
  const PagedLayout layout = append_paged_batch(host, page_tables, row_seq, positions, page_size);
  return paged_batch_view(upload_i32(host, device), layout);
}

namespace {

PagedMeta meta_of(const PagedBatch& b) {
  return {b.block_tables.data<std::int32_t>(),
          b.table_offsets.data<std::int32_t>(),
          b.row_seq.data<std::int32_t>(),
          b.positions.data<std::int32_t>(),
          b.rows(),
          b.page_size};
}

void check_cache(const Tensor& cache, const Tensor& like, const PagedBatch& b, const char* what) {
  is_bf16(cache, what);
  same_dtype(cache, like, what);
  if (cache.dim() != 4 || cache.size(1) != b.page_size || !cache.is_contiguous()) {
    throw_error(ErrorCode::kInvalidArgument, "{}: the cache must be [pages, {}, kv_heads, head_dim]", what,
                b.page_size);
  }
}

}  // namespace

void paged_kv_write(const Tensor& k, const Tensor& v, const PagedBatch& batch, const Tensor& k_cache,
                    const Tensor& v_cache, CUstream_st* stream) {
  const bool bf16 = is_bf16(k, "paged_kv_write");
  check_2d(k, "paged_kv_write");
  check_2d(v, "paged_kv_write");
  check_cache(k_cache, k, batch, "paged_kv_write");
  check_cache(v_cache, k, batch, "paged_kv_write");
  same_dtype(k, v, "paged_kv_write");
  const std::int64_t kv_width = k_cache.size(2) * k_cache.size(3);
  if (k.shape() != v.shape() || k.size(1) != kv_width || k.size(0) != batch.rows() ||
      k.row_stride() != v.row_stride()) {
    throw_error(ErrorCode::kInvalidArgument, "paged_kv_write: rows of {} do not fit the cache", k.size(1));
  }
  launch_paged_kv_write(k.raw_data(), v.raw_data(), k.row_stride(), meta_of(batch), kv_width, k_cache.raw_data(),
                        v_cache.raw_data(), bf16, stream);
}

void qkv_norm_rope_write(const Tensor& qkv, std::int64_t q_heads, std::int64_t head_dim, const Tensor& q_norm,
                         const Tensor& k_norm, float eps, bool norm_offset, const Tensor& cos, const Tensor& sin,
                         cpu::RopeLayout layout, const PagedBatch& batch, const Tensor& k_cache, const Tensor& v_cache,
                         CUstream_st* stream) {
  const bool bf16 = is_bf16(qkv, "qkv_norm_rope_write");
  check_2d(qkv, "qkv_norm_rope_write");
  check_cache(k_cache, qkv, batch, "qkv_norm_rope_write");
  check_cache(v_cache, qkv, batch, "qkv_norm_rope_write");
  const std::int64_t kv_heads = k_cache.size(2);
  if (head_dim <= 0 || k_cache.size(3) != head_dim || qkv.size(1) != (q_heads + 2 * kv_heads) * head_dim ||
      qkv.size(0) != batch.rows() || q_heads <= 0) {
    throw_error(ErrorCode::kInvalidArgument, "qkv_norm_rope_write: width {} does not fit {} + 2 x {} heads of {}",
                qkv.size(1), q_heads, kv_heads, head_dim);
  }
  check_rotary(cos, sin, qkv.size(0), head_dim, "qkv_norm_rope_write");
  check_head_norm(q_norm, qkv, head_dim, "qkv_norm_rope_write");
  check_head_norm(k_norm, qkv, head_dim, "qkv_norm_rope_write");
  launch_qkv_norm_rope_write(qkv.raw_data(), qkv.row_stride(), qkv.size(0), q_heads, kv_heads, head_dim,
                             q_norm.defined() ? q_norm.raw_data() : nullptr,
                             k_norm.defined() ? k_norm.raw_data() : nullptr, eps, norm_offset, cos.data<float>(),
                             sin.data<float>(), 2 * cos.size(1), layout == cpu::RopeLayout::kNeox, meta_of(batch),
                             k_cache.raw_data(), v_cache.raw_data(), bf16, stream);
}

namespace {

// 16-byte loads and stores: the base and every row start (bf16 elements).
bool aligned16(const void* p, std::int64_t row_stride) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 && row_stride % 8 == 0;
}

int multiprocessors(int device) {
  static int cached[64] = {};
  if (device < 0 || device >= 64) return 132;
  if (cached[device] == 0) {
    ARLE_CUDA_CHECK(cudaDeviceGetAttribute(&cached[device], cudaDevAttrMultiProcessorCount, device));
  }
  return cached[device];
}

}  // namespace

std::int64_t paged_attention_workspace_floats(std::int64_t rows, std::int64_t q_heads, std::int64_t kv_heads,
                                              std::int64_t head_dim, int device) {
  // splits <= ceil(4 * SMs / blocks) with blocks = rows * kv_heads (tensor
  // cores) or rows * q_heads, so rows * q_heads * splits is at most
  // 4 * SMs * group + rows * q_heads partials.
  const std::int64_t group = q_heads / std::max<std::int64_t>(kv_heads, 1);
  return (4 * static_cast<std::int64_t>(multiprocessors(device)) * group + rows * q_heads) * (head_dim + 2);
}

void paged_attention(const Tensor& q, const PagedBatch& batch, const Tensor& k_cache, const Tensor& v_cache,
                     std::int64_t q_heads, float scale, const Tensor& out, const Tensor& workspace,
                     CUstream_st* stream) {
  const bool bf16 = is_bf16(q, "paged_attention");
  check_2d(q, "paged_attention");
  check_2d(out, "paged_attention");
  check_cache(k_cache, q, batch, "paged_attention");
  check_cache(v_cache, q, batch, "paged_attention");
  same_dtype(q, out, "paged_attention");
  const std::int64_t kv_heads = k_cache.size(2), head_dim = k_cache.size(3);
  if (q_heads <= 0 || q_heads % kv_heads != 0 || q.size(1) != q_heads * head_dim || head_dim > 512 ||
      out.shape() != q.shape() || q.size(0) != batch.rows()) {
    throw_error(ErrorCode::kInvalidArgument, "paged_attention: {} query heads do not fit {} kv heads of {}", q_heads,
                kv_heads, head_dim);
  }
  const int device = q.device().index;
  const PagedMeta meta = meta_of(batch);
  // Tensor cores take the tiles; the rows alone in their sequence go on to
  // the flash-decoding kernel through a row list.
  const bool tiled = batch.tile_count > 0 && bf16 && prefill_attention_supports(head_dim) &&
                     aligned16(q.raw_data(), q.row_stride()) && aligned16(out.raw_data(), out.row_stride());
  if (tiled) {
    launch_prefill_attention(q.raw_data(), q.row_stride(), meta, batch.tiles.data<std::int32_t>(), batch.tile_count,
                             k_cache.raw_data(), v_cache.raw_data(), q_heads, kv_heads, head_dim, scale, out.raw_data(),
                             out.row_stride(), stream);
  }
  const std::int64_t rows = tiled ? batch.single_count : batch.rows();
  if (rows == 0) return;
  const std::int32_t* row_list = tiled ? batch.single_rows.data<std::int32_t>() : nullptr;
  // Decode rows: on tensor cores, one block per kv head's query group, where
  // the shape allows.
  const bool grouped = bf16 && decode_attention_supports(q_heads, kv_heads, head_dim) &&
                       aligned16(q.raw_data(), q.row_stride()) && aligned16(k_cache.raw_data(), head_dim);
  const std::int64_t splits =
      paged_attention_splits(rows, grouped ? kv_heads : q_heads, batch.max_context, multiprocessors(device));
  Tensor scratch = workspace;
  const std::int64_t needed = rows * q_heads * splits * (head_dim + 2);
  if (splits > 1 && (!scratch.defined() || scratch.dtype() != DType::kF32 || scratch.numel() < needed)) {
    scratch = device_empty({needed}, DType::kF32, device);
  }
  float* const partials = splits > 1 ? scratch.data<float>() : nullptr;
  if (grouped) {
    launch_decode_attention(q.raw_data(), q.row_stride(), meta, k_cache.raw_data(), v_cache.raw_data(), q_heads,
                            kv_heads, head_dim, scale, out.raw_data(), out.row_stride(), splits, partials, row_list,
                            rows, stream);
    return;
  }
  launch_paged_attention(q.raw_data(), q.row_stride(), meta, k_cache.raw_data(), v_cache.raw_data(), q_heads, kv_heads,
                         head_dim, scale, out.raw_data(), out.row_stride(), splits, partials, bf16, row_list, rows,
                         stream);
}

}  // namespace arle::kernels::cuda
