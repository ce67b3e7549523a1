#include "cli/text_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace arle::cli {

int run_tokenize(const TokenizeOptions& o) {
  if (o.text.has_value() == o.file.has_value()) {
    throw_error(ErrorCode::kInvalidArgument, "tokenize needs exactly one of --text and --file");
  }
  std::string text;
  if (o.text) {
    text = *o.text;
  } else {
    std::ifstream in(*o.file, std::ios::binary);
    if (!in) throw_error(ErrorCode::kNotFound, "cannot read --file {}", *o.file);
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  auto tokenizer = text::Tokenizer::load(o.model_path);
  std::vector<text::TokenId> ids = tokenizer->encode(text, !o.no_special);
  if (!o.json) {
    fmt::print("{}\n", fmt::join(ids, ","));
    return 0;
  }
  nlohmann::json tokens = nlohmann::json::array();
  for (auto id : ids) tokens.push_back(text::utf8_lossy(tokenizer->id_to_token(id).value_or("")));
  fmt::print("{}\n", nlohmann::json{{"ids", ids}, {"tokens", tokens}, {"count", ids.size()}}.dump());
  return 0;
}

int run_detokenize(const std::string& model_path, const std::string& ids_text, bool skip_special) {
  auto tokenizer = text::Tokenizer::load(model_path);
  std::vector<text::TokenId> ids;
  std::string item;
  std::stringstream list(ids_text);
  while (std::getline(list, item, ',')) {
    auto begin = item.find_first_not_of(" \t\n");
    auto end = item.find_last_not_of(" \t\n");
    if (begin == std::string::npos) continue;
    std::string_view digits(item.data() + begin, end - begin + 1);
    text::TokenId id = -1;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || id < 0) {
      throw_error(ErrorCode::kInvalidArgument, "--ids: '{}' is not a token id", digits);
    }
    if (static_cast<std::size_t>(id) >= tokenizer->vocab_size() || !tokenizer->id_to_token(id)) {
      throw_error(ErrorCode::kInvalidArgument, "--ids: {} is not in the vocabulary (size {})", id,
                  tokenizer->vocab_size());
    }
    ids.push_back(id);
  }
  fmt::print("{}\n", tokenizer->decode(ids, skip_special));
  return 0;
}

}  // namespace arle::cli
