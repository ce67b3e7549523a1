#pragma once
// Element types ARLE stores. Names follow the safetensors spellings so that a
// checkpoint's dtype string maps to exactly one DType.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace arle {

enum class DType : std::uint8_t {
  kF32,
  kBF16,
  kF16,
  kF8E4M3,  // OCP e4m3fn: no infinities, 0x7F/0xFF are NaN, max 448
  kF8E5M2,  // OCP e5m2: IEEE-style, with infinities
  kI32,
  kI64,
  kU8,
  kBool,
};

inline constexpr DType kAllDTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF8E4M3, DType::kF8E5M2,
                                       DType::kI32, DType::kI64,  DType::kU8,  DType::kBool};

std::size_t dtype_size(DType dtype);
bool dtype_is_float(DType dtype);
// Short lowercase name for humans: "f32", "bf16", "f8_e4m3", ...
std::string_view dtype_name(DType dtype);
// The safetensors header spelling: "F32", "BF16", "F8_E4M3", ...
std::string_view dtype_safetensors_name(DType dtype);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);
// Accepts torch spellings used in config.json ("bfloat16", "float32", "float16").
std::optional<DType> dtype_from_torch_name(std::string_view name);

}  // namespace arle
