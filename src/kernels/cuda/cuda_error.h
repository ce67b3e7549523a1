#pragma once
// CUDA runtime and cuBLAS status codes as arle::Error (kOutOfMemory for
// allocation failures, kInternal otherwise), naming the call and its place.
// Plain C++: the .cu files use the macros too, without seeing fmt.

namespace arle::kernels::cuda {

[[noreturn]] void throw_cuda_error(int code, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(int status, const char* call, const char* file, int line);

}  // namespace arle::kernels::cuda

#define ARLE_CUDA_CHECK(call)                                                                          \
  do {                                                                                                 \
    const int arle_status_ = static_cast<int>(call);                                                   \
    if (arle_status_ != 0) ::arle::kernels::cuda::throw_cuda_error(arle_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define ARLE_CUBLAS_CHECK(call)                                                                          \
  do {                                                                                                   \
    const int arle_status_ = static_cast<int>(call);                                                     \
    if (arle_status_ != 0) ::arle::kernels::cuda::throw_cublas_error(arle_status_, #call, __FILE__, __LINE__); \
  } while (0)
