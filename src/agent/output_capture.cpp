#include "agent/output_capture.h"

#include <fmt/format.h>

#include <algorithm>

namespace arle::agent {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

OutputCapture::OutputCapture(std::size_t budget_bytes) : budget_(std::max<std::size_t>(budget_bytes, 2)) {}

void OutputCapture::append(std::string_view bytes) {
  total_ += static_cast<std::int64_t>(bytes.size());
  const std::size_t head_room = budget_ - budget_ / 2;
  if (head_.size() < head_room) {
    const std::size_t take = std::min(head_room - head_.size(), bytes.size());
    head_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  const std::size_t tail_room = budget_ / 2;
  for (char c : bytes) {  // the ring: tail_ grows to tail_room, then overwrites its oldest byte
    if (tail_.size() < tail_room) {
      tail_.push_back(c);
    } else {
      tail_[tail_start_] = c;
      tail_start_ = (tail_start_ + 1) % tail_room;
    }
  }
}

std::string OutputCapture::text() const {
  std::string tail = tail_.substr(tail_start_) + tail_.substr(0, tail_start_);
  if (!truncated()) return head_ + tail;
  std::string head = head_;
  // A character split by a cut is dropped whole, so the text stays valid UTF-8.
  std::size_t lead = head.size();  // one past the last character's first byte
  while (lead > 0 && is_continuation(head[lead - 1])) --lead;
  if (lead > 0) {
    const auto b = static_cast<unsigned char>(head[lead - 1]);
    const std::size_t length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (head.size() - (lead - 1) < length) head.resize(lead - 1);
  }
  std::size_t skip = 0;
  while (skip < tail.size() && is_continuation(tail[skip])) ++skip;
  tail.erase(0, skip);
  const std::int64_t cut = total_ - static_cast<std::int64_t>(head_.size() + tail_.size());
  return fmt::format("{}\n[... {} bytes of output cut ...]\n{}", head, cut, tail);
}

}  // namespace arle::agent
