#pragma once
// The steps the tensor-core attention kernels (prefill_attention.cu,
// decode_attention.cu) share: gathering a tile of keys' K and V through the
// page table into shared memory, one online-softmax step, and O += P V
// (S = Q K^T is tensor_core.cuh's warp_tile_mma). Shared-memory rows are head_dim + 8
// elements apart (16 bytes of padding keep ldmatrix's eight row addresses in
// distinct banks). Fragment ownership: see tensor_core.cuh.
#include <cuda_bf16.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/tensor_core.cuh"

namespace arle::kernels::cuda {

// K and V of keys [first, first + kKeys) of one sequence, kv head `kvh`,
// into ks / vs [kKeys][D + 8] through the sequence's page table; keys at or
// past `end` are zero-filled. Every one of the block's kThreads threads takes
// part; the copies are cp.async, so the caller commits and waits.
//
// Each thread keeps one 16-byte piece of a row and walks the keys, so the
// page lookup is one 32-bit division per key it copies (positions fit in 31
// bits). A 64-bit division per piece, as this did before, cost more issue
// slots than the tile's tensor-core work.
template <int D, int kKeys, int kThreads>
__device__ __forceinline__ void load_kv_tile(__nv_bfloat16* ks, __nv_bfloat16* vs, const __nv_bfloat16* k_cache,
                                             const __nv_bfloat16* v_cache, const std::int32_t* table,
                                             std::int64_t page_size, std::int64_t kv_width, std::int64_t kvh,
                                             std::int64_t first, std::int64_t end) {
  constexpr int kStride = D + 8, kChunks = D / 8, kKeysPerPass = kThreads / kChunks;
  static_assert(kThreads % kChunks == 0 && kKeys % kKeysPerPass == 0, "pieces must tile the block");
  const int piece = static_cast<int>(threadIdx.x) % kChunks;
  const unsigned page = static_cast<unsigned>(page_size);
  const unsigned last = static_cast<unsigned>(end);
  const __nv_bfloat16* const k_head = k_cache + kvh * D + piece * 8;
  const __nv_bfloat16* const v_head = v_cache + kvh * D + piece * 8;
#pragma unroll
  for (int key = static_cast<int>(threadIdx.x) / kChunks; key < kKeys; key += kKeysPerPass) {
    const unsigned p = static_cast<unsigned>(first) + key;
    const bool valid = p < last;
    std::int64_t at = 0;
    if (valid) {
      const unsigned page_index = p / page;
      at = (static_cast<std::int64_t>(table[page_index]) * page_size + (p - page_index * page)) * kv_width;
    }
    const int to = key * kStride + piece * 8;
    copy16_async(ks + to, k_head + at, valid);
    copy16_async(vs + to, v_head + at, valid);
  }
}

// One key tile's online-softmax step for the lane's rows g and g + 8: s
// holds scaled (base 2) scores with masked keys at -inf; on return it holds
// exp2(s - max), m the rows' running maxima, l the lane's share of their
// running sums (the caller adds a row's four lanes at the end), and o is
// rescaled to the new maxima.
template <int kTiles, int kOut>
__device__ __forceinline__ void online_softmax_step(float (&s)[kTiles][4], float (&m)[2], float (&l)[2],
                                                    float (&o)[kOut][4]) {
  float top[2] = {m[0], m[1]};
#pragma unroll
  for (int nt = 0; nt < kTiles; ++nt) {
#pragma unroll
    for (int e = 0; e < 4; ++e) top[e >> 1] = fmaxf(top[e >> 1], s[nt][e]);
  }
  float base[2], correction[2], row_sum[2] = {0.0f, 0.0f};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    top[i] = fmaxf(top[i], __shfl_xor_sync(0xffffffffu, top[i], 1));
    top[i] = fmaxf(top[i], __shfl_xor_sync(0xffffffffu, top[i], 2));
    base[i] = top[i] == -INFINITY ? 0.0f : top[i];  // a row with nothing visible yet
    correction[i] = exp2f(m[i] - base[i]);          // 0 while m is -inf
    m[i] = top[i];
  }
#pragma unroll
  for (int nt = 0; nt < kTiles; ++nt) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      s[nt][e] = exp2f(s[nt][e] - base[e >> 1]);
      row_sum[e >> 1] += s[nt][e];
    }
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) l[i] = l[i] * correction[i] + row_sum[i];
#pragma unroll
  for (int dn = 0; dn < kOut; ++dn) {
    o[dn][0] *= correction[0];
    o[dn][1] *= correction[0];
    o[dn][2] *= correction[1];
    o[dn][3] *= correction[1];
  }
}

// o[dn] += P V for kTiles n-tiles of 8 keys (two make one A fragment of P,
// rounded to bf16); vb is the first key's V row in shared memory.
template <int D, int kTiles>
__device__ __forceinline__ void accumulate_pv(float (&o)[D / 8][4], const float (&s)[kTiles][4],
                                              const __nv_bfloat16* vb, int lane) {
  constexpr int kStride = D + 8;
#pragma unroll
  for (int kk = 0; kk < kTiles / 2; ++kk) {
    const unsigned a[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                           pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                           pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
    for (int dn = 0; dn < D / 8; dn += 2) {
      unsigned b[4];
      ldmatrix_x4_trans(b, vb + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride + dn * 8 + (lane >> 4) * 8);
      mma(o[dn], a, b[0], b[1]);
      mma(o[dn + 1], a, b[2], b[3]);
    }
  }
}

}  // namespace arle::kernels::cuda
