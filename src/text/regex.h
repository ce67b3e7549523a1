#pragma once
// A compiled PCRE2 pattern (UTF + UCP, JIT when available) for the
// tokenizers' Split pre-tokenizers and Replace normalizers. Patterns come from
// tokenizer.json files written for Oniguruma / Rust regex; the common subset
// (\p{L}, \s, lookahead, inline flags) behaves the same here.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arle::text {

class Regex {
 public:
  // Throws arle::Error(kUnsupported) with PCRE2's message and offset.
  explicit Regex(const std::string& pattern);
  // A literal string matched as is.
  static Regex literal(const std::string& text);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Every non-overlapping match in `text` (valid UTF-8) as [begin, end) byte
  // ranges. Empty matches advance by one character.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arle::text
