#include "kernels/cuda/device_memory.h"

#include <cuda_runtime_api.h>

#include "common/error.h"
#include "kernels/cuda/cuda_error.h"
#include "tensor/float_convert.h"

namespace arle::kernels::cuda {

Tensor device_empty(const Shape& shape, DType dtype, int device) {
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  ARLE_CUDA_CHECK(cudaSetDevice(device));
  void* data = nullptr;
  if (bytes > 0) {
    const cudaError_t e = cudaMalloc(&data, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw_error(ErrorCode::kOutOfMemory, "cannot allocate {} bytes on cuda:{}: {}", bytes, device,
                  cudaGetErrorString(e));
    }
  }
  auto storage = Storage::adopt(data, bytes, Device::cuda(device), [](void* p) {
    if (p) cudaFree(p);
  });
  return Tensor::view_of(std::move(storage), 0, shape, dtype);
}

Tensor to_device(const Tensor& host, DType dtype, int device) {
  if (!host.device().is_cpu()) throw_error(ErrorCode::kInvalidArgument, "to_device needs a CPU tensor");
  if (dtype != DType::kF32 && dtype != DType::kBF16 && dtype != DType::kF16) {
    throw_error(ErrorCode::kUnsupported, "device tensors of {} are not supported", dtype_name(dtype));
  }
  Tensor staged = host.dtype() == dtype && host.is_contiguous() ? host : Tensor::empty(host.shape(), dtype);
  if (staged.raw_data() != host.raw_data()) {
    const Tensor f32 = host.to_f32();
    convert_from_f32(f32.data<float>(), staged.raw_data(), dtype, static_cast<std::size_t>(f32.numel()));
  }
  Tensor out = device_empty(host.shape(), dtype, device);
  if (out.nbytes() > 0) ARLE_CUDA_CHECK(cudaMemcpy(out.raw_data(), staged.raw_data(), out.nbytes(), cudaMemcpyHostToDevice));
  return out;
}

Tensor to_host_f32(const Tensor& t) {
  if (t.device().is_cpu()) return t.to_f32();
  Tensor host = Tensor::empty(t.shape(), t.dtype());
  if (host.nbytes() == 0) return host.to_f32();
  if (t.is_contiguous()) {
    ARLE_CUDA_CHECK(cudaMemcpy(host.raw_data(), t.raw_data(), host.nbytes(), cudaMemcpyDeviceToHost));
  } else if (t.dim() == 2 && t.strides()[1] == 1) {
    const std::size_t esize = dtype_size(t.dtype());
    ARLE_CUDA_CHECK(cudaMemcpy2D(host.raw_data(), static_cast<std::size_t>(t.size(1)) * esize, t.raw_data(),
                                 static_cast<std::size_t>(t.row_stride()) * esize,
                                 static_cast<std::size_t>(t.size(1)) * esize, static_cast<std::size_t>(t.size(0)),
                                 cudaMemcpyDeviceToHost));
  } else {
    throw_error(ErrorCode::kUnsupported, "to_host_f32: only contiguous or row-strided 2-D device tensors");
  }
  return host.to_f32();
}

void fill_bytes(const Tensor& t, std::uint8_t byte) {
  if (t.nbytes() == 0) return;
  if (!t.is_contiguous()) throw_error(ErrorCode::kInvalidArgument, "fill_bytes needs a contiguous tensor");
  ARLE_CUDA_CHECK(cudaMemset(t.raw_data(), byte, t.nbytes()));
  ARLE_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace arle::kernels::cuda
