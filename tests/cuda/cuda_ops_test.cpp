// Every CUDA op against the CPU op on random inputs (odd sizes, strided rows,
// widths past the shared-memory opt-in), in bf16 and float32. The CPU side
// gets the inputs rounded to the device dtype, so the comparison measures the
// kernel: relative L2 error under 1e-2 in bf16 and 1e-5 in float32 (GEMMs in
// float32 use TF32: 2e-3). Outputs are poisoned with NaN first, so an element
// a kernel never wrote fails the check. Runs on the GPU machine (label gpu).
#include "kernels/cuda/cuda_ops.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/cuda/cublaslt_gemm.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/cuda_probe.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/kernels.h"
#include "cuda_test_util.h"
#include "kernels/ops.h"
#include "tensor/float_convert.h"

namespace arle::kernels::cuda {
namespace {

class CudaOps : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    const CudaProbe probe = probe_cuda();
    ASSERT_FALSE(probe.gpus.empty()) << "no CUDA device: " << probe.error;
    ASSERT_TRUE(probe.gpus[0].kernel_ok) << probe.gpus[0].error;
  }
  DType dtype() const { return GetParam(); }
};

TEST_P(CudaOps, LinearMatchesCpu) {
  CublasLtGemm gemm;
  struct Case {
    std::int64_t m, n, k;
    bool bias, strided;
  };
  for (const Case c : {Case{1, 1, 1, false, false}, Case{7, 33, 65, true, false}, Case{128, 256, 512, false, true},
                       Case{300, 1000, 96, true, true}, Case{1, 4096, 1024, false, false}}) {
    SCOPED_TRACE(testing::Message() << c.m << "x" << c.n << "x" << c.k << (c.bias ? " bias" : "")
                                    << (c.strided ? " strided" : ""));
    const Tensor wide = rounded(random_f32({c.m, c.k + (c.strided ? 24 : 0)}, 1), dtype());
    const Tensor x = wide.narrow_cols(0, c.k);
    const Tensor w = rounded(random_f32({c.n, c.k}, 2), dtype());
    const Tensor b = c.bias ? rounded(random_f32({c.n}, 3), dtype()) : Tensor();
    const Tensor want = ops::linear(x.to_f32(), w, b);

    const Tensor x_dev = to_device(wide, dtype()).narrow_cols(0, c.k);
    Tensor out_wide = poisoned({c.m, c.n + (c.strided ? 8 : 0)}, dtype());
    const Tensor out = out_wide.narrow_cols(0, c.n);
    gemm.linear(x_dev, to_device(w, dtype()), c.bias ? to_device(b, dtype()) : Tensor(), out);
    const double tol = dtype() == DType::kF32 ? 2e-3 : tolerance(dtype());
    EXPECT_LT(relative_error(to_host_f32(out), want), tol);
  }
}

// Decode-sized bf16 GEMMs take the skinny kernel: every row count it has,
// odd column counts, strided rows, bias, float32 output (logits), against
// the CPU; and the same shapes through cuBLASLt agree with it.
TEST(CudaSkinnyGemm, MatchesCpuAndCublasLt) {
  CublasLtGemm gemm, cublas;
  cublas.set_skinny(false);
  for (std::int64_t m = 1; m <= kSkinnyRows; ++m) {
    for (const auto& [n, k] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 8}, {37, 264}, {9000, 1024}}) {
      for (const bool bias : {false, true}) {
        for (const bool f32_out : {false, true}) {
          if (bias && f32_out) continue;  // linear() allows float32 out without bias only
          SCOPED_TRACE(testing::Message()
                       << m << "x" << n << "x" << k << (bias ? " bias" : "") << (f32_out ? " f32" : ""));
          const Tensor wide = rounded(random_f32({m, k + 16}, 11), DType::kBF16);
          const Tensor x = wide.narrow_cols(0, k);
          const Tensor w = rounded(random_f32({n, k}, 12), DType::kBF16);
          const Tensor b = bias ? rounded(random_f32({n}, 13), DType::kBF16) : Tensor();
          const Tensor want = ops::linear(x.to_f32(), w, b);
          const Tensor x_dev = to_device(wide, DType::kBF16).narrow_cols(0, k);
          const Tensor w_dev = to_device(w, DType::kBF16), b_dev = bias ? to_device(b, DType::kBF16) : Tensor();
          const DType out_type = f32_out ? DType::kF32 : DType::kBF16;
          const Tensor out = poisoned({m, n}, out_type), reference = poisoned({m, n}, out_type);
          gemm.linear(x_dev, w_dev, b_dev, out);
          cublas.linear(x_dev, w_dev, b_dev, reference);
          EXPECT_LT(relative_error(to_host_f32(out), want), f32_out ? 1e-5 : 1e-2);
          EXPECT_LT(relative_error(to_host_f32(out), to_host_f32(reference)), f32_out ? 1e-5 : 1e-2);
        }
      }
    }
  }
}

// The gated skinny GEMM (SiLU-and-mul fused) against linear + silu_and_mul.
TEST(CudaSkinnyGemm, GatedEqualsLinearThenSiluAndMul) {
  CublasLtGemm gemm;
  for (const std::int64_t m : {1, 3, 8}) {
    for (const bool bias : {false, true}) {
      SCOPED_TRACE(testing::Message() << m << " rows" << (bias ? " bias" : ""));
      const std::int64_t n = 200, k = 512;
      const Tensor x = to_device(rounded(random_f32({m, k}, 21), DType::kBF16), DType::kBF16);
      const Tensor w = to_device(rounded(random_f32({2 * n, k}, 22), DType::kBF16), DType::kBF16);
      const Tensor b = bias ? to_device(rounded(random_f32({2 * n}, 23), DType::kBF16), DType::kBF16) : Tensor();
      const Tensor fused = poisoned({m, n}, DType::kBF16), gate_up = poisoned({m, 2 * n}, DType::kBF16);
      const Tensor want = poisoned({m, n}, DType::kBF16);
      ASSERT_TRUE(gemm.gated_linear(x, w, b, fused));
      gemm.linear(x, w, b, gate_up);
      silu_and_mul(gate_up, want);
      EXPECT_LT(relative_error(to_host_f32(fused), to_host_f32(want)), 1e-2);
    }
  }
  // Too many rows for the skinny kernel: the caller must take the long way.
  const Tensor x9 = to_device(rounded(random_f32({9, 64}, 24), DType::kBF16), DType::kBF16);
  EXPECT_FALSE(gemm.gated_linear(x9, to_device(rounded(random_f32({16, 64}, 25), DType::kBF16), DType::kBF16), Tensor(),
                                 poisoned({9, 8}, DType::kBF16)));
}

TEST_P(CudaOps, EmbeddingGathersRows) {
  const Tensor table = rounded(random_f32({1000, 72}, 4), dtype());
  const std::vector<std::int32_t> ids = {0, 999, 5, 5, 123, 777, 1};
  const Tensor want = ops::embedding(table, ids);
  Tensor out = poisoned({static_cast<std::int64_t>(ids.size()), 72}, dtype());
  embedding(to_device(table, dtype()), upload_i32(ids), out);
  EXPECT_EQ(relative_error(to_host_f32(out), want), 0.0);
}

TEST_P(CudaOps, RmsNormMatchesCpu) {
  for (const std::int64_t width : {1, 17, 1024, 5120, 16384}) {
    for (const bool offset : {false, true}) {
      SCOPED_TRACE(testing::Message() << "width " << width << (offset ? " offset" : ""));
      const Tensor x = rounded(random_f32({5, width}, 5), dtype());
      const Tensor w = rounded(random_f32({width}, 6, 0.5f, 1.5f), dtype());
      const Tensor want = ops::rms_norm(x, w, 1e-6f, offset);
      Tensor out = poisoned({5, width}, dtype());
      rms_norm(to_device(x, dtype()), to_device(w, dtype()), 1e-6f, offset, out);
      EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype()));
    }
  }
}

TEST_P(CudaOps, FusedResidualRmsNormMatchesCpu) {
  const std::int64_t width = 896;
  const Tensor x = rounded(random_f32({9, width}, 7), dtype());
  const Tensor residual = rounded(random_f32({9, width}, 8), dtype());
  const Tensor w = rounded(random_f32({width}, 9, 0.5f, 1.5f), dtype());
  Tensor sum = residual.to_f32();
  ops::add(sum, x);
  const Tensor want = ops::rms_norm(sum, w, 1e-5f, false);

  const Tensor x_dev = to_device(x, dtype());
  const Tensor residual_dev = to_device(residual, dtype());
  rms_norm(x_dev, to_device(w, dtype()), 1e-5f, false, x_dev, residual_dev);  // in place, as the model runs it
  EXPECT_LT(relative_error(to_host_f32(residual_dev), sum), tolerance(dtype()));
  EXPECT_LT(relative_error(to_host_f32(x_dev), want), tolerance(dtype()));
}

TEST_P(CudaOps, Float32ResidualRmsNormKeepsTheSumExact) {
  const std::int64_t width = 640;
  const Tensor x = rounded(random_f32({6, width}, 22), dtype());
  const Tensor residual = random_f32({6, width}, 23);  // float32: not rounded
  const Tensor w = rounded(random_f32({width}, 24, 0.5f, 1.5f), dtype());
  Tensor sum = residual.to_f32();
  ops::add(sum, x);
  const Tensor want = ops::rms_norm(sum, w, 1e-5f, false);
  const Tensor x_dev = to_device(x, dtype());
  const Tensor residual_dev = to_device(residual, DType::kF32);
  Tensor out = poisoned({6, width}, dtype());
  rms_norm(x_dev, to_device(w, dtype()), 1e-5f, false, out, residual_dev);
  EXPECT_LT(relative_error(to_host_f32(residual_dev), sum), 1e-6);
  EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype()));
}

TEST_P(CudaOps, HeadNormRopeMatchesCpu) {
  const std::int64_t rows = 9, heads = 3;
  for (const std::int64_t head_dim : {8, 16, 32, 64, 128, 256}) {
    for (const std::int64_t rotary_dim : {head_dim, head_dim / 2}) {
      for (const auto layout : {cpu::RopeLayout::kNeox, cpu::RopeLayout::kInterleaved}) {
        for (const bool norm : {false, true}) {
          SCOPED_TRACE(testing::Message() << "head_dim " << head_dim << " rotary " << rotary_dim << " layout "
                                          << static_cast<int>(layout) << (norm ? " norm" : ""));
          const Tensor wide = rounded(random_f32({rows, heads * head_dim + 40}, 10), dtype());
          const Tensor w = rounded(random_f32({head_dim}, 11, 0.5f, 1.5f), dtype());
          const Tensor angles = random_f32({rows, rotary_dim / 2}, 12, 0.0f, 6.28f);
          Tensor cos = Tensor::empty(angles.shape(), DType::kF32), sin = Tensor::empty(angles.shape(), DType::kF32);
          for (std::int64_t i = 0; i < angles.numel(); ++i) {
            cos.data<float>()[i] = std::cos(angles.data<float>()[i]);
            sin.data<float>()[i] = std::sin(angles.data<float>()[i]);
          }
          Tensor want = wide.narrow_cols(0, heads * head_dim).to_f32();
          if (norm) ops::rms_norm_heads(want, w, 1e-6f);
          ops::rope(want, head_dim, cos, sin, layout);

          const Tensor x = to_device(wide, dtype()).narrow_cols(0, heads * head_dim);
          head_norm_rope(x, head_dim, norm ? to_device(w, dtype()) : Tensor(), 1e-6f, false,
                         to_device(cos, DType::kF32), to_device(sin, DType::kF32), layout);
          EXPECT_LT(relative_error(to_host_f32(x), want), tolerance(dtype()));
        }
      }
    }
  }
}

TEST_P(CudaOps, SiluAndMulMatchesCpu) {
  // 1000: the 16-byte vector path; 1001: the one-element path.
  for (const std::int64_t d : {1000, 1001}) {
    SCOPED_TRACE(::testing::Message() << "d " << d);
    const Tensor wide = rounded(random_f32({7, 2 * d + 16}, 13, -4.0f, 4.0f), dtype());
    const Tensor gate_up = wide.narrow_cols(0, 2 * d);
    const Tensor want = ops::silu_and_mul(gate_up.to_f32());
    Tensor out = poisoned({7, d}, dtype());
    silu_and_mul(to_device(wide, dtype()).narrow_cols(0, 2 * d), out);
    EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype()));
  }
}

TEST_P(CudaOps, AddMatchesCpu) {
  const Tensor x = rounded(random_f32({11, 333}, 14), dtype());
  const Tensor y = rounded(random_f32({11, 333}, 15), dtype());
  Tensor want = x.to_f32();
  ops::add(want, y);
  const Tensor x_dev = to_device(x, dtype());
  add(x_dev, to_device(y, dtype()));
  EXPECT_LT(relative_error(to_host_f32(x_dev), want), tolerance(dtype()));
}

// Sequences with shuffled page tables; rows are prefill chunks and decode
// rows crossing page boundaries.
struct PagedCase {
  std::int64_t page_size = 16, pages = 40;
  std::vector<std::vector<std::int32_t>> tables;
  std::vector<std::int32_t> row_seq;
  std::vector<std::int64_t> positions;
  // Tokens per sequence; with `decode_only` every sequence has one row.
  explicit PagedCase(std::vector<std::int64_t> lengths = {1, 17, 100, 33, 250}, bool decode_only = false)
      : PagedCase(lengths, default_firsts(lengths, decode_only)) {}
  // Sequence s has rows at positions [firsts[s], lengths[s]).
  PagedCase(const std::vector<std::int64_t>& lengths, const std::vector<std::int64_t>& firsts) {
    std::int64_t needed = 0;
    for (const std::int64_t n : lengths) needed += (n + page_size - 1) / page_size;
    pages = std::max(pages, needed + 3);
    std::vector<std::int32_t> free(static_cast<std::size_t>(pages));
    for (std::int32_t i = 0; i < pages; ++i) free[static_cast<std::size_t>(i)] = i;
    std::shuffle(free.begin(), free.end(), std::mt19937(21));
    std::size_t next = 0;
    for (std::size_t s = 0; s < lengths.size(); ++s) {
      std::vector<std::int32_t> table;
      for (std::int64_t p = 0; p < (lengths[s] + page_size - 1) / page_size; ++p) table.push_back(free[next++]);
      tables.push_back(table);
      for (std::int64_t p = firsts[s]; p < lengths[s]; ++p) {
        row_seq.push_back(static_cast<std::int32_t>(s));
        positions.push_back(p);
      }
    }
  }
  // Sequence 1 and 3 prefill a chunk; the others decode their last token.
  static std::vector<std::int64_t> default_firsts(const std::vector<std::int64_t>& lengths, bool decode_only) {
    std::vector<std::int64_t> firsts;
    for (std::size_t s = 0; s < lengths.size(); ++s) {
      firsts.push_back(decode_only ? lengths[s] - 1 : s == 1 ? 0 : s == 3 ? 20 : lengths[s] - 1);
    }
    return firsts;
  }
  ops::PagedRows cpu_rows() const {
    ops::PagedRows rows;
    for (std::size_t r = 0; r < row_seq.size(); ++r) {
      rows.page_tables.push_back(tables[static_cast<std::size_t>(row_seq[r])].data());
      rows.positions.push_back(positions[r]);
      rows.context_lens.push_back(positions[r] + 1);
    }
    return rows;
  }
  PagedBatch device_batch() const {
    std::vector<const std::vector<std::int32_t>*> ptrs;
    for (const auto& t : tables) ptrs.push_back(&t);
    return upload_paged_batch(ptrs, row_seq, positions, page_size);
  }
  std::int64_t rows() const { return static_cast<std::int64_t>(row_seq.size()); }
};

TEST_P(CudaOps, PagedKvWriteFillsTheRightSlots) {
  const PagedCase c;
  const std::int64_t kv_heads = 2, head_dim = 24, width = kv_heads * head_dim;
  const Tensor kv = rounded(random_f32({c.rows(), 2 * width}, 16), dtype());
  const Tensor k = kv.narrow_cols(0, width), v = kv.narrow_cols(width, 2 * width);
  Tensor k_want = Tensor::zeros({c.pages, c.page_size, kv_heads, head_dim}, DType::kF32);
  Tensor v_want = Tensor::zeros(k_want.shape(), DType::kF32);
  ops::paged_kv_write(k, v, c.cpu_rows(), k_want, v_want);
  const Tensor k_cache = to_device(Tensor::zeros(k_want.shape(), DType::kF32), dtype());
  const Tensor v_cache = to_device(Tensor::zeros(k_want.shape(), DType::kF32), dtype());
  const Tensor kv_dev = to_device(kv, dtype());
  paged_kv_write(kv_dev.narrow_cols(0, width), kv_dev.narrow_cols(width, 2 * width), c.device_batch(), k_cache,
                 v_cache);
  EXPECT_EQ(relative_error(to_host_f32(k_cache).reshape({c.pages * c.page_size, width}),
                           k_want.reshape({c.pages * c.page_size, width})),
            0.0);
  EXPECT_EQ(relative_error(to_host_f32(v_cache).reshape({c.pages * c.page_size, width}),
                           v_want.reshape({c.pages * c.page_size, width})),
            0.0);
}

// The fused prologue equals its three parts (head_norm_rope on q and on k,
// then paged_kv_write) bit for bit; padding rows (position -1) write nothing.
TEST_P(CudaOps, FusedQkvPrologueEqualsItsParts) {
  const PagedCase c;
  const std::int64_t q_heads = 4, kv_heads = 2, head_dim = 24, rotary = 16;
  const std::int64_t q_width = q_heads * head_dim, kv_width = kv_heads * head_dim;
  const std::int64_t rows = c.rows(), padded = rows + 3;
  const Tensor qkv_host = rounded(random_f32({padded, q_width + 2 * kv_width}, 31), dtype());
  const Tensor q_norm = rounded(random_f32({head_dim}, 32, 0.5f, 1.5f), dtype());
  const Tensor k_norm = rounded(random_f32({head_dim}, 33, 0.5f, 1.5f), dtype());
  const Tensor cos = to_device(random_f32({padded, rotary / 2}, 34), DType::kF32);
  const Tensor sin = to_device(random_f32({padded, rotary / 2}, 35), DType::kF32);
  const Shape cache_shape{c.pages, c.page_size, kv_heads, head_dim};
  for (const bool with_norm : {true, false}) {
    SCOPED_TRACE(with_norm ? "with q/k norm" : "without");
    const Tensor qn = with_norm ? to_device(q_norm, dtype()) : Tensor(),
                 kn = with_norm ? to_device(k_norm, dtype()) : Tensor();
    // Parts, on the real rows.
    const Tensor parts = to_device(qkv_host.narrow_rows(0, rows), dtype());
    const Tensor cos_r = cos.narrow_rows(0, rows), sin_r = sin.narrow_rows(0, rows);
    head_norm_rope(parts.narrow_cols(0, q_width), head_dim, qn, 1e-6f, false, cos_r, sin_r, cpu::RopeLayout::kNeox);
    head_norm_rope(parts.narrow_cols(q_width, q_width + kv_width), head_dim, kn, 1e-6f, false, cos_r, sin_r,
                   cpu::RopeLayout::kNeox);
    const Tensor k_want = to_device(Tensor::zeros(cache_shape, DType::kF32), dtype());
    const Tensor v_want = to_device(Tensor::zeros(cache_shape, DType::kF32), dtype());
    paged_kv_write(parts.narrow_cols(q_width, q_width + kv_width),
                   parts.narrow_cols(q_width + kv_width, q_width + 2 * kv_width), c.device_batch(), k_want, v_want);
    // Fused, padded with three rows at position -1.
    std::vector<const std::vector<std::int32_t>*> tables;
    for (const auto& t : c.tables) tables.push_back(&t);
    std::vector<std::int32_t> words;
    const PagedLayout layout = append_paged_batch(words, tables, c.row_seq, c.positions, c.page_size, padded);
    const PagedBatch batch = paged_batch_view(upload_i32(words), layout);
    const Tensor fused = to_device(qkv_host, dtype());
    const Tensor k_got = to_device(Tensor::zeros(cache_shape, DType::kF32), dtype());
    const Tensor v_got = to_device(Tensor::zeros(cache_shape, DType::kF32), dtype());
    qkv_norm_rope_write(fused, q_heads, head_dim, qn, kn, 1e-6f, false, cos, sin, cpu::RopeLayout::kNeox, batch, k_got,
                        v_got);
    const std::int64_t slots = c.pages * c.page_size;
    EXPECT_EQ(relative_error(to_host_f32(fused.narrow_rows(0, rows).narrow_cols(0, q_width)),
                             to_host_f32(parts.narrow_cols(0, q_width))),
              0.0);
    EXPECT_EQ(
        relative_error(to_host_f32(k_got).reshape({slots, kv_width}), to_host_f32(k_want).reshape({slots, kv_width})),
        0.0);
    EXPECT_EQ(
        relative_error(to_host_f32(v_got).reshape({slots, kv_width}), to_host_f32(v_want).reshape({slots, kv_width})),
        0.0);
  }
}

void expect_paged_attention_matches_cpu(const PagedCase& c, DType dtype);

TEST_P(CudaOps, PagedAttentionMatchesCpu) { expect_paged_attention_matches_cpu(PagedCase(), dtype()); }

// Few rows with long contexts: the context is split across blocks and merged
// (flash-decoding), including chunks past a short row's end.
TEST_P(CudaOps, PagedAttentionSplitsLongContexts) {
  expect_paged_attention_matches_cpu(PagedCase({600, 3}, /*decode_only=*/true), dtype());
  expect_paged_attention_matches_cpu(PagedCase({129}, /*decode_only=*/true), dtype());
}

// Long prefill chunks next to decode rows: several 64-row query tiles per
// sequence (tensor cores in bf16), one chunk after a cached prefix that ends
// mid-page, a short one, and ragged last tiles.
TEST_P(CudaOps, PagedAttentionTilesLongPrefills) {
  expect_paged_attention_matches_cpu(PagedCase({300, 200, 40, 1, 90}, {0, 137, 39, 0, 2}), dtype());
}

void expect_paged_attention_matches_cpu(const PagedCase& c, DType dtype) {
  struct Heads {
    std::int64_t q, kv, dim;
  };
  for (const Heads h : {Heads{4, 4, 8}, Heads{8, 2, 16}, Heads{16, 8, 32}, Heads{14, 2, 64}, Heads{8, 1, 128},
                        Heads{4, 2, 256}, Heads{16, 1, 64}, Heads{6, 3, 40}, Heads{6, 6, 128}, Heads{3, 3, 256}}) {
    SCOPED_TRACE(testing::Message() << c.rows() << " rows, " << h.q << " q heads, " << h.kv << " kv heads of "
                                    << h.dim);
    const Tensor k_cache = rounded(random_f32({c.pages, c.page_size, h.kv, h.dim}, 17), dtype);
    const Tensor v_cache = rounded(random_f32(k_cache.shape(), 18), dtype);
    const Tensor q_wide = rounded(random_f32({c.rows(), h.q * h.dim + 8}, 19, -2.0f, 2.0f), dtype);
    const Tensor q = q_wide.narrow_cols(0, h.q * h.dim);
    const float scale = 1.0f / std::sqrt(static_cast<float>(h.dim));
    const Tensor want = ops::paged_attention(q.to_f32(), c.cpu_rows(), k_cache, v_cache, h.q, scale);
    Tensor out = poisoned({c.rows(), h.q * h.dim}, dtype);
    paged_attention(to_device(q_wide, dtype).narrow_cols(0, h.q * h.dim), c.device_batch(), to_device(k_cache, dtype),
                    to_device(v_cache, dtype), h.q, scale, out);
    EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype));
  }
}

TEST_P(CudaOps, CombineRowsSumsEachRowsExpertsInOrder) {
  const std::int64_t rows = 5, k = 3, width = 70;
  const Tensor y = rounded(random_f32({rows * k + 4, width}, 25), dtype());
  std::vector<std::int32_t> index(static_cast<std::size_t>(rows * k));
  std::vector<float> weights(index.size());
  std::mt19937 rng(26);
  for (std::size_t i = 0; i < index.size(); ++i) {
    index[i] = static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(y.size(0)));
    weights[i] = static_cast<float>(rng() % 1000) / 1000.0f;
  }
  Tensor want = Tensor::zeros({rows, width}, DType::kF32);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < k; ++j) {
      const auto i = static_cast<std::size_t>(r * k + j);
      ops::add_scaled_rows(want.narrow_rows(r, r + 1), y.narrow_rows(index[i], index[i] + 1), {weights[i]});
    }
  }
  Tensor w = Tensor::empty({rows * k}, DType::kF32);
  std::copy(weights.begin(), weights.end(), w.data<float>());
  Tensor out = poisoned({rows, width}, dtype());
  combine_rows(to_device(y, dtype()), upload_i32(index), to_device(w, DType::kF32), k, out);
  EXPECT_LT(relative_error(to_host_f32(out), want), tolerance(dtype()));
}

std::vector<std::int32_t> download_i32(const Tensor& t) {
  std::vector<std::int32_t> host(static_cast<std::size_t>(t.numel()));
  ARLE_CUDA_CHECK(cudaDeviceSynchronize());
  ARLE_CUDA_CHECK(cudaMemcpy(host.data(), t.raw_data(), host.size() * 4, cudaMemcpyDeviceToHost));
  return host;
}

// Device MoE: routing equals cpu::moe_route (each row's picks listed in
// ascending expert id), every assignment lands in its expert's run and the
// tiles cover the runs, and the grouped GEMM equals each expert's linear on
// its rows (odd n and k, 1 to 256 experts, k up to 8).
TEST(CudaMoe, RoutingGroupingAndGroupedGemmMatchCpu) {
  struct Case {
    std::int64_t experts, k, rows;
  };
  const std::int64_t n = 40, width = 72;
  std::uint32_t seed = 40;
  for (const Case c : {Case{8, 2, 5}, Case{128, 8, 37}, Case{256, 8, 70}, Case{60, 3, 1}, Case{1, 1, 130}}) {
    for (const bool normalize : {true, false}) {
      SCOPED_TRACE(testing::Message() << c.experts << " experts, top " << c.k << ", " << c.rows << " rows");
      const std::int64_t a = c.rows * c.k;
      const Tensor logits = random_f32({c.rows, c.experts}, ++seed, -3.0f, 3.0f);
      const ops::MoeRouting want = ops::moe_route(logits, c.k, normalize);
      const Tensor buffer = poisoned({moe_routing_words(a, c.experts)}, DType::kI32);
      const Tensor weights_buffer = poisoned({a}, DType::kF32);
      const MoeRouting r = moe_routing_view(buffer, weights_buffer, a, c.experts);
      moe_route(to_device(logits, DType::kF32), c.k, normalize, r);
      const std::vector<std::int32_t> ids = download_i32(r.ids), gather = download_i32(r.gather),
                                      index = download_i32(r.index), tiles = download_i32(r.tiles),
                                      tile_count = download_i32(r.tile_count);
      const Tensor weights = to_host_f32(r.weights);
      for (std::int64_t row = 0; row < c.rows; ++row) {
        std::vector<std::pair<std::int32_t, float>> picks;
        for (std::int64_t j = 0; j < c.k; ++j) {
          picks.emplace_back(want.expert_ids[row * c.k + j], want.weights[row * c.k + j]);
        }
        std::sort(picks.begin(), picks.end());
        for (std::int64_t j = 0; j < c.k; ++j) {
          ASSERT_EQ(ids[row * c.k + j], picks[j].first) << "row " << row << " pick " << j;
          EXPECT_NEAR(weights.data<float>()[row * c.k + j], picks[j].second, 1e-6);
        }
      }
      // Slots: a permutation; each inside a tile of its expert.
      std::vector<std::int32_t> expert_of_slot(a, -1);
      for (std::int32_t t = 0; t < tile_count[0]; ++t) {
        for (std::int32_t s = tiles[r.max_tiles + t]; s < tiles[2 * r.max_tiles + t]; ++s) {
          expert_of_slot[s] = tiles[t];
        }
        EXPECT_LE(tiles[2 * r.max_tiles + t] - tiles[r.max_tiles + t], kMoeTileRows);
      }
      std::vector<int> seen(a, 0);
      for (std::int64_t i = 0; i < a; ++i) {
        ASSERT_GE(index[i], 0);
        ASSERT_LT(index[i], a);
        ++seen[index[i]];
        EXPECT_EQ(gather[index[i]], i / c.k);
        EXPECT_EQ(expert_of_slot[index[i]], ids[i]);
      }
      EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), a);

      // The grouped GEMM on these groups.
      const Tensor x = rounded(random_f32({a, width}, ++seed), DType::kBF16);
      std::vector<Tensor> experts, experts_host;
      for (std::int64_t e = 0; e < c.experts; ++e) {
        experts_host.push_back(rounded(random_f32({n, width}, ++seed), DType::kBF16));
        experts.push_back(to_device(experts_host.back(), DType::kBF16));
      }
      Tensor y_want = Tensor::empty({a, n}, DType::kF32);
      for (std::int64_t slot = 0; slot < a; ++slot) {
        const Tensor w = experts_host[static_cast<std::size_t>(expert_of_slot[slot])];
        const Tensor row = ops::linear(x.narrow_rows(slot, slot + 1), w);
        std::copy(row.data<float>(), row.data<float>() + n, y_want.data<float>() + slot * n);
      }
      const Tensor y = poisoned({a, n}, DType::kBF16);
      grouped_gemm(to_device(x, DType::kBF16), expert_pointers(experts), n, r, y);
      EXPECT_LT(relative_error(to_host_f32(y), y_want), tolerance(DType::kBF16));
    }
  }
}

TEST_P(CudaOps, BadShapesAreErrors) {
  const Tensor x = poisoned({4, 8}, dtype());
  EXPECT_THROW(silu_and_mul(x, poisoned({4, 3}, dtype())), Error);
  EXPECT_THROW(rms_norm(x, poisoned({7}, dtype()), 1e-6f, false, x), Error);
  EXPECT_THROW(add(x, poisoned({4, 9}, dtype())), Error);
  EXPECT_THROW(embedding(poisoned({10, 8}, dtype()), upload_i32({1, 2}), x), Error);
  CublasLtGemm gemm;
  EXPECT_THROW(gemm.linear(x, poisoned({5, 7}, dtype()), Tensor(), poisoned({4, 5}, dtype())), Error);
  EXPECT_THROW(rms_norm(Tensor::zeros({4, 8}, dtype()), Tensor::zeros({8}, dtype()), 1e-6f, false,
                        Tensor::zeros({4, 8}, dtype())),
               Error);  // CPU tensors
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaOps, ::testing::Values(DType::kBF16, DType::kF32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace arle::kernels::cuda
