#pragma once
// What the CPU can do, for kernel dispatch and `arle --doctor`.

#include <string>
#include <vector>

namespace arle::kernels::cpu {

enum class SimdLevel { kScalar, kAvx2, kAvx512 };

struct CpuFeatures {
  bool sse4_2 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512_vnni = false, avx512_bf16 = false;
  std::vector<std::string> flag_names() const;  // the ones present
};

const CpuFeatures& cpu_features();  // detected once
SimdLevel simd_level();             // best level the kernels can use here
const char* simd_level_name(SimdLevel level);

}  // namespace arle::kernels::cpu
