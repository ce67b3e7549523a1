#pragma once
// Decoders of tokenizer.json: token strings -> text (ByteLevel for Qwen/GPT-2,
// Replace + ByteFallback + Fuse + Strip for SentencePiece-style models).

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace arle::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Transforms the token strings; the caller joins the result.
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

// nullptr for a JSON null. Throws arle::Error(kUnsupported) naming an unknown type.
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec);

}  // namespace arle::text
