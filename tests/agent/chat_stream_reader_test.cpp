// The --base-url backend's reading of chat.completion.chunk events: content,
// reasoning (both field names), tool calls assembled from argument pieces,
// usage with cached tokens, and the same result in any chunking.
#include <gtest/gtest.h>

#include "agent/remote_chat_backend.h"

namespace arle::agent {
namespace {

const char* kStream =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Think \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"more.\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hé\"}}]}\n\n"
    ": a comment line\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\","
    "\"function\":{\"name\":\"shell\",\"arguments\":\"{\\\"command\\\": \"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\"\\\"ls\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"c2\",\"function\":"
    "{\"name\":\"python\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":9,"
    "\"prompt_tokens_details\":{\"cached_tokens\":16}}}\n\n"
    "data: [DONE]\n\n";

TurnOutput read(const std::string& stream, std::size_t piece, std::string* streamed = nullptr) {
  TurnOutput out;
  TurnSink sink;
  sink.content = [&](std::string_view t) {
    if (streamed) *streamed += t;
  };
  ChatStreamReader reader(out, sink);
  for (std::size_t i = 0; i < stream.size(); i += piece) reader.feed(std::string_view(stream).substr(i, piece));
  reader.finish();
  return out;
}

TEST(ChatStreamReaderTest, AssemblesAStreamedTurn) {
  std::string streamed;
  const TurnOutput out = read(kStream, 1 << 20, &streamed);
  EXPECT_EQ(out.reasoning, "Think more.");
  EXPECT_EQ(out.content, "Hé");
  EXPECT_EQ(streamed, "Hé");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  EXPECT_EQ(out.tool_calls[0].name, "shell");
  EXPECT_EQ(out.tool_calls[0].arguments, R"({"command": "ls"})");
  EXPECT_EQ(out.tool_calls[1].name, "python");
  EXPECT_EQ(out.tool_calls[1].arguments, "{}");
  EXPECT_EQ(out.finish_reason, "tool_calls");
  EXPECT_EQ(out.usage.prompt_tokens, 30);
  EXPECT_EQ(out.usage.completion_tokens, 9);
  EXPECT_EQ(out.usage.cached_tokens, 16);
}

TEST(ChatStreamReaderTest, AnyChunkingGivesTheSameTurn) {
  const TurnOutput whole = read(kStream, 1 << 20);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    const TurnOutput out = read(kStream, piece);
    EXPECT_EQ(out.content, whole.content) << piece;
    EXPECT_EQ(out.reasoning, whole.reasoning) << piece;
    ASSERT_EQ(out.tool_calls.size(), whole.tool_calls.size()) << piece;
    EXPECT_EQ(out.tool_calls[0].arguments, whole.tool_calls[0].arguments) << piece;
    EXPECT_EQ(out.usage.cached_tokens, whole.usage.cached_tokens) << piece;
  }
}

TEST(ChatStreamReaderTest, ErrorsAndGarbageDoNotThrow) {
  const TurnOutput error =
      read("data: {\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\"}}\n\n", 5);
  EXPECT_EQ(error.finish_reason, "error");
  EXPECT_EQ(error.error, "too long");
  const TurnOutput garbage = read(
      "data: {not json\n\ndata: {\"choices\":7}\n\ndata: {\"choices\":[{\"delta\":"
      "{\"tool_calls\":[{\"index\":99999999,\"function\":{\"name\":\"x\"}}]}}]}\n\n",
      3);
  EXPECT_TRUE(garbage.tool_calls.empty());
  EXPECT_TRUE(garbage.content.empty());
}

}  // namespace
}  // namespace arle::agent
