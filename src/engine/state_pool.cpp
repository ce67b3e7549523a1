#include "engine/state_pool.h"

#include "common/error.h"

namespace arle::engine {

StatePool::StatePool(model::PagedKvCache& cache) : cache_(cache) {
  const std::int64_t slots = cache.has_state() ? cache.state_slots() : 0;
  taken_.assign(static_cast<std::size_t>(slots), false);
  for (std::int64_t s = slots; s-- > 0;) free_.push_back(static_cast<std::int32_t>(s));
}

std::int32_t StatePool::allocate(bool zeroed) {
  if (free_.empty()) return -1;
  const std::int32_t slot = free_.back();
  free_.pop_back();
  taken_[static_cast<std::size_t>(slot)] = true;
  if (zeroed) cache_.zero_state(slot);
  return slot;
}

void StatePool::release(std::int32_t slot) {
  if (!taken(slot)) {
    throw_error(ErrorCode::kInternal, "release of state slot {}, which is not taken", slot);
  }
  taken_[static_cast<std::size_t>(slot)] = false;
  free_.push_back(slot);
}

}  // namespace arle::engine
