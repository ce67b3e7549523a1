#include "tensor/float_convert.h"

#include <bit>
#include <cstring>

#include "common/error.h"

namespace arle {
namespace {

// A narrow binary float format: 1 sign bit, kExp exponent bits, kMan mantissa
// bits. IEEE-style formats reserve the top exponent for inf/NaN; e4m3fn only
// reserves the all-ones pattern for NaN.
template <int kExp, int kMan, bool kIeee>
struct Format {
  static constexpr int kBias = (1 << (kExp - 1)) - 1;
  static constexpr int kMinExp = 1 - kBias;  // exponent of the smallest normal
  static constexpr std::uint32_t kSignBit = 1u << (kExp + kMan);
  static constexpr std::uint32_t kExpMask = (1u << kExp) - 1;
  static constexpr std::uint32_t kManMask = (1u << kMan) - 1;
  static constexpr std::uint32_t kInf = kExpMask << kMan;  // IEEE only
  static constexpr std::uint32_t kQuietNan = kIeee ? (kInf | (1u << (kMan - 1))) : (kExpMask << kMan | kManMask);

  static bool is_nan_pattern(std::uint32_t exp_field, std::uint32_t man) {
    if (kIeee) return exp_field == kExpMask && man != 0;
    return exp_field == kExpMask && man == kManMask;
  }
  static bool overflows(std::uint32_t exp_field, std::uint32_t man) {
    if (kIeee) return exp_field >= kExpMask;
    return exp_field > kExpMask || (exp_field == kExpMask && man == kManMask);
  }

  static std::uint32_t encode(float x) {
    std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
    std::uint32_t sign = (bits >> 31) ? kSignBit : 0;
    std::uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return sign | kQuietNan;
    if (abs == 0x7f800000u) return sign | (kIeee ? kInf : kQuietNan);

    // value = significand * 2^(exponent - 23), exactly.
    int f32_exp = static_cast<int>(abs >> 23);
    std::uint32_t significand = abs & 0x7fffffu;
    int exponent = f32_exp == 0 ? -126 : f32_exp - 127;
    if (f32_exp != 0) significand |= 0x800000u;
    if (significand == 0) return sign;

    // Normalise f32 denormals so `exponent` is the true binary exponent.
    while (significand < 0x800000u) {
      significand <<= 1;
      --exponent;
    }
    int target_exp = exponent < kMinExp ? kMinExp : exponent;
    // Keep kMan fraction bits at target_exp: drop the rest with RNE.
    int shift = (target_exp - exponent) + (23 - kMan);
    std::uint32_t n;
    if (shift >= 32) {
      n = 0;  // far below half the smallest denormal
    } else {
      n = significand >> shift;
      std::uint32_t rem = significand & ((1u << shift) - 1);
      std::uint32_t half = 1u << (shift - 1);
      if (rem > half || (rem == half && (n & 1u))) ++n;
    }
    if (n == (1u << (kMan + 1))) {  // rounding carried into the next binade
      n >>= 1;
      ++target_exp;
    }
    std::uint32_t exp_field = n >= (1u << kMan) ? static_cast<std::uint32_t>(target_exp + kBias) : 0;
    std::uint32_t man = n & kManMask;
    if (overflows(exp_field, man)) return sign | (kIeee ? kInf : kQuietNan);
    return sign | (exp_field << kMan) | man;
  }

  static float decode(std::uint32_t v) {
    std::uint32_t sign = (v & kSignBit) ? 0x80000000u : 0;
    std::uint32_t exp_field = (v >> kMan) & kExpMask;
    std::uint32_t man = v & kManMask;
    if (is_nan_pattern(exp_field, man)) return std::bit_cast<float>(sign | 0x7fc00000u);
    if (kIeee && exp_field == kExpMask) return std::bit_cast<float>(sign | 0x7f800000u);
    if (exp_field == 0) {
      if (man == 0) return std::bit_cast<float>(sign);
      // Denormal: man * 2^(kMinExp - kMan). Normalise into an f32 (which may
      // itself be denormal for bf16).
      int exponent = kMinExp;
      while (!(man & (1u << kMan))) {
        man <<= 1;
        --exponent;
      }
      man &= kManMask;
      if (exponent < -126) {  // only bf16 reaches f32's denormal range
        std::uint32_t f32_man = ((man | (1u << kMan)) << (23 - kMan)) >> (-126 - exponent);
        return std::bit_cast<float>(sign | f32_man);
      }
      return std::bit_cast<float>(sign | static_cast<std::uint32_t>(exponent + 127) << 23 | man << (23 - kMan));
    }
    int exponent = static_cast<int>(exp_field) - kBias;
    return std::bit_cast<float>(sign | static_cast<std::uint32_t>(exponent + 127) << 23 | man << (23 - kMan));
  }
};

using BF16 = Format<8, 7, true>;
using F16 = Format<5, 10, true>;
using F8E4M3 = Format<4, 3, false>;
using F8E5M2 = Format<5, 2, true>;

template <typename F, typename Storage>
void to_f32(const void* src, float* dst, std::size_t count) {
  const auto* s = static_cast<const Storage*>(src);
  for (std::size_t i = 0; i < count; ++i) dst[i] = F::decode(s[i]);
}

template <typename F, typename Storage>
void from_f32(const float* src, void* dst, std::size_t count) {
  auto* d = static_cast<Storage*>(dst);
  for (std::size_t i = 0; i < count; ++i) d[i] = static_cast<Storage>(F::encode(src[i]));
}

}  // namespace

std::uint16_t f32_to_bf16(float x) { return static_cast<std::uint16_t>(BF16::encode(x)); }
std::uint16_t f32_to_f16(float x) { return static_cast<std::uint16_t>(F16::encode(x)); }
std::uint8_t f32_to_f8e4m3(float x) { return static_cast<std::uint8_t>(F8E4M3::encode(x)); }
std::uint8_t f32_to_f8e5m2(float x) { return static_cast<std::uint8_t>(F8E5M2::encode(x)); }

// bf16 is the top half of an f32, so widening is a shift (NaN payloads kept).
float bf16_to_f32(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }
float f16_to_f32(std::uint16_t bits) { return F16::decode(bits); }
float f8e4m3_to_f32(std::uint8_t bits) { return F8E4M3::decode(bits); }
float f8e5m2_to_f32(std::uint8_t bits) { return F8E5M2::decode(bits); }

void convert_to_f32(const void* src, DType src_dtype, float* dst, std::size_t count) {
  switch (src_dtype) {
    case DType::kF32: std::memcpy(dst, src, count * sizeof(float)); return;
    case DType::kBF16: {
      const auto* s = static_cast<const std::uint16_t*>(src);
      for (std::size_t i = 0; i < count; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::kF16: return to_f32<F16, std::uint16_t>(src, dst, count);
    case DType::kF8E4M3: return to_f32<F8E4M3, std::uint8_t>(src, dst, count);
    case DType::kF8E5M2: return to_f32<F8E5M2, std::uint8_t>(src, dst, count);
    default: break;
  }
  throw_error(ErrorCode::kInvalidArgument, "cannot convert {} to f32: not a float type", dtype_name(src_dtype));
}

void convert_from_f32(const float* src, void* dst, DType dst_dtype, std::size_t count) {
  switch (dst_dtype) {
    case DType::kF32: std::memcpy(dst, src, count * sizeof(float)); return;
    case DType::kBF16: return from_f32<BF16, std::uint16_t>(src, dst, count);
    case DType::kF16: return from_f32<F16, std::uint16_t>(src, dst, count);
    case DType::kF8E4M3: return from_f32<F8E4M3, std::uint8_t>(src, dst, count);
    case DType::kF8E5M2: return from_f32<F8E5M2, std::uint8_t>(src, dst, count);
    default: break;
  }
  throw_error(ErrorCode::kInvalidArgument, "cannot convert f32 to {}: not a float type", dtype_name(dst_dtype));
}

}  // namespace arle
