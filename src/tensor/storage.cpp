#include "tensor/storage.h"

#include <cstdlib>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common/error.h"

namespace arle {
namespace {

// A forward pass allocates and frees the same activation sizes every step.
// glibc would serve blocks over 128 KiB with fresh mmaps and trim the heap
// after each step, so every step paid for page faults again (15% of a
// prefill). Keep blocks up to 64 MiB in the heap and stop trimming below
// 256 MiB of free space; weights and KV pools are larger and still mmapped.
void tune_allocator_once() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
  });
#endif
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate_cpu(std::size_t bytes) {
  tune_allocator_once();
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
