#include "cli/text_commands.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cli/token_id_list.h"
#include "common/error.h"
#include "common/json_file.h"
#include "text/chat_template.h"
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
    text = read_text_file(*o.file, "--file");
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
  std::vector<text::TokenId> ids = parse_token_id_list(ids_text, "--ids");
  for (text::TokenId id : ids) {
    if (static_cast<std::size_t>(id) >= tokenizer->vocab_size() || !tokenizer->id_to_token(id)) {
      throw_error(ErrorCode::kInvalidArgument, "--ids: {} is not in the vocabulary (size {})", id,
                  tokenizer->vocab_size());
    }
  }
  fmt::print("{}\n", tokenizer->decode(ids, skip_special));
  return 0;
}

namespace {

nlohmann::ordered_json read_json_argument(const std::string& path, const char* flag) {
  std::string text = read_text_file(path, flag);
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorCode::kInvalidArgument, "{} {} is not valid JSON ({})", flag, path, e.what());
  }
}

}  // namespace

int run_chat_template(const ChatTemplateOptions& o) {
  text::ChatTemplate t = text::ChatTemplate::load(o.model_path);
  text::ChatTemplateInput input;
  input.messages = read_json_argument(o.messages_file, "--messages");
  if (!input.messages.is_array()) {
    throw_error(ErrorCode::kInvalidArgument, "--messages {} must hold a JSON list of messages", o.messages_file);
  }
  if (o.tools_file) {
    input.tools = read_json_argument(*o.tools_file, "--tools");
    if (!input.tools.is_array())
      throw_error(ErrorCode::kInvalidArgument, "--tools {} must hold a JSON list", *o.tools_file);
  }
  input.add_generation_prompt = !o.no_generation_prompt;
  if (o.template_kwargs) {
    try {
      input.kwargs = nlohmann::ordered_json::parse(*o.template_kwargs);
    } catch (const nlohmann::json::exception& e) {
      throw_error(ErrorCode::kInvalidArgument, "--template-kwargs is not valid JSON ({})", e.what());
    }
    if (!input.kwargs.is_object()) throw_error(ErrorCode::kInvalidArgument, "--template-kwargs must be a JSON object");
  }
  fmt::print("{}", t.render(input));
  return 0;
}

}  // namespace arle::cli
