#pragma once
// Tensor-core building blocks shared by the attention kernels (sm_80+):
// cp.async copies into shared memory, ldmatrix fragment loads, and the bf16
// mma.sync m16n8k16 with float32 accumulators.
//
// Fragment ownership (PTX m16n8k16): lane = 4 g + t holds rows g and g + 8
// of a 16-row C tile, columns 2t and 2t + 1 of each 8-column n-tile; an A
// fragment is two such n-tiles side by side (16 columns) in bf16 pairs.
#include <cuda_bf16.h>

namespace arle::kernels::cuda {

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared without registers; an invalid chunk is zero-filled.
__device__ __forceinline__ void copy16_async(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit_async() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void wait_async() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Double buffering over `steps` tiles: starts loading tile j + 1 into
// buffer (j + 1) & 1 (load(tile, buffer) issues its cp.async copies), then
// waits until tile j has landed. The caller syncs the block before reading.
template <typename Load>
__device__ __forceinline__ void prefetch_next_and_wait(int j, int steps, const Load& load) {
  if (j + 1 < steps) {
    load(j + 1, (j + 1) & 1);
    commit_async();
    wait_async<1>();
  } else {
    wait_async<0>();
  }
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const __nv_bfloat16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const __nv_bfloat16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}

// c (16x8, float32) += a (16x16 bf16, row-major) * b (16x8 bf16, col-major).
__device__ __forceinline__ void mma(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&v);
}

// c[nt] += A B^T for a warp: A its 16 rows, B kTiles * 8 rows, both D
// columns wide in shared memory with rows D + 8 elements apart (attention's
// S = Q K^T, a GEMM's X W^T). a16 and b point at the first rows.
template <int D, int kTiles>
__device__ __forceinline__ void warp_tile_mma(float (&c)[kTiles][4], const __nv_bfloat16* a16, const __nv_bfloat16* b,
                                              int lane) {
  constexpr int kStride = D + 8;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    unsigned a[4];
    ldmatrix_x4(a, a16 + ((lane & 7) + ((lane >> 3) & 1) * 8) * kStride + kk * 16 + (lane >> 4) * 8);
#pragma unroll
    for (int nt = 0; nt < kTiles; nt += 2) {
      unsigned bf[4];
      ldmatrix_x4(bf, b + (nt * 8 + (lane >> 4) * 8 + (lane & 7)) * kStride + kk * 16 + ((lane >> 3) & 1) * 8);
      mma(c[nt], a, bf[0], bf[1]);
      mma(c[nt + 1], a, bf[2], bf[3]);
    }
  }
}

}  // namespace arle::kernels::cuda
