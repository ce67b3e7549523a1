#pragma once
// Tokenizer: a Hugging Face tokenizer.json (+ tokenizer_config.json) loaded
// into added tokens -> normalizer -> pre-tokenizer -> BPE model ->
// post-processor for encoding, and decoders for decoding.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/added_vocabulary.h"
#include "text/bpe_model.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"

namespace arle::text {

class Tokenizer {
 public:
  // Reads DIR/tokenizer.json and, if present, DIR/tokenizer_config.json.
  // Throws arle::Error naming the file and the unsupported or malformed part.
  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& dir);
  // From file contents (tests, fuzzing). `config_json` may be empty.
  static std::unique_ptr<Tokenizer> from_json(std::string_view tokenizer_json, std::string_view config_json = {});

  // Text (any bytes; invalid UTF-8 becomes U+FFFD) -> ids. With
  // add_special_tokens the post-processor adds BOS/EOS as the model expects.
  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens = true) const;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens = false) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(TokenId id) const;
  bool is_special(TokenId id) const;
  // A "<0xXX>" token of a byte-fallback model: the decoder turns runs of them
  // into text only as a whole, so a streaming decoder must wait for the run's end.
  bool is_byte_fallback_token(TokenId id) const;
  std::size_t vocab_size() const;  // largest id + 1
  std::optional<TokenId> bos_id() const { return bos_id_; }
  std::optional<TokenId> eos_id() const { return eos_id_; }
  const AddedVocabulary& added_tokens() const { return added_; }

 private:
  Tokenizer() = default;
  void encode_plain(std::string_view text, bool first, std::vector<TokenId>& out) const;

  AddedVocabulary added_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  const Regex* byte_level_split_ = nullptr;  // fast path, see PreTokenizer::byte_level_split_regex
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<TokenId> prefix_ids_;  // added when add_special_tokens (e.g. BOS)
  std::vector<TokenId> suffix_ids_;  // e.g. EOS
  std::optional<TokenId> bos_id_, eos_id_;
};

}  // namespace arle::text
