#include "text/incremental_detokenizer.h"

#include <algorithm>

namespace arle::text {
namespace {

bool ends_with_replacement(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

// Enough context tokens for decoders that look back (Metaspace's first-word
// rule, byte-level merges across a token boundary); vLLM uses 5 too.
constexpr std::size_t kContextTokens = 5;

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                                               const std::vector<TokenId>& context)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {
  const std::size_t keep = std::min(context.size(), kContextTokens);
  ids_.assign(context.end() - static_cast<std::ptrdiff_t>(keep), context.end());
  read_offset_ = ids_.size();
}

std::string IncrementalDetokenizer::decode_range(std::size_t begin, std::size_t end) const {
  return tokenizer_.decode(std::vector<TokenId>(ids_.begin() + static_cast<std::ptrdiff_t>(begin),
                                                ids_.begin() + static_cast<std::ptrdiff_t>(end)),
                           skip_special_);
}

std::string IncrementalDetokenizer::push(TokenId id) {
  ids_.push_back(id);
  // Skipped special tokens are invisible to the decoder: a byte run continues across them.
  if (skip_special_ && tokenizer_.is_special(id)) return "";
  if (tokenizer_.is_byte_fallback_token(id)) return "";  // the run may still turn into U+FFFDs
  std::string prefix = decode_range(prefix_offset_, read_offset_);
  std::string full = decode_range(prefix_offset_, ids_.size());
  if (full.size() <= prefix.size() || ends_with_replacement(full) || full.compare(0, prefix.size(), prefix) != 0) {
    return "";
  }
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return full.substr(prefix.size());
}

std::string IncrementalDetokenizer::finish() {
  std::string prefix = decode_range(prefix_offset_, read_offset_);
  std::string full = decode_range(prefix_offset_, ids_.size());
  prefix_offset_ = read_offset_ = ids_.size();
  if (full.size() <= prefix.size() || full.compare(0, prefix.size(), prefix) != 0) return "";
  return full.substr(prefix.size());
}

}  // namespace arle::text
