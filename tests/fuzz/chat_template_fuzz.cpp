// Any template text must parse and render, or throw arle::Error: never crash
// or hang (loops are bounded by the data; range() is capped).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    arle::text::ChatTemplate t(std::string(reinterpret_cast<const char*>(data), size), "<s>", "</s>");
    arle::text::ChatTemplateInput input;
    input.messages = nlohmann::ordered_json::parse(
        R"([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
            {"role": "tool", "content": "r"}])");
    input.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
    (void)t.render(input);
  } catch (const arle::Error&) {
  }
  return 0;
}
