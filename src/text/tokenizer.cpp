#include "text/tokenizer.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "text/spec_fields.h"
#include "text/tokenizer_json.h"
#include "text/regex.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

using nlohmann::json;

json parse_json_text(std::string_view text, const char* what) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw_error(ErrorCode::kInvalidModel, "{} is not valid JSON ({})", what, e.what());
  }
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& dir) {
  std::filesystem::path tokenizer_path = dir / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tokenizer_path, ec)) {
    throw_error(ErrorCode::kNotFound, "{} does not exist (ARLE reads Hugging Face tokenizer.json files)",
                tokenizer_path.string());
  }
  std::filesystem::path config_path = dir / "tokenizer_config.json";
  std::string config = std::filesystem::is_regular_file(config_path, ec) ? read_text_file(config_path) : std::string();
  try {
    return from_json(read_text_file(tokenizer_path), config);
  } catch (const Error& e) {
    throw Error(e.code(), tokenizer_path.string() + ": " + e.what());
  }
}

std::unique_ptr<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json, std::string_view config_json) {
  TokenizerJson parsed = parse_tokenizer_json(tokenizer_json);
  const json& spec = parsed.spec;
  json config = config_json.empty() ? json::object() : parse_json_text(config_json, "tokenizer_config.json");
  if (!config.is_object()) config = json::object();

  std::unique_ptr<Tokenizer> t(new Tokenizer());
  auto get = [&](const char* key) { return spec.contains(key) ? spec[key] : json(); };
  if (!spec.contains("model") || !spec["model"].is_object()) {
    throw_error(ErrorCode::kInvalidModel, "tokenizer.json has no \"model\" object");
  }
  if (!parsed.has_vocab) throw_error(ErrorCode::kInvalidModel, "tokenizer.json: model has no vocab");
  t->model_ = std::make_unique<BpeModel>(spec["model"], std::move(parsed.vocab), parsed.merges);
  t->added_ = AddedVocabulary(get("added_tokens"));
  t->normalizer_ = make_normalizer(get("normalizer"));
  t->pre_tokenizer_ = make_pre_tokenizer(get("pre_tokenizer"));
  if (t->pre_tokenizer_) t->byte_level_split_ = t->pre_tokenizer_->byte_level_split_regex();
  t->decoder_ = make_decoder(get("decoder"));

  if (auto bos = config_token(config, "bos_token")) t->bos_id_ = t->token_to_id(*bos);
  if (auto eos = config_token(config, "eos_token")) t->eos_id_ = t->token_to_id(*eos);

  // Post-processing. transformers rebuilds the template of Llama-style
  // tokenizers from add_bos_token / add_eos_token, so those flags win when
  // present; otherwise a TemplateProcessing "single" template applies.
  const json post = get("post_processor");
  const bool has_flags = config.contains("add_bos_token") || config.contains("add_eos_token");
  if (has_flags) {
    if (config.value("add_bos_token", false) && t->bos_id_) t->prefix_ids_.push_back(*t->bos_id_);
    if (config.value("add_eos_token", false) && t->eos_id_) t->suffix_ids_.push_back(*t->eos_id_);
  } else if (post.is_object() && post.value("type", "") == "TemplateProcessing") {
    const json& single = post.value("single", json::array());
    const json& specials = post.value("special_tokens", json::object());
    bool seen_sequence = false;
    for (const json& item : single) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken")) continue;
      std::string name = item["SpecialToken"].value("id", "");
      auto it = specials.find(name);
      if (it == specials.end() || !it->contains("ids")) {
        throw_error(ErrorCode::kInvalidModel, "tokenizer.json: TemplateProcessing uses undefined special token '{}'", name);
      }
      auto& dst = seen_sequence ? t->suffix_ids_ : t->prefix_ids_;
      for (const json& id : (*it)["ids"]) dst.push_back(id.get<TokenId>());
    }
  } else if (post.is_object()) {
    std::string type = post.value("type", "");
    if (type != "ByteLevel" && type != "Sequence") {
      throw_error(ErrorCode::kUnsupported,
                  "post_processor '{}' is not supported (supported: TemplateProcessing, ByteLevel)", type);
    }
  }
  return t;
}

void Tokenizer::encode_plain(std::string_view text, bool first, std::vector<TokenId>& out) const {
  std::string normalized;
  if (normalizer_) {
    normalized = normalizer_->normalize(text);
    text = normalized;
  }
  std::vector<std::string> words;
  auto encode_words = [&](std::string_view piece) {
    words.clear();
    if (byte_level_split_) {
      std::size_t last = 0;
      for (auto [begin, end] : byte_level_split_->find_all(piece)) {
        if (begin > last) model_->tokenize_raw_bytes(piece.substr(last, begin - last), out);
        model_->tokenize_raw_bytes(piece.substr(begin, end - begin), out);
        last = end;
      }
      if (last < piece.size()) model_->tokenize_raw_bytes(piece.substr(last), out);
    } else if (pre_tokenizer_) {
      pre_tokenizer_->split(piece, first, words);
      for (const auto& w : words) model_->tokenize(w, out);
    } else {
      model_->tokenize(piece, out);
    }
    first = false;
  };
  if (!added_.has_normalized_tokens()) return encode_words(text);
  // Added tokens marked "normalized" are matched after normalization.
  for (const Segment& seg : added_.split(text, /*normalized=*/true)) {
    if (seg.token) {
      out.push_back(*seg.token);
    } else {
      encode_words(seg.text);
    }
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::string valid = utf8_lossy(text);
  std::vector<TokenId> ids;
  if (add_special_tokens) ids = prefix_ids_;
  bool first = true;
  for (const Segment& seg : added_.split(valid, /*normalized=*/false)) {
    if (seg.token) {
      ids.push_back(*seg.token);
    } else {
      encode_plain(seg.text, first, ids);
    }
    first = false;
  }
  if (add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    if (const AddedToken* added = added_.find(id)) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
    } else if (const std::string* token = model_->id_to_token(id)) {
      tokens.push_back(*token);
    }
    // Ids outside the vocabulary decode to nothing, as HF does.
  }
  if (decoder_) tokens = decoder_->decode_chain(std::move(tokens));
  std::string text;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!decoder_ && i > 0) text += ' ';
    text += tokens[i];
  }
  return text;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.token_to_id(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(TokenId id) const {
  if (const AddedToken* added = added_.find(id)) return added->content;
  if (const std::string* token = model_->id_to_token(id)) return *token;
  return std::nullopt;
}

bool Tokenizer::is_special(TokenId id) const {
  const AddedToken* added = added_.find(id);
  return added && added->special;
}

bool Tokenizer::is_byte_fallback_token(TokenId id) const {
  if (!model_->byte_fallback() || added_.find(id)) return false;
  const std::string* token = model_->id_to_token(id);
  return token && token->size() == 6 && token->compare(0, 3, "<0x") == 0 && (*token)[5] == '>';
}

std::size_t Tokenizer::vocab_size() const {
  std::size_t n = model_->vocab_size();
  for (const auto& t : added_.tokens()) n = std::max(n, static_cast<std::size_t>(t.id) + 1);
  return n;
}

}  // namespace arle::text
