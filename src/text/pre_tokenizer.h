#pragma once
// Pre-tokenizers of Hugging Face tokenizer.json: split normalized text into
// the pieces ("words") the model tokenizes one at a time.

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arle::text {

class Regex;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Appends the pieces of `piece` to `out`. `first` is true for the first
  // piece of the input (Metaspace's prepend_scheme "first" needs it).
  virtual void split(std::string_view piece, bool first, std::vector<std::string>& out) const = 0;
  // When this pre-tokenizer is exactly "isolate the matches of a regex, then
  // map bytes to GPT-2's alphabet" (Qwen, GPT-2), the regex: the tokenizer
  // then runs a fast path that never builds the mapped strings on cache hits.
  virtual const Regex* byte_level_split_regex() const { return nullptr; }
};

// nullptr for a JSON null. Throws arle::Error(kUnsupported) naming an unknown type.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec);

// The GPT-2 pattern ByteLevel(use_regex=true) splits with.
inline constexpr const char* kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace arle::text
