#include "engine/request.h"

namespace arle::engine {

std::optional<Delta> RequestHandle::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [&] { return !deltas_.empty() || closed_; });
  if (deltas_.empty()) return std::nullopt;
  Delta d = std::move(deltas_.front());
  deltas_.pop_front();
  return d;
}

void RequestHandle::push(Delta delta) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deltas_.push_back(std::move(delta));
  }
  ready_.notify_all();
}

void RequestHandle::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

}  // namespace arle::engine
