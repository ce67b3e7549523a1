#include "tensor/tensor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "tensor/float_convert.h"

namespace arle {
namespace {

std::vector<std::int64_t> contiguous_strides(const Shape& shape) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) throw_error(ErrorCode::kInvalidArgument, "shape {} has a negative dimension", shape_to_string(shape));
    if (__builtin_mul_overflow(n, d, &n)) {
      throw_error(ErrorCode::kInvalidArgument, "shape {} has more elements than fit in 64 bits", shape_to_string(shape));
    }
  }
  return n;
}

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  std::int64_t n = shape_numel(shape);
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<std::size_t>(n), dtype_size(dtype), &bytes)) {
    throw_error(ErrorCode::kOutOfMemory, "tensor {} of {} is too large", shape_to_string(shape), dtype_name(dtype));
  }
  return view_of(Storage::allocate_cpu(bytes), 0, shape, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, std::size_t byte_offset, const Shape& shape, DType dtype) {
  if (!storage) throw_error(ErrorCode::kInternal, "Tensor::view_of without storage");
  std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (byte_offset > storage->bytes() || bytes > storage->bytes() - byte_offset) {
    throw_error(ErrorCode::kInternal, "view {} of {} at offset {} exceeds storage of {} bytes", shape_to_string(shape),
                dtype_name(dtype), byte_offset, storage->bytes());
  }
  Tensor t;
  t.storage_ = std::move(storage);
  t.byte_offset_ = byte_offset;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

std::int64_t Tensor::size(std::int64_t d) const {
  if (d < 0) d += dim();
  if (d < 0 || d >= dim()) throw_error(ErrorCode::kInvalidArgument, "dimension {} out of range for {}", d, dim());
  return shape_[static_cast<std::size_t>(d)];
}

std::int64_t Tensor::numel() const { return shape_numel(shape_); }

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

void* Tensor::raw_data() const {
  if (!storage_) return nullptr;
  return static_cast<std::uint8_t*>(storage_->data()) + byte_offset_;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (!is_contiguous()) throw_error(ErrorCode::kInvalidArgument, "reshape needs a contiguous tensor");
  if (shape_numel(shape) != numel()) {
    throw_error(ErrorCode::kInvalidArgument, "cannot reshape {} into {}", shape_to_string(shape_),
                shape_to_string(shape));
  }
  return view_of(storage_, byte_offset_, shape, dtype_);
}

Tensor Tensor::narrow_rows(std::int64_t start, std::int64_t end) const {
  if (dim() == 0 || start < 0 || end < start || end > shape_[0]) {
    throw_error(ErrorCode::kInvalidArgument, "rows [{}, {}) out of range for {}", start, end, shape_to_string(shape_));
  }
  Tensor t = *this;
  t.shape_[0] = end - start;
  t.byte_offset_ += static_cast<std::size_t>(start * strides_[0]) * dtype_size(dtype_);
  return t;
}

Tensor Tensor::narrow_cols(std::int64_t start, std::int64_t end) const {
  if (dim() != 2 || start < 0 || end < start || end > shape_[1]) {
    throw_error(ErrorCode::kInvalidArgument, "columns [{}, {}) out of range for {}", start, end,
                shape_to_string(shape_));
  }
  Tensor t = *this;
  t.shape_[1] = end - start;
  t.byte_offset_ += static_cast<std::size_t>(start * strides_[1]) * dtype_size(dtype_);
  return t;
}

Tensor Tensor::to_f32() const {
  if (!device().is_cpu()) throw_error(ErrorCode::kUnsupported, "to_f32 needs a CPU tensor");
  Tensor out = empty(shape_, DType::kF32);
  if (is_contiguous()) {
    convert_to_f32(raw_data(), dtype_, out.data<float>(), static_cast<std::size_t>(numel()));
    return out;
  }
  // Strided: walk the index space one element at a time (rare, small tensors).
  std::vector<std::int64_t> index(shape_.size(), 0);
  const auto* base = static_cast<const std::uint8_t*>(raw_data());
  float* dst = out.data<float>();
  for (std::int64_t i = 0, n = numel(); i < n; ++i) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < shape_.size(); ++d) offset += index[d] * strides_[d];
    convert_to_f32(base + offset * static_cast<std::int64_t>(dtype_size(dtype_)), dtype_, dst + i, 1);
    for (std::size_t d = shape_.size(); d-- > 0;) {
      if (++index[d] < shape_[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace arle
