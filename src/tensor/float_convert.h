#pragma once
// Conversions between float32 and the narrow float formats (bf16, f16, fp8
// e4m3fn, fp8 e5m2). One parametrised bit-level codec serves all four:
// float32 -> narrow rounds to nearest, ties to even, keeps signed zeros,
// produces denormals, maps overflow to infinity (or NaN for e4m3fn, which has
// no infinity, as PyTorch does) and NaN to a quiet NaN of the same sign.
// narrow -> float32 is exact.

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace arle {

std::uint16_t f32_to_bf16(float x);
std::uint16_t f32_to_f16(float x);
std::uint8_t f32_to_f8e4m3(float x);
std::uint8_t f32_to_f8e5m2(float x);

float bf16_to_f32(std::uint16_t bits);
float f16_to_f32(std::uint16_t bits);
float f8e4m3_to_f32(std::uint8_t bits);
float f8e5m2_to_f32(std::uint8_t bits);

// Bulk conversions for any float DType (f32 included). Throw arle::Error for
// non-float dtypes.
void convert_to_f32(const void* src, DType src_dtype, float* dst, std::size_t count);
void convert_from_f32(const float* src, void* dst, DType dst_dtype, std::size_t count);

}  // namespace arle
