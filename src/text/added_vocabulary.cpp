#include "text/added_vocabulary.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/error.h"
#include "common/json_file.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

using nlohmann::json;

// The character ending just before byte `pos`.
char32_t codepoint_before(std::string_view text, std::size_t pos) {
  std::size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return next_codepoint(text, start);
}

}  // namespace

AddedVocabulary::AddedVocabulary(const json& added_tokens) {
  if (added_tokens.is_null()) return;
  if (!added_tokens.is_array()) throw_error(ErrorCode::kInvalidModel, "tokenizer.json: added_tokens is not a list");
  for (const json& t : added_tokens) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || t["id"].get<std::int64_t>() < 0 ||
        t["id"].get<std::int64_t>() >= (1 << 30) || !t.contains("content") || !t["content"].is_string()) {
      throw_error(ErrorCode::kInvalidModel, "tokenizer.json: added token {} needs an id and a content string",
                  describe_json(t));
    }
    AddedToken token;
    token.id = t["id"].get<TokenId>();
    token.content = t["content"].get<std::string>();
    token.special = t.value("special", false);
    token.lstrip = t.value("lstrip", false);
    token.rstrip = t.value("rstrip", false);
    token.single_word = t.value("single_word", false);
    token.normalized = t.value("normalized", !token.special);
    if (token.content.empty()) continue;  // can never match
    has_normalized_ |= token.normalized;
    by_id_[token.id] = tokens_.size();
    by_content_[token.content] = tokens_.size();
    tokens_.push_back(std::move(token));
  }
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [&](std::size_t a, std::size_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
  }
}

std::optional<AddedVocabulary::Match> AddedVocabulary::find_at(std::string_view text, std::size_t pos,
                                                               bool normalized) const {
  for (std::size_t index : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const AddedToken& t = tokens_[index];
    if (t.normalized != normalized || text.compare(pos, t.content.size(), t.content) != 0) continue;
    std::size_t end = pos + t.content.size();
    if (t.single_word) {
      bool starts_word = pos == 0 || !is_word_char(codepoint_before(text, pos));
      std::size_t after = end;
      bool ends_word = end == text.size() || !is_word_char(next_codepoint(text, after));
      if (!starts_word || !ends_word) continue;
    }
    return Match{pos, end, &t};  // longest first, so the first hit is the longest
  }
  return std::nullopt;
}

std::vector<Segment> AddedVocabulary::split(std::string_view text, bool normalized) const {
  std::vector<Segment> segments;
  std::size_t plain_start = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto match = tokens_.empty() ? std::nullopt : find_at(text, pos, normalized);
    if (!match) {
      ++pos;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      continue;
    }
    std::size_t begin = match->begin, end = match->end;
    // lstrip / rstrip swallow the whitespace beside the token.
    if (match->token->lstrip) begin = skip_whitespace_backward(text, begin, plain_start);
    if (match->token->rstrip) end = skip_whitespace_forward(text, end);
    if (begin > plain_start) segments.push_back({text.substr(plain_start, begin - plain_start), {}});
    segments.push_back({match->token->content, match->token->id});
    plain_start = pos = end;
  }
  if (plain_start < text.size()) segments.push_back({text.substr(plain_start), {}});
  return segments;
}

const AddedToken* AddedVocabulary::find(TokenId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<TokenId> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

}  // namespace arle::text
