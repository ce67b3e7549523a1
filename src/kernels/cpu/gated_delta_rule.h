#pragma once
// The gated delta rule of Qwen3.5's linear-attention (Gated DeltaNet) layers,
// for one value head of one sequence, in float32. Per token t, with the
// head's state S ([k_dim, v_dim]), q_t and k_t already L2-normalised (q_t
// also scaled by 1/sqrt(k_dim)), log-decay g_t <= 0 and beta_t in (0, 1):
//   S   <- exp(g_t) S
//   u_t  = beta_t (v_t - S^T k_t)
//   S   <- S + k_t u_t^T
//   o_t  = S^T q_t
// Two forms with the same result up to rounding:
//  - recurrent: token by token (decode, and the reference);
//  - chunked: chunks of `chunk` tokens (prefill). Inside a chunk, with G the
//    cumulative log-decay from the chunk's start and S0 the state before it,
//    the u's solve the unit lower-triangular system
//      (I + diag(beta) L) U = diag(beta) (V - diag(exp G) K S0),
//      L[s][r] = exp(G_s - G_r) k_s . k_r  for r < s,
//    whose inverse T (the UT transform) does not depend on S0, so
//    T diag(beta) V and T diag(beta exp G) K are formed once per chunk and
//    only U = TV - TK S0, the outputs
//      O = diag(exp G) Q S0 + (Q K^T masked to s <= t, times exp(G_t - G_s)) U
//    and S = exp(G_last) S0 + sum_s exp(G_last - G_s) k_s u_s^T need S0.
// Rows are strided (in floats): q, k by ldq / ldk, v by ldv, out by ldo; g and
// beta by ldg. Both forms read S from `state` and leave the final state there.

#include <cstdint>

namespace arle::kernels::cpu {

struct DeltaRuleInputs {
  const float* q;
  const float* k;
  const float* v;
  const float* g;
  const float* beta;
  std::int64_t ldq, ldk, ldv, ldg;
  std::int64_t tokens, k_dim, v_dim;
};

void gated_delta_rule_recurrent(const DeltaRuleInputs& in, float* state, float* out, std::int64_t ldo);
void gated_delta_rule_chunked(const DeltaRuleInputs& in, float* state, float* out, std::int64_t ldo,
                              std::int64_t chunk = 64);

}  // namespace arle::kernels::cpu
