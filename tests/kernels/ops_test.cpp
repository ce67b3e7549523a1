// Every op against a float64 reference on random inputs of odd sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "common/thread_pool.h"
#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/ops.h"

namespace arle::testing {
namespace {

Tensor matrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::empty({rows, cols}, DType::kF32);
  auto v = random_floats(static_cast<std::size_t>(rows * cols), seed, scale);
  std::memcpy(t.data<float>(), v.data(), v.size() * sizeof(float));
  return t;
}

std::vector<float> values(const Tensor& t) {
  std::vector<float> out;
  for (std::int64_t r = 0; r < t.size(0); ++r)
    for (std::int64_t c = 0; c < t.size(1); ++c) out.push_back(t.data<float>()[r * t.row_stride() + c]);
  return out;
}

float at(const Tensor& t, std::int64_t r, std::int64_t c) { return t.data<float>()[r * t.row_stride() + c]; }

TEST(Ops, LinearWithBiasAndStridedInput) {
  const std::int64_t m = 37, k = 53, n = 131;
  Tensor wide = matrix(m, k + 6, 1);
  Tensor x = wide.narrow_cols(3, 3 + k);
  Tensor w = matrix(n, k, 2), bias = matrix(1, n, 3).reshape({n});
  Tensor y = ops::linear(x, w, bias);
  std::vector<double> want;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = bias.data<float>()[j];
      for (std::int64_t p = 0; p < k; ++p) s += double(at(x, i, p)) * w.data<float>()[j * k + p];
      want.push_back(s);
    }
  expect_close(values(y), want, 1e-4, 1e-5, "linear");
}

TEST(Ops, LinearIsBitwiseTheSameForAnyThreadCountAndBatch) {
  const std::int64_t m = 70, k = 96, n = 517;
  Tensor x = matrix(m, k, 4), w = matrix(n, k, 5);
  set_kernel_threads(1);
  Tensor one = ops::linear(x, w);
  set_kernel_threads(2);
  Tensor two = ops::linear(x, w);
  Tensor row = ops::linear(x.narrow_rows(41, 42), w);
  set_kernel_threads(default_kernel_threads());
  EXPECT_EQ(std::memcmp(one.data<float>(), two.data<float>(), one.nbytes()), 0);
  EXPECT_EQ(std::memcmp(row.data<float>(), one.data<float>() + 41 * n, row.nbytes()), 0);
}

TEST(Ops, RmsNormPlainAndOffset) {
  for (bool offset : {false, true}) {
    const std::int64_t rows = 5, d = 67;
    Tensor x = matrix(rows, d, 6), w = matrix(1, d, 7).reshape({d});
    Tensor y = ops::rms_norm(x, w, 1e-5f, offset);
    std::vector<double> want;
    for (std::int64_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (std::int64_t i = 0; i < d; ++i) ss += double(at(x, r, i)) * at(x, r, i);
      const double inv = 1.0 / std::sqrt(ss / d + 1e-5);
      for (std::int64_t i = 0; i < d; ++i) want.push_back(at(x, r, i) * inv * ((offset ? 1.0 : 0.0) + w.data<float>()[i]));
    }
    expect_close(values(y), want, 1e-5, 1e-5, offset ? "offset" : "plain");
  }
}

TEST(Ops, RmsNormHeadsNormalisesEachHeadOfAStridedView) {
  const std::int64_t rows = 3, heads = 4, head_dim = 12;
  Tensor wide = matrix(rows, heads * head_dim + 10, 8);
  Tensor x = wide.narrow_cols(0, heads * head_dim);
  Tensor w = matrix(1, head_dim, 9).reshape({head_dim});
  std::vector<double> want;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t h = 0; h < heads; ++h) {
      double ss = 0;
      for (std::int64_t i = 0; i < head_dim; ++i) ss += double(at(x, r, h * head_dim + i)) * at(x, r, h * head_dim + i);
      for (std::int64_t i = 0; i < head_dim; ++i)
        want.push_back(at(x, r, h * head_dim + i) / std::sqrt(ss / head_dim + 1e-6) * w.data<float>()[i]);
    }
  const float untouched = at(wide, 1, heads * head_dim + 3);
  ops::rms_norm_heads(x, w, 1e-6f);
  expect_close(values(x), want, 1e-5, 1e-5, "heads");
  EXPECT_EQ(at(wide, 1, heads * head_dim + 3), untouched);
}

TEST(Ops, RopeNeoxInterleavedAndPartial) {
  const std::int64_t rows = 3, heads = 2, head_dim = 10;
  for (auto layout : {ops::RopeLayout::kNeox, ops::RopeLayout::kInterleaved}) {
    for (std::int64_t rotary : {10, 6}) {
      Tensor x = matrix(rows, heads * head_dim, 10);
      Tensor before = matrix(rows, heads * head_dim, 10);
      const std::int64_t half = rotary / 2;
      Tensor cos = Tensor::empty({rows, half}, DType::kF32), sin = Tensor::empty({rows, half}, DType::kF32);
      std::vector<double> angle;
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t i = 0; i < half; ++i) {
          const double a = (r + 3) * std::pow(10000.0, -2.0 * i / rotary);
          angle.push_back(a);
          cos.data<float>()[r * half + i] = static_cast<float>(std::cos(a));
          sin.data<float>()[r * half + i] = static_cast<float>(std::sin(a));
        }
      ops::rope(x, head_dim, cos, sin, layout);
      const std::vector<float> original = values(before);
      std::vector<double> want(original.begin(), original.end());
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t h = 0; h < heads; ++h)
          for (std::int64_t i = 0; i < half; ++i) {
            const std::int64_t a = layout == ops::RopeLayout::kNeox ? i : 2 * i;
            const std::int64_t b = layout == ops::RopeLayout::kNeox ? i + half : 2 * i + 1;
            const double x0 = at(before, r, h * head_dim + a), x1 = at(before, r, h * head_dim + b);
            const double th = angle[r * half + i];
            want[r * heads * head_dim + h * head_dim + a] = x0 * std::cos(th) - x1 * std::sin(th);
            want[r * heads * head_dim + h * head_dim + b] = x1 * std::cos(th) + x0 * std::sin(th);
          }
      expect_close(values(x), want, 1e-5, 1e-5, "rope rotary " + std::to_string(rotary));
    }
  }
}

TEST(Ops, SiluAndMul) {
  Tensor gu = matrix(4, 2 * 21, 11, 3.0f);
  Tensor y = ops::silu_and_mul(gu);
  std::vector<double> want;
  for (std::int64_t r = 0; r < 4; ++r)
    for (std::int64_t i = 0; i < 21; ++i) {
      const double g = at(gu, r, i);
      want.push_back(g / (1 + std::exp(-g)) * at(gu, r, 21 + i));
    }
  expect_close(values(y), want, 1e-6, 1e-5, "silu");
}

TEST(Ops, ResidualAddAndScaledRows) {
  Tensor x = matrix(3, 10, 13), y = matrix(3, 10, 14);
  Tensor x2 = matrix(3, 10, 13);
  std::vector<double> want_add, want_scaled;
  for (std::int64_t r = 0; r < 3; ++r)
    for (std::int64_t i = 0; i < 10; ++i) {
      want_add.push_back(double(at(x, r, i)) + at(y, r, i));
      want_scaled.push_back(double(at(x, r, i)) + (0.5 * r - 0.25) * at(y, r, i));
    }
  ops::add(x, y);
  expect_close(values(x), want_add, 1e-6, 1e-6, "add");
  ops::add_scaled_rows(x2, y, {-0.25f, 0.25f, 0.75f});
  expect_close(values(x2), want_scaled, 1e-6, 1e-6, "add_scaled_rows");
  EXPECT_THROW(ops::add(x, matrix(2, 10, 15)), Error);
}

TEST(Ops, EmbeddingGatherAndBadIds) {
  Tensor table = matrix(10, 6, 12);
  Tensor e = ops::embedding(table, {3, 0, 9, 3});
  EXPECT_EQ(at(e, 0, 2), at(table, 3, 2));
  EXPECT_EQ(at(e, 2, 5), at(table, 9, 5));
  EXPECT_THROW(ops::embedding(table, {10}), Error);
  EXPECT_THROW(ops::embedding(table, {-1}), Error);
  Tensor g = ops::gather_rows(table, {7, 1});
  EXPECT_EQ(at(g, 1, 4), at(table, 1, 4));
}

// Attention against float64 over shuffled pages, GQA and MQA, two page sizes.
TEST(Ops, PagedAttentionMatchesFloat64) {
  struct Shape {
    std::int64_t q_heads, kv_heads, head_dim, page_size;
  };
  for (Shape s : {Shape{8, 2, 24, 16}, Shape{4, 1, 8, 5}, Shape{3, 3, 17, 16}}) {
    const std::int64_t pages = 12, width = s.kv_heads * s.head_dim;
    Tensor k_cache = Tensor::empty({pages, s.page_size, s.kv_heads, s.head_dim}, DType::kF32);
    Tensor v_cache = Tensor::empty({pages, s.page_size, s.kv_heads, s.head_dim}, DType::kF32);
    std::memset(k_cache.data<float>(), 0, k_cache.nbytes());
    std::memset(v_cache.data<float>(), 0, v_cache.nbytes());
    // Two sequences with interleaved, out-of-order pages.
    std::vector<std::vector<std::int32_t>> tables{{7, 2, 9, 0, 4}, {1, 11, 3, 8}};
    const std::vector<std::int64_t> lengths{3 * s.page_size + 2, 2 * s.page_size + 5};
    auto slot = [&](int seq, std::int64_t t) { return tables[seq][t / s.page_size] * s.page_size + t % s.page_size; };
    for (int seq = 0; seq < 2; ++seq) {
      Tensor k = matrix(lengths[seq], width, 20 + seq), v = matrix(lengths[seq], width, 30 + seq);
      ops::PagedRows rows;
      for (std::int64_t t = 0; t < lengths[seq]; ++t) {
        rows.page_tables.push_back(tables[seq].data());
        rows.positions.push_back(t);
        rows.context_lens.push_back(t + 1);
      }
      ops::paged_kv_write(k, v, rows, k_cache, v_cache);
    }
    // Query rows: the last two positions of sequence 0 and one row of sequence 1.
    ops::PagedRows rows;
    const std::vector<std::pair<int, std::int64_t>> queries{{0, lengths[0] - 2}, {1, 7}, {0, lengths[0] - 1}};
    for (auto [seq, pos] : queries) {
      rows.page_tables.push_back(tables[seq].data());
      rows.positions.push_back(pos);
      rows.context_lens.push_back(pos + 1);
    }
    Tensor q = matrix(3, s.q_heads * s.head_dim, 40);
    const float scale = 1.0f / std::sqrt(float(s.head_dim));
    Tensor out = ops::paged_attention(q, rows, k_cache, v_cache, s.q_heads, scale);
    std::vector<double> want;
    for (std::size_t r = 0; r < queries.size(); ++r) {
      const auto [seq, pos] = queries[r];
      for (std::int64_t h = 0; h < s.q_heads; ++h) {
        const std::int64_t kvh = h / (s.q_heads / s.kv_heads);
        std::vector<double> p(static_cast<std::size_t>(pos + 1));
        double mx = -1e300, sum = 0;
        for (std::int64_t t = 0; t <= pos; ++t) {
          double d = 0;
          for (std::int64_t i = 0; i < s.head_dim; ++i)
            d += double(at(q, r, h * s.head_dim + i)) * k_cache.data<float>()[slot(seq, t) * width + kvh * s.head_dim + i];
          p[t] = d * scale;
          mx = std::max(mx, p[t]);
        }
        for (double& x : p) sum += x = std::exp(x - mx);
        for (std::int64_t i = 0; i < s.head_dim; ++i) {
          double o = 0;
          for (std::int64_t t = 0; t <= pos; ++t) o += p[t] / sum * v_cache.data<float>()[slot(seq, t) * width + kvh * s.head_dim + i];
          want.push_back(o);
        }
      }
    }
    expect_close(values(out), want, 2e-5, 1e-4, "attention");
  }
}

TEST(Ops, MoeRouteSoftmaxTopKAndRenormalise) {
  Tensor logits = matrix(6, 9, 50);
  for (bool normalize : {false, true}) {
    ops::MoeRouting r = ops::moe_route(logits, 3, normalize);
    for (std::int64_t row = 0; row < 6; ++row) {
      std::vector<double> p(9);
      double mx = -1e300, sum = 0;
      for (int e = 0; e < 9; ++e) mx = std::max(mx, double(at(logits, row, e)));
      for (int e = 0; e < 9; ++e) sum += p[e] = std::exp(at(logits, row, e) - mx);
      for (double& x : p) x /= sum;
      std::vector<int> order(9);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
      const double top = p[order[0]] + p[order[1]] + p[order[2]];
      for (int j = 0; j < 3; ++j) {
        EXPECT_EQ(r.expert_ids[row * 3 + j], order[j]);
        EXPECT_NEAR(r.weights[row * 3 + j], normalize ? p[order[j]] / top : p[order[j]], 1e-6);
      }
    }
  }
}

TEST(Ops, WrongShapesAreInternalErrorsNotCrashes) {
  Tensor x = matrix(2, 5, 60), w = matrix(3, 4, 61);
  EXPECT_THROW(ops::linear(x, w), Error);
  EXPECT_THROW(ops::rms_norm(x, matrix(1, 4, 62).reshape({4}), 1e-6f), Error);
  EXPECT_THROW(ops::silu_and_mul(matrix(2, 5, 63)), Error);
}

}  // namespace
}  // namespace arle::testing
