#pragma once
// The few inner loops that decide CPU speed, compiled three times (scalar,
// AVX2+FMA, AVX-512) and picked once at startup from the CPU's features.
//
// Every reduction uses the same 16-lane pattern on every ISA: lane l sums
// the products at indices = l (mod 16) in index order, a ragged tail is
// zero-padded into one more 16-wide step, and the 16 lanes are added by the
// same fixed tree. So a dot product's value depends only on its inputs and
// on whether the ISA fuses multiply-add, never on tiling, batch size or
// thread count: that is what makes the CPU backend batch-invariant.

#include <cstdint>

namespace arle::kernels::cpu {

// One query head against one sequence's paged K/V (see paged_attention.h).
struct AttendArgs {
  const float* q;               // [head_dim]
  const float* k_cache;         // cache base, already offset to this kv head
  const float* v_cache;
  const std::int32_t* pages;    // the sequence's page table
  std::int64_t page_size, kv_width, head_dim, context_len;
  float scale;
  float* scores;                // scratch [context_len]
  float* out;                   // [head_dim]
};

struct SimdKernels {
  const char* name;
  // out[i * ldo + j] = dot(x[i * ldx ...], w[j * ldw ...], k) for i < m, j < n.
  void (*dot_rows)(const float* x, std::int64_t ldx, std::int64_t m, const float* w, std::int64_t ldw,
                   std::int64_t n, std::int64_t k, float* out, std::int64_t ldo);
  float (*dot)(const float* a, const float* b, std::int64_t n);
  // y[i] += a * x[i]
  void (*axpy)(float a, const float* x, float* y, std::int64_t n);
  // Scores in position order, max-subtracted softmax, V summed in position
  // order; dot and axpy inlined, which matters for small head_dim.
  void (*attend)(const AttendArgs& args);
};

const SimdKernels& scalar_kernels();
const SimdKernels& avx2_kernels();    // needs AVX2 + FMA
const SimdKernels& avx512_kernels();  // needs AVX-512 F/BW/VL

// The set in use: the best this CPU runs, or the one named by ARLE_SIMD
// (scalar, avx2, avx512) when set. Tests switch sets with use_simd_kernels().
const SimdKernels& simd_kernels();
// Throws arle::Error when the CPU cannot run the named set.
void use_simd_kernels(const char* name);

}  // namespace arle::kernels::cpu
