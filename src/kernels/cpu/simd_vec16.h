#pragma once
// Vec16: sixteen float lanes as one AVX-512 register, two AVX2 registers or a
// plain array, with the same lane order and the same reduction tree on all
// three. Included only by the simd_*.cpp translation units, each compiled
// for its ISA; nothing here may be an out-of-line inline function shared
// between them (the linker could keep the AVX-512 copy for everyone), so
// everything lives in an ISA-named namespace.

#include <cstdint>

#if defined(ARLE_SIMD_AVX512) || defined(ARLE_SIMD_AVX2)
#include <immintrin.h>
#endif

namespace arle::kernels::cpu::ARLE_SIMD_NAMESPACE {

#if defined(ARLE_SIMD_AVX512)

struct Vec16 {
  __m512 v;
  static Vec16 zero() { return {_mm512_setzero_ps()}; }
  static Vec16 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static Vec16 load_partial(const float* p, std::int64_t n) {
    return {_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p)};
  }
  static Vec16 broadcast(float a) { return {_mm512_set1_ps(a)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store_partial(float* p, std::int64_t n) const {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
  }
  friend Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  float reduce() const {
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
  }
};

#elif defined(ARLE_SIMD_AVX2)

struct Vec16 {
  __m256 lo, hi;
  static Vec16 zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static Vec16 load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static Vec16 load_partial(const float* p, std::int64_t n) {
    alignas(32) float buffer[16] = {};
    for (std::int64_t i = 0; i < n; ++i) buffer[i] = p[i];
    return {_mm256_load_ps(buffer), _mm256_load_ps(buffer + 8)};
  }
  static Vec16 broadcast(float a) { return {_mm256_set1_ps(a), _mm256_set1_ps(a)}; }
  void store(float* p) const {
    _mm256_storeu_ps(p, lo);
    _mm256_storeu_ps(p + 8, hi);
  }
  void store_partial(float* p, std::int64_t n) const {
    alignas(32) float buffer[16];
    _mm256_store_ps(buffer, lo);
    _mm256_store_ps(buffer + 8, hi);
    for (std::int64_t i = 0; i < n; ++i) p[i] = buffer[i];
  }
  friend Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) {
    return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
  }
  float reduce() const {
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
  }
};

#else

struct Vec16 {
  float v[16];
  static Vec16 zero() { return Vec16{}; }
  static Vec16 load(const float* p) {
    Vec16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = p[i];
    return r;
  }
  static Vec16 load_partial(const float* p, std::int64_t n) {
    Vec16 r{};
    for (std::int64_t i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  static Vec16 broadcast(float a) {
    Vec16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = a;
    return r;
  }
  void store(float* p) const {
    for (int i = 0; i < 16; ++i) p[i] = v[i];
  }
  void store_partial(float* p, std::int64_t n) const {
    for (std::int64_t i = 0; i < n; ++i) p[i] = v[i];
  }
  // Unfused: simd_scalar.cpp is compiled with -ffp-contract=off.
  friend Vec16 fmadd(Vec16 a, Vec16 b, Vec16 c) {
    Vec16 r;
    for (int i = 0; i < 16; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  float reduce() const {
    float s8[8], s4[4];
    for (int i = 0; i < 8; ++i) s8[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; ++i) s4[i] = s8[i] + s8[i + 4];
    float s2a = s4[0] + s4[2], s2b = s4[1] + s4[3];
    return s2a + s2b;
  }
};

#endif

}  // namespace arle::kernels::cpu::ARLE_SIMD_NAMESPACE
