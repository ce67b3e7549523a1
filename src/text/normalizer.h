#pragma once
// Normalizers of Hugging Face tokenizer.json: text -> text before
// pre-tokenization (NFC for Qwen, "prepend ▁ and replace spaces" for
// SentencePiece-style models).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace arle::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view text) const = 0;
};

// nullptr for a JSON null. Throws arle::Error(kUnsupported) naming an unknown type.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec);

}  // namespace arle::text
