#pragma once
// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback,
// unknown-token handling. Turns one pre-tokenized word into token ids exactly
// as Hugging Face tokenizers does (lowest-rank merge first, leftmost on ties).

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/bpe_model_types.h"
#include "text/word_cache.h"

namespace arle::text {


class BpeModel {
 public:
  // `spec` is tokenizer.json's "model" object (flags); vocab and merges come
  // from parse_tokenizer_json. Throws arle::Error naming the problem
  // (unknown model type, duplicate ids, merges of unknown tokens).
  BpeModel(const nlohmann::json& spec, std::vector<std::pair<std::string, TokenId>> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges);

  // Appends the ids of one word. Thread-safe.
  void tokenize(std::string_view word, std::vector<TokenId>& out) const;
  // Same for a word given as raw bytes of a byte-level model: the bytes are
  // mapped to GPT-2's alphabet only on a cache miss.
  void tokenize_raw_bytes(std::string_view raw, std::vector<TokenId>& out) const;

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

  // Heterogeneous lookup: find(string_view) without building a std::string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> id_to_token_;
  // Open addressing over one flat array: a merge lookup is one or two cache
  // lines, where std::unordered_map costs a bucket and a node chase.
  struct MergeSlot {
    std::uint64_t key = kEmptyKey;
    Merge merge{};
  };
  static constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};
  const Merge* find_merge(TokenId a, TokenId b) const;
  void insert_merge(TokenId a, TokenId b, Merge merge);
  std::vector<MergeSlot> merge_slots_;
  std::size_t merge_mask_ = 0;
  std::size_t merge_count_ = 0;
  std::optional<TokenId> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  TokenId byte_ids_[256];  // "<0xXX>" ids for byte fallback, -1 if absent

  // Repeated words (" the", " of") are common: cache their ids.
  mutable WordCache cache_;
  mutable WordCache raw_cache_{15};  // keyed by raw bytes (tokenize_raw_bytes)
};

}  // namespace arle::text
