// Reasoning and tool-call parsing: golden cases, each fed whole, split in two
// at every byte, and one byte at a time, must give the same result.
#include "text/output_parser.h"

#include <gtest/gtest.h>

#include "common/json_file.h"

namespace arle::text {
namespace {

using nlohmann::json;

struct Golden {
  const char* name;
  OutputParserOptions options;
  std::string text;
  std::string reasoning;
  std::string content;
  std::vector<std::pair<std::string, json>> calls;  // name, arguments
  std::size_t errors = 0;
};

void PrintTo(const Golden& g, std::ostream* os) { *os << g.name; }

ParsedOutput run(const OutputParserOptions& options, const std::vector<std::string_view>& chunks) {
  OutputParser parser(options);
  ParsedOutput out;
  for (auto c : chunks) out.append(parser.feed(c));
  out.append(parser.finish());
  return out;
}

void expect_matches(const Golden& g, const ParsedOutput& out, const std::string& how) {
  EXPECT_EQ(out.reasoning, g.reasoning) << g.name << " " << how;
  EXPECT_EQ(out.content, g.content) << g.name << " " << how;
  ASSERT_EQ(out.tool_calls.size(), g.calls.size()) << g.name << " " << how;
  for (std::size_t i = 0; i < g.calls.size(); ++i) {
    EXPECT_EQ(out.tool_calls[i].name, g.calls[i].first) << g.name << " " << how;
    EXPECT_EQ(json::parse(out.tool_calls[i].arguments), g.calls[i].second) << g.name << " " << how;
  }
  EXPECT_EQ(out.errors.size(), g.errors) << g.name << " " << how;
}

OutputParserOptions opts(bool reasoning, bool starts_in, ToolCallFormat format, json tools = json::array()) {
  OutputParserOptions o;
  o.reasoning = reasoning;
  o.starts_in_reasoning = starts_in;
  o.tool_format = format;
  o.tools = std::move(tools);
  return o;
}

const json kWeatherTools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
  "metric": {"type": "boolean"}, "hours": {"type": "array"}, "zip": {"type": "string"}}}}}])");

std::vector<Golden> goldens() {
  return {
      {"plain", opts(true, false, ToolCallFormat::kHermesJson), "Hello there.", "", "Hello there.", {}},
      {"qwen3_thinking", opts(true, false, ToolCallFormat::kNone),
       "<think>\nThe user greets.\n\nI reply.\n</think>\n\nHi! How can I help?", "The user greets.\n\nI reply.",
       "Hi! How can I help?", {}},
      {"template_opened_think", opts(true, true, ToolCallFormat::kNone), "Let me think.\n</think>\n\nAnswer: 4",
       "Let me think.", "Answer: 4", {}},
      {"empty_think", opts(true, false, ToolCallFormat::kNone), "<think>\n\n</think>\n\nDone.", "", "Done.", {}},
      {"unclosed_think", opts(true, false, ToolCallFormat::kNone), "<think>still going\n", "still going\n", "", {}},
      {"lookalike_tags", opts(true, false, ToolCallFormat::kHermesJson), "a <thin b <tool x < c", "",
       "a <thin b <tool x < c", {}},
      {"hermes_one", opts(true, false, ToolCallFormat::kHermesJson),
       "<think>\nNeed weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
       "Need weather.", "", {{"get_weather", {{"city", "Paris"}}}}},
      {"hermes_two_with_text", opts(false, false, ToolCallFormat::kHermesJson),
       "Checking both.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", "
       "\"arguments\": {}}\n</tool_call>",
       "", "Checking both.\n", {{"a", {{"x", 1}}}, {"b", json::object()}}},
      {"hermes_string_arguments", opts(false, false, ToolCallFormat::kHermesJson),
       "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"k\\\": [1, 2]}\"}</tool_call>", "", "",
       {{"f", {{"k", {1, 2}}}}}},
      {"hermes_malformed", opts(false, false, ToolCallFormat::kHermesJson),
       "<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call>", "", "<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call>",
       {}, 1},
      {"hermes_unclosed", opts(false, false, ToolCallFormat::kHermesJson), "ok <tool_call>{\"name\": \"f\"", "",
       "ok <tool_call>{\"name\": \"f\"", {}, 1},
      {"xml_typed", opts(true, true, ToolCallFormat::kXml, kWeatherTools),
       "Weather please.\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nNew York\n</parameter>\n"
       "<parameter=days>\n3\n</parameter>\n<parameter=metric>\ntrue\n</parameter>\n<parameter=hours>\n[9, 12]\n</parameter>\n"
       "<parameter=zip>\n10001\n</parameter>\n</function>\n</tool_call>",
       "Weather please.", "",
       {{"get_weather", {{"city", "New York"}, {"days", 3}, {"metric", true}, {"hours", {9, 12}}, {"zip", "10001"}}}}},
      {"xml_multiline_value_and_two_calls", opts(false, false, ToolCallFormat::kXml),
       "<tool_call>\n<function=write>\n<parameter=text>\nline 1\nline 2\n</parameter>\n</function>\n</tool_call>\n"
       "<tool_call>\n<function=ls>\n</function>\n</tool_call>",
       "", "", {{"write", {{"text", "line 1\nline 2"}}}, {"ls", json::object()}}},
      {"xml_malformed", opts(false, false, ToolCallFormat::kXml), "<tool_call>\n<function=f>\n<parameter=a>\n1\n</tool_call>",
       "", "<tool_call>\n<function=f>\n<parameter=a>\n1\n</tool_call>", {}, 1},
  };
}

class OutputParserGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(OutputParserGolden, SameResultForEveryChunking) {
  const Golden& g = GetParam();
  expect_matches(g, run(g.options, {g.text}), "whole");
  for (std::size_t cut = 0; cut <= g.text.size(); ++cut) {
    std::string_view t(g.text);
    expect_matches(g, run(g.options, {t.substr(0, cut), t.substr(cut)}), "split at " + std::to_string(cut));
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < g.text.size(); ++i) bytes.push_back(std::string_view(g.text).substr(i, 1));
  expect_matches(g, run(g.options, bytes), "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(Cases, OutputParserGolden, ::testing::ValuesIn(goldens()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OutputParserStreaming, ContentIsNotHeldLongerThanATagPrefix) {
  OutputParser p(opts(true, false, ToolCallFormat::kHermesJson));
  EXPECT_EQ(p.feed("Hello wor").content, "Hello wor");
  EXPECT_EQ(p.feed("ld <").content, "ld ");      // "<" might start a tag
  EXPECT_EQ(p.feed("b>").content, "<b>");        // it did not
  EXPECT_EQ(p.feed("<tool_c").content, "");
  ParsedOutput rest = p.feed("all>{\"name\": \"x\", \"arguments\": {}}</tool_call> after");
  ASSERT_EQ(rest.tool_calls.size(), 1u);
  EXPECT_EQ(rest.content, " after");
}

// The form comes from the model's own template: Qwen3.5 teaches XML, Qwen3 and
// Qwen2.5 teach Hermes JSON, Llama 3.1 neither.
TEST(OutputParserSetup, FormAndReasoningComeFromTheTemplate) {
  auto read = [](const char* name) { return read_text_file(std::string(ARLE_TEST_FIXTURES) + "/chat_templates/" + name); };
  EXPECT_EQ(detect_tool_call_format(read("Qwen--Qwen3.5-4B.jinja")), ToolCallFormat::kXml);
  EXPECT_EQ(detect_tool_call_format(read("Qwen--Qwen3-0.6B.jinja")), ToolCallFormat::kHermesJson);
  EXPECT_EQ(detect_tool_call_format(read("Qwen--Qwen2.5-7B-Instruct.jinja")), ToolCallFormat::kHermesJson);
  EXPECT_EQ(detect_tool_call_format(read("meta-llama--Llama-3.1-8B-Instruct.jinja")), ToolCallFormat::kNone);
  EXPECT_TRUE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
}

}  // namespace
}  // namespace arle::text
