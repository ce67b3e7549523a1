#pragma once
// StopStrings: finds OpenAI `stop` strings in streamed text. Text is released
// only once no stop string can still begin inside it, so a client never sees
// the start of a stop string that later completes; the matched string itself
// and everything after it are dropped.

#include <string>
#include <string_view>
#include <vector>

namespace arle::engine {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);

  // Adds decoded text; returns the part that is now safe to emit.
  std::string push(std::string_view text);
  // Whatever is held back, at the end of generation (no match happened).
  std::string finish();
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace arle::engine
