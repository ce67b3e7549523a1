#pragma once
// What a tool printed, kept within a byte budget: the first half of the
// budget and the last half, with a line in between saying how much was cut.
// A tool that prints 10 MB costs the model a few kilobytes and still shows
// how the output began and how it ended.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace arle::agent {

class OutputCapture {
 public:
  explicit OutputCapture(std::size_t budget_bytes);
  void append(std::string_view bytes);
  std::int64_t total_bytes() const { return total_; }
  bool truncated() const { return total_ > static_cast<std::int64_t>(budget_); }
  // The kept text; cuts fall on UTF-8 character boundaries.
  std::string text() const;

 private:
  std::size_t budget_;
  std::string head_;
  std::string tail_;  // a ring of the last budget_/2 bytes once the head is full
  std::size_t tail_start_ = 0;
  std::int64_t total_ = 0;
};

}  // namespace arle::agent
