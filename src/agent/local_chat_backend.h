#pragma once
// The agent's model turns on the engine in this process: the conversation
// rendered with the model's own chat template (tools included), the output
// streamed through the text module's OutputParser.
//
// Prefix reuse: a turn's prompt is the previous turn's prompt, the tokens the
// model generated (its end token left for the template to write), then the
// new messages' tokens, whenever the new rendering extends that text. So the
// prompt extends the previous one token for token and the prefix cache
// serves all of it, even where re-tokenizing the model's text would have
// split it differently. When the template rewrites history (Qwen3 drops the
// reasoning of earlier user turns), the prompt is tokenized whole and the
// cache serves what still matches.
//
// A model without a chat template (the bundled stories260K) gets plain
// continuation: the messages' texts joined by newlines, no tools; when that
// outgrows the context, the oldest tokens slide out.
//
// A turn generates at most GenerationSettings::max_tokens, by default a
// quarter of the context (at least 256 tokens).

#include <cstdint>
#include <string>
#include <vector>

#include "agent/chat_backend.h"
#include "engine/engine.h"
#include "model/generation_config.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace arle::agent {

struct LocalModel {
  engine::Engine* engine = nullptr;
  const text::Tokenizer* tokenizer = nullptr;
  const text::ChatTemplate* chat_template = nullptr;  // null: plain continuation
  std::vector<std::int32_t> eos_token_ids;
  std::int64_t max_model_len = 0;
  std::int64_t vocab_size = 0;
  std::string cache_namespace;
  std::string name;
  model::GenerationConfig generation;  // sampling defaults
};

class LocalChatBackend : public ChatBackend {
 public:
  explicit LocalChatBackend(LocalModel model);
  std::string model_name() const override { return model_.name; }
  bool supports_tools() const override { return tool_format_ != text::ToolCallFormat::kNone; }
  TurnOutput complete(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                      const GenerationSettings& settings, const TurnSink& sink,
                      const std::atomic<bool>* cancel) override;
  nlohmann::ordered_json stats() const override;

  // The prompt a conversation renders to (tests check prefix stability).
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     const GenerationSettings& settings) const;
  const std::vector<std::int32_t>& last_prompt_ids() const { return last_prompt_ids_; }

 private:
  std::vector<std::int32_t> prompt_ids(const std::string& rendered);
  engine::SamplingParams sampling(const GenerationSettings& settings) const;

  LocalModel model_;
  text::ToolCallFormat tool_format_ = text::ToolCallFormat::kNone;
  bool template_reasons_ = false;
  // The previous turn: its prompt and generated tokens, and their text.
  std::string history_text_;
  std::vector<std::int32_t> history_ids_;
  std::vector<std::int32_t> last_prompt_ids_;
  std::int64_t turns_ = 0, spliced_turns_ = 0;
};

}  // namespace arle::agent
