#include "engine/stop_strings.h"

#include <algorithm>

namespace arle::engine {

StopStrings::StopStrings(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopStrings::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  // The earliest match wins; at equal starts, the shorter stop string.
  std::size_t cut = std::string::npos;
  for (const std::string& stop : stops_) {
    const std::size_t at = pending_.find(stop);
    if (at != std::string::npos && (at < cut || (at == cut && stop.size() < matched_.size()))) {
      cut = at;
      matched_ = stop;
    }
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  std::size_t hold = 0;
  for (const std::string& stop : stops_) {
    for (std::size_t n = std::min(stop.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, stop, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStrings::finish() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace arle::engine
