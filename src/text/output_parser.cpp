#include "text/output_parser.h"

#include <fmt/format.h>

namespace arle::text {
namespace {

using nlohmann::json;

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kCallOpen = "<tool_call>";
constexpr std::string_view kCallClose = "</tool_call>";

// Length of the longest suffix of `text` that is a proper prefix of `tag`.
std::size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  for (std::size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

std::string_view trim_newlines(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const json* find_parameter_schema(const json& tools, const std::string& function, const std::string& key) {
  for (const json& tool : tools) {
    const json& f = tool.contains("function") ? tool["function"] : tool;
    if (!f.is_object() || f.value("name", "") != function) continue;
    auto params = f.find("parameters");
    if (params == f.end() || !params->is_object()) return nullptr;
    auto props = params->find("properties");
    if (props == params->end() || !props->is_object() || !props->contains(key)) return nullptr;
    return &(*props)[key];
  }
  return nullptr;
}

// XML parameter values are text; the tool's JSON schema says what they mean.
json typed_value(const std::string& value, const json* schema) {
  std::string type =
      schema && schema->is_object() && (*schema)["type"].is_string() ? (*schema)["type"].get<std::string>() : "";
  if (type.empty() || type == "string") return value;
  json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return value;
  if (type == "integer" && !parsed.is_number_integer()) return value;
  if (type == "number" && !parsed.is_number()) return value;
  if (type == "boolean" && !parsed.is_boolean()) return value;
  if (type == "object" && !parsed.is_object()) return value;
  if (type == "array" && !parsed.is_array()) return value;
  return parsed;
}

bool parse_hermes(std::string_view body, ToolCall& call, std::string& error) {
  json j = json::parse(trim_newlines(body), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "tool call is not a JSON object";
    return false;
  }
  if (!j.contains("name") || !j["name"].is_string()) {
    error = "tool call has no \"name\" string";
    return false;
  }
  call.name = j["name"].get<std::string>();
  json args = j.contains("arguments") ? j["arguments"] : json::object();
  if (args.is_string()) {  // some models emit the arguments already serialized
    json inner = json::parse(args.get<std::string>(), nullptr, false);
    if (!inner.is_discarded()) args = inner;
  }
  if (!args.is_object()) {
    error = "tool call \"arguments\" is not an object";
    return false;
  }
  call.arguments = args.dump();
  return true;
}

bool parse_xml(std::string_view body, const json& tools, ToolCall& call, std::string& error) {
  std::string_view s = trim_newlines(body);
  constexpr std::string_view kFunction = "<function=";
  if (s.substr(0, kFunction.size()) != kFunction) {
    error = "tool call does not start with <function=NAME>";
    return false;
  }
  std::size_t name_end = s.find('>');
  std::size_t function_end = s.rfind("</function>");
  if (name_end == std::string_view::npos || function_end == std::string_view::npos || function_end < name_end) {
    error = "tool call has no </function>";
    return false;
  }
  call.name = std::string(s.substr(kFunction.size(), name_end - kFunction.size()));
  json args = json::object();
  std::string_view rest = s.substr(name_end + 1, function_end - name_end - 1);
  constexpr std::string_view kParam = "<parameter=";
  constexpr std::string_view kParamClose = "</parameter>";
  while (true) {
    std::size_t open = rest.find(kParam);
    if (open == std::string_view::npos) break;
    std::size_t key_end = rest.find('>', open);
    std::size_t close = key_end == std::string_view::npos ? key_end : rest.find(kParamClose, key_end);
    if (key_end == std::string_view::npos || close == std::string_view::npos) {
      error = fmt::format("parameter of {} is not closed", call.name);
      return false;
    }
    std::string key(rest.substr(open + kParam.size(), key_end - open - kParam.size()));
    std::string value(trim_newlines(rest.substr(key_end + 1, close - key_end - 1)));
    args[key] = typed_value(value, find_parameter_schema(tools, call.name, key));
    rest = rest.substr(close + kParamClose.size());
  }
  call.arguments = args.dump();
  return true;
}

}  // namespace

bool template_teaches_reasoning(const std::string& template_source) {
  return template_source.find(kThinkOpen) != std::string::npos;
}

ToolCallFormat detect_tool_call_format(const std::string& template_source) {
  if (template_source.find("<function=") != std::string::npos) return ToolCallFormat::kXml;
  if (template_source.find(kCallOpen) != std::string::npos) return ToolCallFormat::kHermesJson;
  return ToolCallFormat::kNone;
}

bool prompt_opens_reasoning(const std::string& rendered_prompt) {
  std::size_t open = rendered_prompt.rfind(kThinkOpen);
  return open != std::string::npos && rendered_prompt.find(kThinkClose, open) == std::string::npos;
}

void ParsedOutput::append(const ParsedOutput& o) {
  reasoning += o.reasoning;
  content += o.content;
  tool_calls.insert(tool_calls.end(), o.tool_calls.begin(), o.tool_calls.end());
  errors.insert(errors.end(), o.errors.begin(), o.errors.end());
}

OutputParser::OutputParser(OutputParserOptions options)
    : options_(std::move(options)),
      state_(options_.reasoning && options_.starts_in_reasoning ? State::kReasoning : State::kContent) {}

ParsedOutput OutputParser::feed(std::string_view text) {
  buffer_ += text;
  ParsedOutput out;
  drain(out, false);
  return out;
}

ParsedOutput OutputParser::finish() {
  ParsedOutput out;
  drain(out, true);
  if (state_ == State::kToolCall) close_tool_call(out, call_body_ + buffer_, false);
  buffer_.clear();
  return out;
}

void OutputParser::emit(ParsedOutput& out, std::string_view text) {
  if (at_block_start_) {  // the newlines a template puts after a tag are not content
    while (!text.empty() && text.front() == '\n') text.remove_prefix(1);
    if (text.empty()) return;
    at_block_start_ = false;
  }
  (state_ == State::kReasoning ? out.reasoning : out.content) += text;
}

void OutputParser::close_tool_call(ParsedOutput& out, const std::string& body, bool closed) {
  ToolCall call;
  std::string error;
  bool ok =
      closed && (options_.tool_format == ToolCallFormat::kHermesJson ? parse_hermes(body, call, error)
                                                                     : parse_xml(body, options_.tools, call, error));
  if (!closed) error = "tool call is not closed with </tool_call>";
  if (ok) {
    out.tool_calls.push_back(std::move(call));
  } else {
    out.errors.push_back(error);
    out.content += std::string(kCallOpen) + body + (closed ? std::string(kCallClose) : "");
  }
  call_body_.clear();
  state_ = State::kContent;
  at_block_start_ = true;
}

void OutputParser::drain(ParsedOutput& out, bool final) {
  while (!buffer_.empty()) {
    std::vector<std::string_view> tags;
    if (state_ == State::kContent) {
      if (options_.reasoning) tags.push_back(kThinkOpen);
      if (options_.tool_format != ToolCallFormat::kNone) tags.push_back(kCallOpen);
    } else if (state_ == State::kReasoning) {
      tags.push_back(kThinkClose);
    } else {
      tags.push_back(kCallClose);
    }
    std::size_t best = std::string::npos;
    std::string_view found;
    for (auto tag : tags) {
      std::size_t pos = buffer_.find(tag);
      if (pos < best) best = pos, found = tag;
    }
    if (best == std::string::npos) {
      std::size_t hold = 0;
      if (!final) {
        for (auto tag : tags) hold = std::max(hold, partial_tag_suffix(buffer_, tag));
        // Trailing newlines of reasoning wait to see whether </think> follows.
        if (state_ == State::kReasoning) {
          std::size_t n = buffer_.size() - hold;
          while (n > 0 && buffer_[n - 1] == '\n') --n;
          hold = buffer_.size() - n;
        }
      }
      std::string_view ready(buffer_.data(), buffer_.size() - hold);
      if (state_ == State::kToolCall) {
        call_body_ += ready;
      } else {
        emit(out, ready);
      }
      buffer_.erase(0, ready.size());
      return;
    }
    std::string_view before(buffer_.data(), best);
    if (state_ == State::kToolCall) {
      call_body_ += before;
      std::string body = std::move(call_body_);
      buffer_.erase(0, best + found.size());
      close_tool_call(out, body, true);
      continue;
    }
    if (state_ == State::kReasoning) {
      while (!before.empty() && before.back() == '\n') before.remove_suffix(1);
    }
    emit(out, before);
    buffer_.erase(0, best + found.size());
    state_ = found == kThinkOpen ? State::kReasoning : found == kThinkClose ? State::kContent : State::kToolCall;
    at_block_start_ = true;
  }
}

}  // namespace arle::text
