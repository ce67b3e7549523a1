// The chunked gated delta rule (prefill) against the token-by-token
// recurrence (decode, the definition) on random inputs up to 2,000 tokens:
// lengths on and off the chunk size, strided rows, a carried-in state, and a
// sequence split across calls (chunked prefill carries the state).
#include "kernels/cpu/gated_delta_rule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"

namespace arle::testing {
namespace {

using kernels::cpu::DeltaRuleInputs;

// One head's inputs as the layer produces them: q and k L2-normalised (q
// also scaled by 1/sqrt(k_dim)), log-decays in [-1.5, -0.01], beta in (0, 1).
// Rows are `pad` floats wider than the head, as in a projection's output.
struct HeadInputs {
  std::int64_t tokens, dk, dv, pad = 5;
  std::vector<float> q, k, v, g, beta;
  HeadInputs(std::int64_t tokens_, std::int64_t dk_, std::int64_t dv_, std::uint32_t seed)
      : tokens(tokens_), dk(dk_), dv(dv_) {
    q = random_floats(static_cast<std::size_t>(tokens * (dk + pad)), seed);
    k = random_floats(q.size(), seed + 1);
    v = random_floats(static_cast<std::size_t>(tokens * (dv + pad)), seed + 2);
    std::mt19937 rng(seed + 3);
    std::uniform_real_distribution<float> decay(-1.5f, -0.01f), gate(0.02f, 0.98f);
    for (std::int64_t t = 0; t < tokens; ++t) {
      normalise(q.data() + t * (dk + pad), 1.0f / std::sqrt(static_cast<float>(dk)));
      normalise(k.data() + t * (dk + pad), 1.0f);
      g.push_back(decay(rng));
      beta.push_back(gate(rng));
    }
  }
  void normalise(float* x, float scale) const {
    double norm = 0;
    for (std::int64_t i = 0; i < dk; ++i) norm += static_cast<double>(x[i]) * x[i];
    for (std::int64_t i = 0; i < dk; ++i) x[i] = static_cast<float>(x[i] / std::sqrt(norm) * scale);
  }
  DeltaRuleInputs view(std::int64_t first = 0, std::int64_t count = -1) const {
    return {q.data() + first * (dk + pad),
            k.data() + first * (dk + pad),
            v.data() + first * (dv + pad),
            g.data() + first,
            beta.data() + first,
            dk + pad,
            dk + pad,
            dv + pad,
            1,
            count < 0 ? tokens - first : count,
            dk,
            dv};
  }
};

double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
    norm += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(diff / norm);
}

TEST(GatedDeltaRule, ChunkedEqualsRecurrent) {
  struct Case {
    std::int64_t tokens, dk, dv, chunk;
  };
  std::uint32_t seed = 1;
  for (const Case c : {Case{1, 16, 16, 64}, Case{5, 16, 24, 64}, Case{63, 32, 16, 64}, Case{64, 16, 16, 64},
                       Case{65, 16, 16, 64}, Case{130, 32, 32, 16}, Case{2000, 32, 32, 64}, Case{777, 8, 40, 7}}) {
    SCOPED_TRACE(::testing::Message() << c.tokens << " tokens, k " << c.dk << ", v " << c.dv << ", chunk " << c.chunk);
    const HeadInputs in(c.tokens, c.dk, c.dv, seed += 10);
    const std::vector<float> initial = random_floats(static_cast<std::size_t>(c.dk * c.dv), seed + 7, 0.3f);
    std::vector<float> state_want = initial, state_got = initial;
    const std::int64_t ldo = c.dv + 3;
    std::vector<float> want(static_cast<std::size_t>(c.tokens * ldo), 0.0f), got(want.size(), 0.0f);
    kernels::cpu::gated_delta_rule_recurrent(in.view(), state_want.data(), want.data(), ldo);
    kernels::cpu::gated_delta_rule_chunked(in.view(), state_got.data(), got.data(), ldo, c.chunk);
    EXPECT_LT(relative_l2(got, want), 1e-5);
    EXPECT_LT(relative_l2(state_got, state_want), 1e-5);
    for (float x : got) ASSERT_TRUE(std::isfinite(x));
  }
}

// Prefill in engine-sized chunks that do not line up with the kernel's: the
// state carried between calls gives the same outputs as one call.
TEST(GatedDeltaRule, StateCarriesAcrossCalls) {
  const HeadInputs in(300, 16, 16, 99);
  std::vector<float> whole_state(16 * 16, 0.0f), split_state(16 * 16, 0.0f);
  std::vector<float> whole(300 * 16), split(300 * 16);
  kernels::cpu::gated_delta_rule_chunked(in.view(), whole_state.data(), whole.data(), 16);
  std::int64_t first = 0;
  for (const std::int64_t n : {100, 1, 90, 109}) {
    kernels::cpu::gated_delta_rule_chunked(in.view(first, n), split_state.data(), split.data() + first * 16, 16);
    first += n;
  }
  EXPECT_LT(relative_l2(split, whole), 1e-5);
  EXPECT_LT(relative_l2(split_state, whole_state), 1e-5);
}

// Hand-checked: one token from a zero state is beta * (q.k) * v.
TEST(GatedDeltaRule, OneTokenFromZeroState) {
  const float q[2] = {0.6f, 0.8f}, k[2] = {1.0f, 0.0f}, v[3] = {1.0f, -2.0f, 4.0f}, g = -0.5f, beta = 0.25f;
  const DeltaRuleInputs in{q, k, v, &g, &beta, 2, 2, 3, 1, 1, 2, 3};
  for (const bool chunked : {false, true}) {
    std::vector<float> state(6, 0.0f), out(3);
    if (chunked) {
      kernels::cpu::gated_delta_rule_chunked(in, state.data(), out.data(), 3);
    } else {
      kernels::cpu::gated_delta_rule_recurrent(in, state.data(), out.data(), 3);
    }
    EXPECT_FLOAT_EQ(out[0], 0.25f * 0.6f * 1.0f);
    EXPECT_FLOAT_EQ(out[1], 0.25f * 0.6f * -2.0f);
    EXPECT_FLOAT_EQ(out[2], 0.25f * 0.6f * 4.0f);
    EXPECT_FLOAT_EQ(state[0], 0.25f);  // S = k (beta v)^T: row 0 only
    EXPECT_FLOAT_EQ(state[3], 0.0f);
  }
}

}  // namespace
}  // namespace arle::testing
