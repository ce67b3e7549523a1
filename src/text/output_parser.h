#pragma once
// Streaming parser for model output: splits <think>...</think> into
// reasoning_content, and turns <tool_call>...</tool_call> blocks into OpenAI
// tool calls, in both forms Qwen models emit:
//   Hermes JSON (Qwen2.5, Qwen3): <tool_call>{"name": ..., "arguments": {...}}</tool_call>
//   XML (Qwen3.5, Qwen3-Coder):   <tool_call><function=NAME><parameter=KEY>VALUE</parameter></function></tool_call>
// Feeding text in any chunking gives the same result as feeding it whole:
// text that could still be the start of a tag is held back until it is not.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace arle::text {

enum class ToolCallFormat { kNone, kHermesJson, kXml };

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, serialized (OpenAI's "arguments")
};

struct ParsedOutput {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> tool_calls;
  std::vector<std::string> errors;  // malformed tool calls (their text also stays in content)
  void append(const ParsedOutput& other);
};

struct OutputParserOptions {
  bool reasoning = false;            // parse <think> blocks
  bool starts_in_reasoning = false;  // the prompt already opened <think>
  ToolCallFormat tool_format = ToolCallFormat::kNone;
  nlohmann::json tools = nlohmann::json::array();  // OpenAI tools, to type XML parameter values
};

// The tool-call form a chat template teaches its model: XML when it shows
// "<function=", Hermes JSON when it shows "<tool_call>", else none.
ToolCallFormat detect_tool_call_format(const std::string& template_source);
// Whether a chat template teaches its model <think> blocks (its output may
// then start with reasoning to split off).
bool template_teaches_reasoning(const std::string& template_source);
// True when a rendered prompt leaves a <think> block open for the model
// (Qwen3.5, QwQ): its output then starts inside the reasoning.
bool prompt_opens_reasoning(const std::string& rendered_prompt);

class OutputParser {
 public:
  explicit OutputParser(OutputParserOptions options);
  ParsedOutput feed(std::string_view text);
  ParsedOutput finish();  // flushes held-back text; an unclosed tool call is reported

 private:
  enum class State { kContent, kReasoning, kToolCall };
  void drain(ParsedOutput& out, bool final);
  void emit(ParsedOutput& out, std::string_view text);
  void close_tool_call(ParsedOutput& out, const std::string& body, bool closed);

  OutputParserOptions options_;
  State state_;
  std::string buffer_;          // text not yet classified
  std::string call_body_;       // inside <tool_call>
  bool at_block_start_ = true;  // newlines right after a tag are dropped
};

}  // namespace arle::text
