#pragma once
// Device memory for tensors: allocation (cudaMalloc, freed with the last
// reference), host <-> device copies with dtype conversion, and poisoning
// (tests fill outputs with NaN first to catch elements a kernel never wrote).

#include <cstdint>

#include "tensor/tensor.h"

namespace arle::kernels::cuda {

// Uninitialised device memory. Throws kOutOfMemory.
Tensor device_empty(const Shape& shape, DType dtype, int device = 0);
// A contiguous device copy of a CPU tensor (any float dtype, any strides)
// converted to `dtype` (f32, bf16 or f16).
Tensor to_device(const Tensor& host, DType dtype, int device = 0);
// A contiguous float32 CPU copy of a device tensor (rows may be strided).
Tensor to_host_f32(const Tensor& device_tensor);
// Every byte of the tensor's span set to `byte` (0xFF: NaN in every float
// dtype). Synchronous.
void fill_bytes(const Tensor& device_tensor, std::uint8_t byte);

}  // namespace arle::kernels::cuda
