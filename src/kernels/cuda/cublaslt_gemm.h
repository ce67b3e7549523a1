#pragma once
// GEMMs through cuBLASLt: y[M, N] = x[M, K] * w[N, K]^T (+ bias[N]), bf16 (or
// f16/f32) in and out, float32 accumulation. One matmul plan per shape and
// dtype is built on first use (descriptors, layouts and the heuristic's best
// algorithm for the workspace) and reused, so a steady state makes no
// heuristic queries and CUDA graphs can capture the calls. bf16 GEMMs of at
// most kSkinnyRows rows (decode) run ARLE's own memory-bound kernel instead
// (kernels.h launch_skinny_gemm), unless set_skinny(false).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include "tensor/tensor.h"

struct CUstream_st;

namespace arle::kernels::cuda {

class CublasLtGemm {
 public:
  explicit CublasLtGemm(std::size_t workspace_bytes = 32u << 20, int device = 0);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  // x [M, K] (rows may be strided), w [N, K] contiguous, bias [N] or
  // undefined, out [M, N] (rows may be strided); all on this device, one
  // dtype, except that out may be float32 under bf16 inputs without bias
  // (logits). Enqueued on `stream` (null: the default stream).
  void linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out, CUstream_st* stream = nullptr);
  // out [M, N] = silu(x gate^T) * (x up^T) for w = [gate; up] [2N, K], in one
  // skinny kernel; false (nothing enqueued) where the skinny path does not
  // apply: the caller runs linear() and silu_and_mul instead.
  bool gated_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out,
                    CUstream_st* stream = nullptr);
  // Whether small-M bf16 GEMMs use the skinny kernel (tests and benchmarks compare both).
  void set_skinny(bool on) { skinny_ = on; }
  // Device memory the library's workspace holds (for the memory plan).
  std::size_t workspace_bytes() const { return workspace_.defined() ? workspace_.nbytes() : 0; }

 private:
  struct Plan;
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, int, int, bool>;
  Plan& plan(const Key& key);
  bool skinny_fits(const Tensor& x, const Tensor& w) const;

  void* handle_ = nullptr;  // cublasLtHandle_t
  Tensor workspace_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
  bool skinny_ = true;
};

}  // namespace arle::kernels::cuda
