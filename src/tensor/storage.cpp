#include "tensor/storage.h"

#include <cstdlib>

#include "common/error.h"

namespace arle {

std::shared_ptr<Storage> Storage::allocate_cpu(std::size_t bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment; a zero
  // byte tensor still gets a valid, unique pointer.
  std::size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  if (rounded == 0) rounded = kCpuAlignment;
  if (rounded < bytes) throw_error(ErrorCode::kOutOfMemory, "cannot allocate {} bytes: size overflows", bytes);
  void* p = std::aligned_alloc(kCpuAlignment, rounded);
  if (!p) throw_error(ErrorCode::kOutOfMemory, "cannot allocate {} bytes of CPU memory", bytes);
  return adopt(p, bytes, Device::cpu(), [](void* q) { std::free(q); });
}

std::shared_ptr<Storage> Storage::borrow(void* data, std::size_t bytes, Device device,
                                         std::shared_ptr<const void> keep_alive) {
  std::shared_ptr<Storage> s(new Storage(data, bytes, device));
  s->keep_alive_ = std::move(keep_alive);
  return s;
}

std::shared_ptr<Storage> Storage::adopt(void* data, std::size_t bytes, Device device,
                                        std::function<void(void*)> deleter) {
  std::shared_ptr<Storage> s(new Storage(data, bytes, device));
  s->deleter_ = std::move(deleter);
  return s;
}

Storage::~Storage() {
  if (deleter_) deleter_(data_);
}

}  // namespace arle
