#include "kernels/cpu/simd_kernels.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "kernels/cpu/cpu_features.h"

namespace arle::kernels::cpu {
namespace {

const SimdKernels* kernels_named(const char* name) {
  const SimdLevel level = simd_level();
  if (std::strcmp(name, "scalar") == 0) return &scalar_kernels();
  if (std::strcmp(name, "avx2") == 0) {
    if (level == SimdLevel::kScalar) throw_error(ErrorCode::kUnsupported, "this CPU has no AVX2+FMA");
    return &avx2_kernels();
  }
  if (std::strcmp(name, "avx512") == 0) {
    if (level != SimdLevel::kAvx512) throw_error(ErrorCode::kUnsupported, "this CPU has no AVX-512 F/BW/VL");
    return &avx512_kernels();
  }
  throw_error(ErrorCode::kInvalidArgument, "unknown SIMD kernel set '{}' (scalar, avx2, avx512)", name);
}

const SimdKernels* best_kernels() {
  if (const char* env = std::getenv("ARLE_SIMD")) return kernels_named(env);
  switch (simd_level()) {
    case SimdLevel::kAvx512: return &avx512_kernels();
    case SimdLevel::kAvx2: return &avx2_kernels();
    case SimdLevel::kScalar: break;
  }
  return &scalar_kernels();
}

std::atomic<const SimdKernels*> active{nullptr};

}  // namespace

const SimdKernels& simd_kernels() {
  const SimdKernels* k = active.load(std::memory_order_acquire);
  if (k == nullptr) {
    k = best_kernels();
    active.store(k, std::memory_order_release);
  }
  return *k;
}

void use_simd_kernels(const char* name) { active.store(kernels_named(name), std::memory_order_release); }

}  // namespace arle::kernels::cpu
