#include "engine/kv_pool.h"

#include "common/error.h"

namespace arle::engine {

KvPool::KvPool(const model::ModelConfig& config, std::int64_t num_pages, std::int64_t page_size,
               model::KvStorage storage, std::int64_t state_slots)
    : cache_(config, num_pages, page_size, std::move(storage), state_slots),
      refs_(static_cast<std::size_t>(num_pages), 0) {
  free_.reserve(static_cast<std::size_t>(num_pages));
  for (std::int64_t p = num_pages; p-- > 0;) free_.push_back(static_cast<std::int32_t>(p));
}

std::int64_t KvPool::pages_for_bytes(const model::ModelConfig& config, std::size_t bytes, std::int64_t page_size,
                                     DType dtype) {
  const std::size_t per_page =
      model::PagedKvCache::bytes_per_token(config, dtype) * static_cast<std::size_t>(page_size);
  return per_page == 0 ? 0 : static_cast<std::int64_t>(bytes / per_page);
}

std::int32_t KvPool::allocate() {
  if (free_.empty()) return -1;
  const std::int32_t page = free_.back();
  free_.pop_back();
  refs_[static_cast<std::size_t>(page)] = 1;
  return page;
}

void KvPool::retain(std::int32_t page) {
  if (page < 0 || page >= num_pages() || refs_[page] <= 0)
    throw_error(ErrorCode::kInternal, "retain of free page {}", page);
  ++refs_[page];
}

void KvPool::release(std::int32_t page) {
  if (page < 0 || page >= num_pages() || refs_[page] <= 0)
    throw_error(ErrorCode::kInternal, "release of free page {}", page);
  if (--refs_[page] == 0) free_.push_back(page);
}

std::int32_t KvPool::copy_on_write(std::int32_t page) {
  if (ref_count(page) == 1) return page;
  const std::int32_t copy = allocate();
  if (copy < 0) return -1;
  cache_.copy_page(page, copy);
  release(page);
  return copy;
}

}  // namespace arle::engine
