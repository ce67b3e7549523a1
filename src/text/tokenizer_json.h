#pragma once
// Parsing tokenizer.json fast: the BPE vocabulary and merges (hundreds of
// thousands of entries in Qwen's file) are captured straight from the parser
// instead of being built into a JSON tree first; everything else stays JSON.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/bpe_model.h"

namespace arle::text {

struct TokenizerJson {
  nlohmann::json spec;  // the document without model.vocab and model.merges
  std::vector<std::pair<std::string, TokenId>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool has_vocab = false;
};

// Throws arle::Error(kInvalidModel) for invalid JSON or malformed vocab/merges.
TokenizerJson parse_tokenizer_json(std::string_view text);

}  // namespace arle::text
