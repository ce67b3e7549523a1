#include "tensor/tensor.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "tensor/float_convert.h"

namespace arle {
namespace {

TEST(Tensor, EmptyIsAlignedContiguousAndSized) {
  for (std::int64_t n : {0, 1, 3, 17, 1000}) {
    Tensor t = Tensor::empty({n, 3}, DType::kBF16);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % kCpuAlignment, 0u);
    EXPECT_EQ(t.numel(), n * 3);
    EXPECT_EQ(t.nbytes(), static_cast<std::size_t>(n * 3 * 2));
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_TRUE(t.storage()->owns_memory());
    EXPECT_EQ(t.strides(), (std::vector<std::int64_t>{3, 1}));
  }
}

TEST(Tensor, ZerosAreZero) {
  Tensor t = Tensor::zeros({5, 7}, DType::kF32);
  for (std::int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t.data<float>()[i], 0.0f);
}

TEST(Tensor, ReshapeAndNarrowShareBytes) {
  Tensor t = Tensor::empty({4, 6}, DType::kF32);
  for (int i = 0; i < 24; ++i) t.data<float>()[i] = static_cast<float>(i);
  Tensor r = t.reshape({2, 12});
  EXPECT_EQ(r.data<float>(), t.data<float>());
  EXPECT_THROW(t.reshape({5, 5}), Error);
  Tensor rows = t.narrow_rows(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 6}));
  EXPECT_EQ(rows.data<float>()[0], 6.0f);
  EXPECT_EQ(rows.storage(), t.storage());
  EXPECT_THROW(t.narrow_rows(3, 5), Error);
  EXPECT_THROW(t.narrow_rows(-1, 2), Error);
}

TEST(Tensor, ToF32WidensEveryFloatDtype) {
  Tensor t = Tensor::empty({3}, DType::kBF16);
  const float values[] = {1.5f, -2.25f, 1024.0f};
  for (int i = 0; i < 3; ++i) t.data<std::uint16_t>()[i] = f32_to_bf16(values[i]);
  Tensor f = t.to_f32();
  EXPECT_EQ(f.dtype(), DType::kF32);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.data<float>()[i], values[i]);
  EXPECT_THROW(Tensor::empty({2}, DType::kI64).to_f32(), Error);
}

TEST(Tensor, BorrowedStorageKeepsOwnerAlive) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4});
  std::weak_ptr<std::vector<float>> watch = owner;
  Tensor t;
  {
    auto storage = Storage::borrow(owner->data(), owner->size() * sizeof(float), Device::cpu(), owner);
    owner.reset();
    t = Tensor::view_of(storage, sizeof(float), {3}, DType::kF32);
  }
  EXPECT_FALSE(watch.expired());
  EXPECT_FALSE(t.storage()->owns_memory());
  EXPECT_EQ(t.data<float>()[0], 2.0f);
  t = Tensor();
  EXPECT_TRUE(watch.expired());
}

TEST(Tensor, ViewOutsideStorageIsRejected) {
  auto storage = Storage::allocate_cpu(16);
  EXPECT_NO_THROW(Tensor::view_of(storage, 8, {2}, DType::kF32));
  EXPECT_THROW(Tensor::view_of(storage, 12, {2}, DType::kF32), Error);
  EXPECT_THROW(Tensor::view_of(storage, 32, {0}, DType::kF32), Error);
}

TEST(Tensor, ShapeArithmeticCatchesOverflowAndNegatives) {
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({2, 0, 5}), 0);
  EXPECT_THROW(shape_numel({std::int64_t{1} << 32, std::int64_t{1} << 32}), Error);
  EXPECT_THROW(shape_numel({-1, 4}), Error);
  EXPECT_THROW(Tensor::empty({std::int64_t{1} << 62}, DType::kF32), Error);
  EXPECT_EQ(shape_to_string({2, 3}), "[2, 3]");
}

TEST(DType, SafetensorsNamesRoundTrip) {
  for (DType d : kAllDTypes) {
    EXPECT_EQ(dtype_from_safetensors_name(dtype_safetensors_name(d)), d);
    EXPECT_GT(dtype_size(d), 0u);
  }
  EXPECT_EQ(dtype_from_safetensors_name("F64"), std::nullopt);
  EXPECT_EQ(dtype_from_torch_name("bfloat16"), DType::kBF16);
  EXPECT_EQ(dtype_from_torch_name("float32"), DType::kF32);
  EXPECT_EQ(dtype_size(DType::kF8E4M3), 1u);
}

}  // namespace
}  // namespace arle
