#include "text/chat_template.h"

#include "common/error.h"
#include "common/json_file.h"
#include "text/jinja/builtins.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/parser.h"
#include "text/spec_fields.h"

namespace arle::text {
using nlohmann::json;

ChatTemplate ChatTemplate::load(const std::filesystem::path& dir) {
  std::error_code ec;
  json config = std::filesystem::exists(dir / "tokenizer_config.json", ec) ? read_json_file(dir / "tokenizer_config.json")
                                                                             : json::object();
  if (!config.is_object()) config = json::object();
  std::string source;
  if (std::filesystem::exists(dir / "chat_template.jinja", ec)) {
    source = read_text_file(dir / "chat_template.jinja");
  } else if (auto it = config.find("chat_template"); it != config.end() && it->is_string()) {
    source = it->get<std::string>();
  } else if (it != config.end() && it->is_array()) {
    // A list of named templates: "default" is the chat template.
    for (const json& t : *it) {
      if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string()) {
        source = t["template"].get<std::string>();
      }
    }
  }
  if (source.empty()) {
    throw_error(ErrorCode::kNotFound, "{} has no chat template (chat_template.jinja or tokenizer_config.json's chat_template)",
                dir.string());
  }
  return ChatTemplate(std::move(source), config_token(config, "bos_token").value_or(""),
                      config_token(config, "eos_token").value_or(""));
}

ChatTemplate::ChatTemplate(std::string source, std::string bos_token, std::string eos_token)
    : source_(std::move(source)),
      bos_token_(std::move(bos_token)),
      eos_token_(std::move(eos_token)),
      parsed_(std::make_unique<jinja::Template>(jinja::parse_template(source_))),
      clock_([] { return std::time(nullptr); }) {}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const ChatTemplateInput& input) const {
  using jinja::Value;
  jinja::Context context;
  for (const auto& [key, value] : input.kwargs.items()) context[key] = Value::from_json(value);
  context["messages"] = Value::from_json(input.messages);
  context["tools"] = input.tools.is_null() ? Value(jinja::None{}) : Value::from_json(input.tools);
  context["add_generation_prompt"] = Value(input.add_generation_prompt);
  // Like transformers, only special tokens the tokenizer has are defined.
  if (!bos_token_.empty()) context["bos_token"] = Value(bos_token_);
  if (!eos_token_.empty()) context["eos_token"] = Value(eos_token_);
  auto clock = clock_;
  context["strftime_now"] = Value(jinja::Function([clock](jinja::Args& args) {
    std::time_t now = clock();
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[256];
    std::string format = args.get(0, "format").str();
    std::size_t n = std::strftime(buf, sizeof(buf), format.c_str(), &tm);
    return Value(std::string(buf, n));
  }));
  return jinja::render(*parsed_, context);
}

}  // namespace arle::text
