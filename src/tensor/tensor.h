#pragma once
// Tensor: a typed, strided view of a Storage. Copying a Tensor copies the
// view, not the bytes. This is deliberately not a tensor framework: ops live
// in kernels/, and model code asks for exactly the layouts it needs.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "tensor/dtype.h"
#include "tensor/storage.h"

namespace arle {

using Shape = std::vector<std::int64_t>;

// Product of dims; throws kInvalidArgument on a negative dim or overflow.
std::int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[2, 3]"

class Tensor {
 public:
  Tensor() = default;

  // New owned, contiguous, uninitialised CPU tensor.
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  // Contiguous view of `storage` starting at `byte_offset`; checks bounds.
  static Tensor view_of(std::shared_ptr<Storage> storage, std::size_t byte_offset, const Shape& shape, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const std::vector<std::int64_t>& strides() const { return strides_; }  // in elements
  std::int64_t dim() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t size(std::int64_t d) const;
  std::int64_t numel() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* raw_data() const;
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw_data());
  }

  // Same bytes, new shape; needs a contiguous tensor and equal numel.
  Tensor reshape(const Shape& shape) const;
  // Rows [start, end) along dimension 0 (a view).
  Tensor narrow_rows(std::int64_t start, std::int64_t end) const;
  // Columns [start, end) of a 2-D tensor (a view; rows keep their stride).
  Tensor narrow_cols(std::int64_t start, std::int64_t end) const;
  // Elements between consecutive rows of a 2-D tensor.
  std::int64_t row_stride() const { return strides_.empty() ? 0 : strides_[0]; }
  // Contiguous float32 copy on the CPU (any float dtype, any strides).
  Tensor to_f32() const;

 private:
  std::shared_ptr<Storage> storage_;
  std::size_t byte_offset_ = 0;
  DType dtype_ = DType::kF32;
  Shape shape_;
  std::vector<std::int64_t> strides_;
};

}  // namespace arle
