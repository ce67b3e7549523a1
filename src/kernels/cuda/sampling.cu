// Sampling on the GPU (see kernels.h): one block of 1024 threads per logits
// row. Selections (top_k, top_p, the top-N logprobs) are radix selects over
// order-preserving 32-bit keys, four 8-bit digits from the top, with
// histograms of integer weights (counts, or probabilities in fixed point);
// the draw is an ordered scan in token-id order. Integer sums make every
// result independent of the order threads run in.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/cuda_error.h"
#include "kernels/cuda/kernels.h"

namespace arle::kernels::cuda {
namespace {

constexpr int kThreads = 1024, kWarps = kThreads / 32;
constexpr unsigned kFull = 0xffffffffu;
// Probabilities (at most 1) as integers: 2^44 keeps 5.7e-14 resolution and
// the sum over any vocabulary under 2^63.
constexpr float kFixedOne = 17592186044416.0f;
using u64 = unsigned long long;

struct Shared {
  u64 hist[256];
  u64 warp_u64[kWarps];
  double warp_f64[kWarps];
  float warp_f32[kWarps];
  int warp_i32[kWarps];
  u64 rest;
  int bin, token;
  float value;
  double total;
  int top_count;
  int top_id[kSampleTopMax];
  float top_value[kSampleTopMax];
};

// Monotone in v over all floats (negative ones included).
__device__ __forceinline__ std::uint32_t order_key(float v) {
  const std::uint32_t u = __float_as_uint(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ int lane_id() { return threadIdx.x & 31; }
__device__ __forceinline__ int warp_id() { return threadIdx.x >> 5; }

// Sum over the block through `warp_sums` (kWarps entries of Shared);
// every thread gets the result.
template <typename T>
__device__ T block_sum(T v, T* warp_sums) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  if (lane_id() == 0) warp_sums[warp_id()] = v;
  __syncthreads();
  T total = 0;
  for (int w = 0; w < kWarps; ++w) total += warp_sums[w];
  __syncthreads();
  return total;
}

__device__ u64 block_sum_u64(u64 v, Shared& s) { return block_sum(v, s.warp_u64); }
__device__ double block_sum_f64(double v, Shared& s) { return block_sum(v, s.warp_f64); }

__device__ float block_max(float v, Shared& s) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  if (lane_id() == 0) s.warp_f32[warp_id()] = v;
  __syncthreads();
  float m = -INFINITY;
  for (int w = 0; w < kWarps; ++w) m = fmaxf(m, s.warp_f32[w]);
  __syncthreads();
  return m;
}

// The largest value's lowest id (NaN counts as -inf).
__device__ int block_argmax(const float* x, int vocab, Shared& s) {
  float best = -INFINITY;
  int id = vocab;
  // Unrolled so that several loads are in flight per thread (one block per
  // row: the row's latency, not bandwidth, bounds this pass).
#pragma unroll 8
  for (int i = threadIdx.x; i < vocab; i += kThreads) {
    const float v = x[i];
    if (v > best || (id == vocab && !(v < best))) {
      if (v == v) best = v, id = i;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(kFull, best, o);
    const int oi = __shfl_xor_sync(kFull, id, o);
    if (ov > best || (ov == best && oi < id)) best = ov, id = oi;
  }
  if (lane_id() == 0) s.warp_f32[warp_id()] = best, s.warp_i32[warp_id()] = id;
  __syncthreads();
  float b = -INFINITY;
  int winner = vocab;
  for (int w = 0; w < kWarps; ++w) {
    const float v = s.warp_f32[w];
    const int i = s.warp_i32[w];
    if (i < vocab && (winner == vocab || v > b || (v == b && i < winner))) b = v, winner = i;
  }
  __syncthreads();
  return winner == vocab ? 0 : winner;
}

// Adds `weight` to hist[bin] once per distinct bin in the warp (shared
// atomics on one address serialize, and probabilities crowd a few bins).
__device__ __forceinline__ void warp_histogram_add(bool active, int bin, u64 weight, Shared& s) {
  unsigned pending = __ballot_sync(kFull, active);
  // Two 32-bit halves keep __reduce_add_sync exact for weights up to 2^44.
  const unsigned lo = static_cast<unsigned>(weight & 0x3fffffu), hi = static_cast<unsigned>(weight >> 22);
  while (pending) {
    const int leader = __ffs(pending) - 1;
    const int b = __shfl_sync(kFull, bin, leader);
    const bool mine = active && bin == b;
    const unsigned group = __ballot_sync(kFull, mine);
    const unsigned lo_sum = __reduce_add_sync(kFull, mine ? lo : 0u);
    const unsigned hi_sum = __reduce_add_sync(kFull, mine ? hi : 0u);
    if (lane_id() == leader) atomicAdd(&s.hist[b], (static_cast<u64>(hi_sum) << 22) + lo_sum);
    pending &= ~group;
  }
}

// The key k such that the weight of keys > k is below `target` and of keys
// >= k reaches it, among ids where weight(i) > 0. Needs 1 <= target <= the
// total weight.
template <typename KeyFn, typename WeightFn>
__device__ std::uint32_t radix_select(int vocab, KeyFn key, WeightFn weight, u64 target, Shared& s) {
  std::uint32_t prefix = 0, mask = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += kThreads) s.hist[b] = 0;
    __syncthreads();
    // Every lane runs the same trip count: the warp aggregation needs them all.
    for (int base = 0; base < vocab; base += kThreads) {
      const int i = base + threadIdx.x;
      const u64 w = i < vocab ? weight(i) : 0;
      const std::uint32_t k = w ? key(i) : 0;
      const bool active = w && (k & mask) == prefix;
      warp_histogram_add(active, static_cast<int>((k >> shift) & 255u), w, s);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      u64 above = 0;
      int b = 255;
      for (; b > 0; --b) {
        if (above + s.hist[b] >= target) break;
        above += s.hist[b];
      }
      s.rest = target - above;
      s.bin = b;
    }
    __syncthreads();
    prefix |= static_cast<std::uint32_t>(s.bin) << shift;
    mask |= 255u << shift;
    target = s.rest;
    __syncthreads();
  }
  return prefix;
}

// The first id, in id order, where the running sum of weight passes target
// (< the total weight). Warps own contiguous ranges.
template <typename WeightFn>
__device__ int ordered_pick(int vocab, WeightFn weight, u64 target, Shared& s) {
  const int span = (vocab + kWarps - 1) / kWarps;
  const int begin = min(vocab, warp_id() * span), end = min(vocab, begin + span);
  u64 sum = 0;
  for (int i = begin + lane_id(); i < end; i += 32) sum += weight(i);
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
  if (lane_id() == 0) s.warp_u64[warp_id()] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    u64 before = 0;
    int w = 0;
    for (; w < kWarps - 1; ++w) {
      if (target < before + s.warp_u64[w]) break;
      before += s.warp_u64[w];
    }
    s.bin = w;
    s.rest = target - before;
    s.token = -1;
  }
  __syncthreads();
  if (warp_id() == s.bin) {
    u64 rest = s.rest;
    int found = -1;
    for (int chunk = begin; chunk < end && found < 0; chunk += 32) {
      const int i = chunk + lane_id();
      u64 inclusive = i < end ? weight(i) : 0;
      for (int o = 1; o < 32; o <<= 1) {
        const u64 up = __shfl_up_sync(kFull, inclusive, o);
        if (lane_id() >= o) inclusive += up;
      }
      const unsigned past = __ballot_sync(kFull, i < end && inclusive > rest);
      if (past) {
        found = chunk + __ffs(past) - 1;
      } else {
        rest -= __shfl_sync(kFull, inclusive, 31);
      }
    }
    // Rounding can leave the target at the very end: take the last kept id.
    if (found < 0) {
      for (int i = end - 1; i >= begin && found < 0; --i) found = weight(i) ? i : -1;
    }
    if (lane_id() == 0) s.token = found;
  }
  __syncthreads();
  return s.token;
}

// The top n (<= kSampleTopMax) raw logits, most likely first, ties to the
// lower id, into s.top_*.
__device__ void top_logits(const float* x, int vocab, int n, Shared& s) {
  const auto key = [&](int i) { return order_key(x[i]); };
  const std::uint32_t cut = radix_select(
      vocab, key, [](int) -> u64 { return 1; }, static_cast<u64>(n), s);
  // Keys above the cut all belong; keys at the cut fill the rest in id order.
  const int span = (vocab + kWarps - 1) / kWarps;
  const int begin = min(vocab, warp_id() * span), end = min(vocab, begin + span);
  int above = 0, at = 0;
  for (int i = begin + lane_id(); i < end; i += 32) {
    const std::uint32_t k = key(i);
    above += k > cut;
    at += k == cut;
  }
  for (int o = 16; o > 0; o >>= 1) {
    above += __shfl_xor_sync(kFull, above, o);
    at += __shfl_xor_sync(kFull, at, o);
  }
  if (lane_id() == 0) s.warp_i32[warp_id()] = above, s.warp_u64[warp_id()] = static_cast<u64>(at);
  __syncthreads();
  int above_before = 0, at_before = 0, above_total = 0;
  for (int w = 0; w < kWarps; ++w) {
    if (w < warp_id()) above_before += s.warp_i32[w], at_before += static_cast<int>(s.warp_u64[w]);
    above_total += s.warp_i32[w];
  }
  const int at_wanted = n - above_total;
  for (int chunk = begin; chunk < end; chunk += 32) {
    const int i = chunk + lane_id();
    const std::uint32_t k = i < end ? key(i) : 0;
    const unsigned over = __ballot_sync(kFull, i < end && k > cut);
    const unsigned equal = __ballot_sync(kFull, i < end && k == cut);
    const unsigned lower = (1u << lane_id()) - 1;
    if (i < end && k > cut) {
      const int slot = above_before + __popc(over & lower);
      s.top_id[slot] = i, s.top_value[slot] = x[i];
    } else if (i < end && k == cut) {
      const int rank = at_before + __popc(equal & lower);
      if (rank < at_wanted) s.top_id[above_total + rank] = i, s.top_value[above_total + rank] = x[i];
    }
    above_before += __popc(over);
    at_before += __popc(equal);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int a = 1; a < n; ++a) {  // insertion sort: value down, id up
      const int id = s.top_id[a];
      const float v = s.top_value[a];
      int b = a - 1;
      for (; b >= 0 && (s.top_value[b] < v || (s.top_value[b] == v && s.top_id[b] > id)); --b) {
        s.top_id[b + 1] = s.top_id[b], s.top_value[b + 1] = s.top_value[b];
      }
      s.top_id[b + 1] = id, s.top_value[b + 1] = v;
    }
  }
  __syncthreads();
}

__global__ void __launch_bounds__(kThreads)
    sample_rows_kernel(float* logits, int vocab, const SampleRowParams* rows, SampleAdjustment* adjustments,
                       std::int32_t* out, std::int32_t first_row, std::int32_t end_row) {
  __shared__ Shared s;
  const SampleRowParams p = rows[blockIdx.x];
  if (p.logit_row < first_row || p.logit_row >= end_row) return;  // another slice's row
  float* x = logits + static_cast<std::int64_t>(p.logit_row - first_row) * vocab;
  std::int32_t* o = out + static_cast<std::int64_t>(blockIdx.x) * kSampleOutputWords;

  // Logprobs of the raw logits, before any adjustment.
  double log_norm = 0;
  const int top_n = min(max(p.logprobs, 0), min(kSampleTopMax, vocab));
  if (p.logprobs >= 0) {
    float m = -INFINITY;
#pragma unroll 8
    for (int i = threadIdx.x; i < vocab; i += kThreads) m = fmaxf(m, x[i]);
    m = block_max(m, s);
    double sum = 0;
    for (int i = threadIdx.x; i < vocab; i += kThreads) sum += exp(static_cast<double>(x[i]) - m);
    log_norm = m + log(block_sum_f64(sum, s));
    if (top_n > 0) top_logits(x, vocab, top_n, s);
    if (threadIdx.x == 0) {
      o[2] = top_n;
      for (int j = 0; j < top_n; ++j) {
        o[3 + 2 * j] = s.top_id[j];
        o[4 + 2 * j] = __float_as_int(static_cast<float>(s.top_value[j] - log_norm));
      }
    }
  } else if (threadIdx.x == 0) {
    o[2] = 0;
  }

  for (int a = p.adjust_begin + threadIdx.x; a < p.adjust_end; a += kThreads) {
    SampleAdjustment& adj = adjustments[a];
    float v = x[adj.token];
    adj.saved = v;
    if (adj.flags & kSampleAdjustBanned) v = -INFINITY;
    v += adj.bias;
    if ((adj.flags & kSampleAdjustSeen) && p.repetition_penalty != 1.0f) {
      v = v > 0 ? v / p.repetition_penalty : v * p.repetition_penalty;
    }
    if (adj.count > 0) v -= p.frequency_penalty * static_cast<float>(adj.count) + p.presence_penalty;
    x[adj.token] = v;
  }
  __syncthreads();

  int token;
  if (p.temperature == 0.0f) {
    token = block_argmax(x, vocab, s);
  } else {
    float m = -INFINITY;
#pragma unroll 8
    for (int i = threadIdx.x; i < vocab; i += kThreads) m = fmaxf(m, x[i]);
    m = block_max(m, s);
    if (!(m > -INFINITY) || isnan(m)) {
      token = -1;
    } else {
      const float inv_t = 1.0f / p.temperature;
      const float min_p = p.min_p;
      // The same expression in every pass, so every pass sees the same p.
      const auto prob = [&](int i) { return __expf((x[i] - m) * inv_t); };
      const auto prob_key = [&](int i) { return __float_as_uint(prob(i)); };  // p >= 0: bits sort as p
      std::uint32_t floor_key = 0;
      const auto base = [&](int i) {
        const float q = prob(i);
        return q > 0.0f && q >= min_p;
      };
      if (p.top_k > 0) {
        u64 count = 0;
        for (int i = threadIdx.x; i < vocab; i += kThreads) count += base(i);
        count = block_sum_u64(count, s);
        if (static_cast<u64>(p.top_k) < count) {
          floor_key = radix_select(
              vocab, prob_key, [&](int i) -> u64 { return base(i); }, static_cast<u64>(p.top_k), s);
        }
      }
      const auto mass = [&](int i) -> u64 {
        const float q = prob(i);
        return q > 0.0f && q >= min_p && __float_as_uint(q) >= floor_key ? static_cast<u64>(q * kFixedOne) : 0;
      };
      if (p.top_p < 1.0f) {
        u64 total = 0;
        for (int i = threadIdx.x; i < vocab; i += kThreads) total += mass(i);
        total = block_sum_u64(total, s);
        const double want = ceil(static_cast<double>(p.top_p) * static_cast<double>(total));
        const u64 target = want < 1 ? 1 : (want > static_cast<double>(total) ? total : static_cast<u64>(want));
        floor_key = radix_select(vocab, prob_key, mass, target, s);
      }
      u64 total = 0;
      for (int i = threadIdx.x; i < vocab; i += kThreads) total += mass(i);
      total = block_sum_u64(total, s);
      u64 target = static_cast<u64>(static_cast<double>(p.uniform) * static_cast<double>(total));
      if (target >= total) target = total - 1;
      token = ordered_pick(vocab, mass, target, s);
    }
  }
  if (threadIdx.x == 0) {
    o[0] = token;
    float raw = token >= 0 ? x[token] : NAN;
    for (int a = p.adjust_begin; a < p.adjust_end && token >= 0; ++a) {
      if (adjustments[a].token == token) raw = adjustments[a].saved;
    }
    o[1] = __float_as_int(p.logprobs >= 0 && token >= 0 ? static_cast<float>(raw - log_norm) : 0.0f);
  }
}

}  // namespace

void launch_sample_rows(float* logits, std::int64_t vocab, const SampleRowParams* rows, std::int64_t n,
                        SampleAdjustment* adjustments, std::int32_t* out, std::int64_t first_row, std::int64_t end_row,
                        CUstream_st* stream) {
  if (n == 0) return;
  sample_rows_kernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(
      logits, static_cast<int>(vocab), rows, adjustments, out, static_cast<std::int32_t>(first_row),
      static_cast<std::int32_t>(end_row));
  ARLE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace arle::kernels::cuda
