#include "kernels/cpu/gated_delta_rule.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace arle::kernels::cpu {
namespace {

float dot(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y[j] += a * x[j]
void axpy(float a, const float* x, float* y, std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) y[j] += a * x[j];
}

}  // namespace

void gated_delta_rule_recurrent(const DeltaRuleInputs& in, float* state, float* out, std::int64_t ldo) {
  const std::int64_t dk = in.k_dim, dv = in.v_dim;
  std::vector<float> u(static_cast<std::size_t>(dv));
  for (std::int64_t t = 0; t < in.tokens; ++t) {
    const float* q = in.q + t * in.ldq;
    const float* k = in.k + t * in.ldk;
    const float* v = in.v + t * in.ldv;
    const float decay = std::exp(in.g[t * in.ldg]), beta = in.beta[t * in.ldg];
    for (std::int64_t i = 0; i < dk * dv; ++i) state[i] *= decay;
    // u = beta (v - S^T k)
    std::copy(v, v + dv, u.begin());
    for (std::int64_t a = 0; a < dk; ++a) axpy(-k[a], state + a * dv, u.data(), dv);
    for (float& x : u) x *= beta;
    // S += k u^T, then o = S^T q.
    float* o = out + t * ldo;
    std::fill(o, o + dv, 0.0f);
    for (std::int64_t a = 0; a < dk; ++a) {
      axpy(k[a], u.data(), state + a * dv, dv);
      axpy(q[a], state + a * dv, o, dv);
    }
  }
}

void gated_delta_rule_chunked(const DeltaRuleInputs& in, float* state, float* out, std::int64_t ldo,
                              std::int64_t chunk) {
  const std::int64_t dk = in.k_dim, dv = in.v_dim, c = std::max<std::int64_t>(chunk, 1);
  std::vector<float> G(c), Gexp(c), decay(c * c), T(c * c), A(c * c), Vt(c * dv), Kt(c * dk), U(c * dv), S0(dk * dv);
  for (std::int64_t t0 = 0; t0 < in.tokens; t0 += c) {
    const std::int64_t n = std::min(c, in.tokens - t0);
    auto q = [&](std::int64_t i) { return in.q + (t0 + i) * in.ldq; };
    auto k = [&](std::int64_t i) { return in.k + (t0 + i) * in.ldk; };
    auto v = [&](std::int64_t i) { return in.v + (t0 + i) * in.ldv; };
    auto beta = [&](std::int64_t i) { return in.beta[(t0 + i) * in.ldg]; };
    float cumulative = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) G[i] = cumulative += in.g[(t0 + i) * in.ldg];
    // decay[i][j] = exp(G_i - G_j) for j <= i: what token j's contribution
    // has decayed by at token i; the UT transform and A both use it.
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j <= i; ++j) decay[i * c + j] = std::exp(G[i] - G[j]);
    }

    // The UT transform T = (I + B)^-1, B[i][m] = beta_i exp(G_i - G_m) k_i.k_m
    // for m < i: unit lower-triangular, row by row (T[i][j] needs rows < i).
    for (std::int64_t i = 0; i < n; ++i) {
      float* Ti = T.data() + i * c;
      std::fill(Ti, Ti + n, 0.0f);
      Ti[i] = 1.0f;
      for (std::int64_t m = 0; m < i; ++m) {
        const float b = beta(i) * decay[i * c + m] * dot(k(i), k(m), dk);
        const float* Tm = T.data() + m * c;
        for (std::int64_t j = 0; j <= m; ++j) Ti[j] -= b * Tm[j];
      }
    }
    // Vt = T diag(beta) V, Kt = T diag(beta exp G) K; A = causal Q K^T with decay.
    for (std::int64_t j = 0; j < n; ++j) Gexp[j] = std::exp(G[j]);
    for (std::int64_t i = 0; i < n; ++i) {
      float* vt = Vt.data() + i * dv;
      float* kt = Kt.data() + i * dk;
      std::fill(vt, vt + dv, 0.0f);
      std::fill(kt, kt + dk, 0.0f);
      for (std::int64_t j = 0; j <= i; ++j) {
        const float tij = T[i * c + j] * beta(j);
        axpy(tij, v(j), vt, dv);
        axpy(tij * Gexp[j], k(j), kt, dk);
        A[i * c + j] = decay[i * c + j] * dot(q(i), k(j), dk);
      }
    }

    // The part that needs the state before the chunk.
    std::copy(state, state + dk * dv, S0.begin());
    for (std::int64_t i = 0; i < n; ++i) {
      // U[i] = Vt[i] - S0^T Kt[i]
      float* u = U.data() + i * dv;
      std::copy(Vt.data() + i * dv, Vt.data() + (i + 1) * dv, u);
      for (std::int64_t a = 0; a < dk; ++a) axpy(-Kt[i * dk + a], S0.data() + a * dv, u, dv);
      // O[i] = exp(G_i) S0^T q_i + sum_{j <= i} A[i][j] U[j]
      float* o = out + (t0 + i) * ldo;
      std::fill(o, o + dv, 0.0f);
      for (std::int64_t a = 0; a < dk; ++a) axpy(Gexp[i] * q(i)[a], S0.data() + a * dv, o, dv);
      for (std::int64_t j = 0; j <= i; ++j) axpy(A[i * c + j], U.data() + j * dv, o, dv);
    }
    // S = exp(G_last) S0 + sum_j exp(G_last - G_j) k_j U[j]^T
    for (std::int64_t i = 0; i < dk * dv; ++i) state[i] = Gexp[n - 1] * S0[i];
    for (std::int64_t j = 0; j < n; ++j) {
      const float w = decay[(n - 1) * c + j];
      for (std::int64_t a = 0; a < dk; ++a) axpy(w * k(j)[a], U.data() + j * dv, state + a * dv, dv);
    }
  }
}

}  // namespace arle::kernels::cpu
