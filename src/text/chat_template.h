#pragma once
// Chat templates: the Jinja template a model ships (tokenizer_config.json's
// "chat_template", a string or a list of named templates, or a
// chat_template.jinja file beside it) rendered as transformers'
// apply_chat_template does.

#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "text/jinja/ast.h"

namespace arle::text {

// ordered_json: templates see keys in the order the client sent them, as
// Python dicts would (tojson of a tool schema depends on it).
struct ChatTemplateInput {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null: no tools
  bool add_generation_prompt = true;
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();  // e.g. {"enable_thinking": false}
};

class ChatTemplate {
 public:
  // From DIR/chat_template.jinja, else tokenizer_config.json's chat_template.
  // Throws arle::Error(kNotFound) when the folder has no template.
  static ChatTemplate load(const std::filesystem::path& dir);
  // `source` is the template text; bos/eos are the special-token strings.
  ChatTemplate(std::string source, std::string bos_token, std::string eos_token);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;

  // Throws arle::Error with line and column on template errors, including
  // raise_exception() calls from the template itself.
  std::string render(const ChatTemplateInput& input) const;

  const std::string& source() const { return source_; }
  // Fixes the clock strftime_now() sees (tests pin the date).
  void set_clock(std::function<std::time_t()> clock) { clock_ = std::move(clock); }

 private:
  std::string source_;
  std::string bos_token_, eos_token_;
  std::unique_ptr<jinja::Template> parsed_;
  std::function<std::time_t()> clock_;
};

}  // namespace arle::text
