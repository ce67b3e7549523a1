#include "kernels/cuda/cublaslt_gemm.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include "common/error.h"
#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return CUDA_R_16BF;
    case DType::kF16:
      return CUDA_R_16F;
    case DType::kF32:
      return CUDA_R_32F;
    default:
      throw_error(ErrorCode::kUnsupported, "cuBLASLt GEMM on {} is not supported", dtype_name(dtype));
  }
}

}  // namespace

// cuBLASLt is column-major. Row-major y[M, N] is column-major y^T[N, M], and
// y^T = w[N, K] * x^T: A = w read transposed (column-major [K, N], lda = K),
// B = x (column-major [K, M], ldb = x's row stride), C = y (ldc = its row
// stride).
struct CublasLtGemm::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
  }
};

CublasLtGemm::CublasLtGemm(std::size_t workspace_bytes, int device) {
  ARLE_CUDA_CHECK(cudaSetDevice(device));
  cublasLtHandle_t h = nullptr;
  ARLE_CUBLAS_CHECK(cublasLtCreate(&h));
  handle_ = h;
  workspace_ = device_empty({static_cast<std::int64_t>(workspace_bytes)}, DType::kU8, device);
}

CublasLtGemm::~CublasLtGemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

CublasLtGemm::Plan& CublasLtGemm::plan(const Key& key) {
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  const auto [m, n, k, ldx, ldy, dtype_index, out_dtype_index, with_bias] = key;
  const auto dtype = static_cast<DType>(dtype_index);
  const cudaDataType_t type = cuda_type(dtype);
  const cudaDataType_t out_type = cuda_type(static_cast<DType>(out_dtype_index));
  auto p = std::make_unique<Plan>();
  const cublasComputeType_t compute = dtype == DType::kF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  ARLE_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->desc, compute, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
  ARLE_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)));
  ARLE_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof(keep)));
  if (with_bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    ARLE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
    ARLE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &type, sizeof(type)));
  }
  ARLE_CUBLAS_CHECK(
      cublasLtMatrixLayoutCreate(&p->a, type, static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(n), k));
  ARLE_CUBLAS_CHECK(
      cublasLtMatrixLayoutCreate(&p->b, type, static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(m), ldx));
  ARLE_CUBLAS_CHECK(
      cublasLtMatrixLayoutCreate(&p->c, out_type, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(m), ldy));

  cublasLtMatmulPreference_t pref = nullptr;
  ARLE_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const std::uint64_t workspace = workspace_.nbytes();
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(static_cast<cublasLtHandle_t>(handle_), p->desc, p->a, p->b,
                                                          p->c, p->c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (s != CUBLAS_STATUS_SUCCESS || found == 0) {
    throw_error(ErrorCode::kUnsupported, "cuBLASLt has no algorithm for {}x{}x{} {}", m, n, k, dtype_name(dtype));
  }
  p->algo = result.algo;
  return *plans_.emplace(key, std::move(p)).first->second;
}

bool CublasLtGemm::skinny_fits(const Tensor& x, const Tensor& w) const {
  const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  return skinny_ && x.size(0) >= 1 && x.size(0) <= kSkinnyRows && w.dtype() == DType::kBF16 &&
         x.dtype() == DType::kBF16 && w.size(1) % 8 == 0 && x.row_stride() % 8 == 0 && aligned(x.raw_data()) &&
         aligned(w.raw_data());
}

bool CublasLtGemm::gated_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out,
                                CUstream_st* stream) {
  if (!skinny_fits(x, w) || out.dtype() != DType::kBF16 || out.strides()[1] != 1 || w.size(0) != 2 * out.size(1) ||
      x.size(1) != w.size(1) || out.size(0) != x.size(0) || !w.is_contiguous() ||
      (bias.defined() && (bias.numel() != w.size(0) || bias.dtype() != DType::kBF16))) {
    return false;
  }
  launch_skinny_gemm(x.raw_data(), x.row_stride(), w.raw_data(), x.size(0), out.size(1), w.size(1),
                     bias.defined() ? bias.raw_data() : nullptr, out.raw_data(), out.row_stride(), false, true, stream);
  return true;
}

void CublasLtGemm::linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out,
                          CUstream_st* stream) {
  if (x.dim() != 2 || w.dim() != 2 || out.dim() != 2 || x.size(1) != w.size(1) || out.size(0) != x.size(0) ||
      out.size(1) != w.size(0)) {
    throw_error(ErrorCode::kInvalidArgument, "linear: x {} w {} out {} do not fit", shape_to_string(x.shape()),
                shape_to_string(w.shape()), shape_to_string(out.shape()));
  }
  const bool f32_out = out.dtype() == DType::kF32 && w.dtype() == DType::kBF16 && !bias.defined();
  if (x.dtype() != w.dtype() || (out.dtype() != w.dtype() && !f32_out) ||
      (bias.defined() && bias.dtype() != w.dtype())) {
    throw_error(ErrorCode::kInvalidArgument, "linear: mixed dtypes");
  }
  if (!w.is_contiguous() || x.strides()[1] != 1 || out.strides()[1] != 1 ||
      (bias.defined() && (!bias.is_contiguous() || bias.numel() != w.size(0)))) {
    throw_error(ErrorCode::kInvalidArgument, "linear: w and bias must be contiguous, rows of x and out dense");
  }
  if (x.size(0) == 0) return;
  // Decode-sized bf16 GEMMs go to ARLE's memory-bound kernel when aligned.
  if (skinny_fits(x, w)) {
    launch_skinny_gemm(x.raw_data(), x.row_stride(), w.raw_data(), x.size(0), w.size(0), w.size(1),
                       bias.defined() ? bias.raw_data() : nullptr, out.raw_data(), out.row_stride(), f32_out, false,
                       stream);
    return;
  }
  const Key key{x.size(0),
                w.size(0),
                w.size(1),
                x.row_stride(),
                out.row_stride(),
                static_cast<int>(w.dtype()),
                static_cast<int>(out.dtype()),
                bias.defined()};
  Plan& p = plan(key);
  if (bias.defined()) {
    const void* bias_ptr = bias.raw_data();
    ARLE_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr, sizeof(bias_ptr)));
  }
  const float alpha = 1.0f, beta = 0.0f;
  ARLE_CUBLAS_CHECK(cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), p.desc, &alpha, w.raw_data(), p.a,
                                   x.raw_data(), p.b, &beta, out.raw_data(), p.c, out.raw_data(), p.c, &p.algo,
                                   workspace_.raw_data(), workspace_.nbytes(), reinterpret_cast<cudaStream_t>(stream)));
}

}  // namespace arle::kernels::cuda
