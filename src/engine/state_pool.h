#pragma once
// StatePool: hands out the recurrent-state slots of a PagedKvCache (hybrid
// models' linear-attention layers; the cache stores them, see
// model/paged_kv_cache.h). Unlike KV pages, state is not shared: a sequence
// takes a slot when it is admitted (zeroed: nothing seen yet) and gives it
// back when it finishes, is preempted (it recomputes from its tokens) or is
// cancelled. The radix cache holds some slots as snapshots: the state after
// a page-aligned prefix, copied in and out (engine/radix_cache.h). A cache
// without state has no slots.

#include <cstdint>
#include <vector>

#include "model/paged_kv_cache.h"

namespace arle::engine {

class StatePool {
 public:
  explicit StatePool(model::PagedKvCache& cache);

  std::int64_t slots() const { return static_cast<std::int64_t>(taken_.size()); }
  std::int64_t free_slots() const { return static_cast<std::int64_t>(free_.size()); }

  // A slot (zeroed unless the caller overwrites it at once), or -1 when
  // none is free.
  std::int32_t allocate(bool zeroed = true);
  bool taken(std::int32_t slot) const { return slot >= 0 && slot < slots() && taken_[static_cast<std::size_t>(slot)]; }
  model::PagedKvCache& cache() { return cache_; }
  // Throws kInternal for a slot that is not taken.
  void release(std::int32_t slot);

 private:
  model::PagedKvCache& cache_;
  std::vector<std::int32_t> free_;
  std::vector<bool> taken_;
};

}  // namespace arle::engine
