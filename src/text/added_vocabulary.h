#pragma once
// Added tokens of tokenizer.json ("<|im_start|>", "<s>", ...): matched in the
// text before the model sees it, leftmost-longest, honouring lstrip, rstrip,
// single_word and normalized the way Hugging Face tokenizers does.

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/bpe_model.h"

namespace arle::text {

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// A piece of input: either plain text for the normalizer and model, or one
// added token.
struct Segment {
  std::string_view text;  // a view into the text given to split()
  std::optional<TokenId> token;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  explicit AddedVocabulary(const nlohmann::json& added_tokens);

  // Splits `text` around the added tokens whose `normalized` flag equals
  // `normalized` (HF matches non-normalized ones on the raw text and
  // normalized ones on the normalized text).
  std::vector<Segment> split(std::string_view text, bool normalized) const;

  const AddedToken* find(TokenId id) const;
  std::optional<TokenId> token_to_id(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool has_normalized_tokens() const { return has_normalized_; }
  bool empty() const { return tokens_.empty(); }

 private:
  struct Match {
    std::size_t begin, end;
    const AddedToken* token;
  };
  std::optional<Match> find_at(std::string_view text, std::size_t pos, bool normalized) const;

  std::vector<AddedToken> tokens_;
  bool has_normalized_ = false;
  std::unordered_map<TokenId, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t> by_content_;
  // First byte -> tokens starting with it, longest first.
  std::vector<std::size_t> by_first_byte_[256];
};

}  // namespace arle::text
