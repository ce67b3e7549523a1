#pragma once
// KvPool: the KV cache's pages as a shared, reference-counted resource.
// A page is held by every sequence whose page table lists it and by the
// radix cache when it caches it; it returns to the free list when the last
// holder releases it. A page with more than one holder is read-only: a
// sequence that must write into one (the shared tail page of n > 1 samples)
// first takes a private copy (copy_on_write).

#include <cstdint>
#include <vector>

#include "model/paged_kv_cache.h"

namespace arle::engine {

class KvPool {
 public:
  // `state_slots`: recurrent-state slots of hybrid models (see
  // model/paged_kv_cache.h), handed out by a StatePool.
  KvPool(const model::ModelConfig& config, std::int64_t num_pages, std::int64_t page_size = model::kDefaultPageSize,
         model::KvStorage storage = {}, std::int64_t state_slots = 0);

  // Pages that fit in `bytes` for this model (at least 1 when bytes allow).
  static std::int64_t pages_for_bytes(const model::ModelConfig& config, std::size_t bytes, std::int64_t page_size,
                                      DType dtype = DType::kF32);

  model::PagedKvCache& cache() { return cache_; }
  std::int64_t page_size() const { return cache_.page_size(); }
  std::int64_t num_pages() const { return cache_.num_pages(); }
  std::int64_t free_pages() const { return static_cast<std::int64_t>(free_.size()); }

  // A fresh page with one holder, or -1 when none is free.
  std::int32_t allocate();
  void retain(std::int32_t page);
  void release(std::int32_t page);
  std::int32_t ref_count(std::int32_t page) const { return refs_[static_cast<std::size_t>(page)]; }

  // Makes `page` writable for its caller: returns it when the caller is its
  // only holder, else a private copy of its K/V (the caller's reference moves
  // to the copy). Returns -1 when a copy is needed but no page is free.
  std::int32_t copy_on_write(std::int32_t page);

 private:
  model::PagedKvCache cache_;
  std::vector<std::int32_t> refs_;
  std::vector<std::int32_t> free_;  // a stack: recently freed pages are reused first
};

}  // namespace arle::engine
