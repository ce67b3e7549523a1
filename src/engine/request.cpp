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

std::optional<Delta> RequestHandle::try_next(bool& ended) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (deltas_.empty()) {
    ended = closed_;
    return std::nullopt;
  }
  ended = false;
  Delta d = std::move(deltas_.front());
  deltas_.pop_front();
  return d;
}

void RequestHandle::on_ready(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(mutex_);
  notify_ = std::move(notify);
}

void RequestHandle::push(Delta delta) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deltas_.push_back(std::move(delta));
    notify = notify_;
  }
  ready_.notify_all();
  if (notify) notify();
}

void RequestHandle::close() {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    notify = notify_;
  }
  ready_.notify_all();
  if (notify) notify();
}

}  // namespace arle::engine
