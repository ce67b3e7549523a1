#pragma once
// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback,
// unknown-token handling. Turns one pre-tokenized word into token ids exactly
// as Hugging Face tokenizers does (lowest-rank merge first, leftmost on ties).

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace arle::text {

using TokenId = std::int32_t;

class BpeModel {
 public:
  // `spec` is tokenizer.json's "model" object. Throws arle::Error naming the
  // problem (unknown model type, malformed merges, merge of unknown tokens).
  explicit BpeModel(const nlohmann::json& spec);

  // Appends the ids of one word. Thread-safe.
  void tokenize(std::string_view word, std::vector<TokenId>& out) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  const std::string* id_to_token(TokenId id) const;  // nullptr if unknown
  std::size_t vocab_size() const { return id_to_token_.size(); }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  struct Merge {
    std::uint32_t rank;
    TokenId result;
  };
  static std::uint64_t pair_key(TokenId a, TokenId b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  void merge_word(std::vector<TokenId>& symbols) const;
  void tokenize_uncached(std::string_view word, std::vector<TokenId>& out) const;

  std::unordered_map<std::string, TokenId> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::optional<TokenId> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  TokenId byte_ids_[256];  // "<0xXX>" ids for byte fallback, -1 if absent

  // Repeated words (" the", " of") are common: cache their ids.
  static constexpr std::size_t kCacheCapacity = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace arle::text
