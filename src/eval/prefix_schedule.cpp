#include "eval/prefix_schedule.h"

#include <algorithm>

namespace arle::eval {
namespace {

std::size_t shared_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  return static_cast<std::size_t>(
      std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(a.size(), b.size())), b.begin()).first -
      a.begin());
}

}  // namespace

std::vector<std::size_t> prefix_leaders(const std::vector<const std::vector<std::int32_t>*>& prompts,
                                        std::size_t min_shared) {
  std::vector<std::size_t> leader(prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    leader[i] = i;
    if (i == 0) continue;
    std::size_t best = 0;
    // The chain ends at a request that leads itself; it is at most a few long.
    for (std::size_t c = i - 1;; c = leader[c]) {
      const std::size_t shared = shared_prefix(*prompts[c], *prompts[i]);
      if (shared >= min_shared && shared >= best) {  // >=: the earlier one on ties
        best = shared;
        leader[i] = c;
      }
      if (leader[c] == c) break;
    }
  }
  return leader;
}

FollowerQueue::FollowerQueue(const std::vector<std::size_t>& leader) : followers_(leader.size()) {
  for (std::size_t i = 0; i < leader.size(); ++i) {
    if (leader[i] == i) {
      ready_.push_back(i);
    } else {
      followers_[leader[i]].push_back(i);
    }
  }
}

std::optional<std::size_t> FollowerQueue::next() {
  if (ready_.empty()) return std::nullopt;
  const std::size_t i = ready_.front();
  ready_.pop_front();
  return i;
}

void FollowerQueue::finished(std::size_t i) {
  ++finished_;
  ready_.insert(ready_.begin(), followers_[i].begin(), followers_[i].end());
}

}  // namespace arle::eval
