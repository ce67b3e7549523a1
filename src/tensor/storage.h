#pragma once
// Storage: a block of bytes on a device that a Tensor views. It either owns
// its memory (freed with the last reference) or borrows it from an owner it
// keeps alive (e.g. the mmap of a safetensors file).

#include <cstddef>
#include <functional>
#include <memory>

#include "tensor/device.h"

namespace arle {

inline constexpr std::size_t kCpuAlignment = 64;  // a cache line; AVX-512 loads

class Storage {
 public:
  // Owned, 64-byte aligned, uninitialised CPU memory. Throws kOutOfMemory.
  static std::shared_ptr<Storage> allocate_cpu(std::size_t bytes);
  // Borrowed memory; `keep_alive` is held until the storage dies.
  static std::shared_ptr<Storage> borrow(void* data, std::size_t bytes, Device device,
                                         std::shared_ptr<const void> keep_alive);
  // Memory freed by `deleter` (used by device allocators).
  static std::shared_ptr<Storage> adopt(void* data, std::size_t bytes, Device device,
                                        std::function<void(void*)> deleter);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  bool owns_memory() const { return static_cast<bool>(deleter_); }

 private:
  Storage(void* data, std::size_t bytes, Device device) : data_(data), bytes_(bytes), device_(device) {}

  void* data_;
  std::size_t bytes_;
  Device device_;
  std::function<void(void*)> deleter_;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace arle
