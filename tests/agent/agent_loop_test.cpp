// The tool loop end to end on the qwen3-tiny fixture (real Qwen3 tokenizer
// and chat template, real engine with its prefix cache) with the model's
// replies forced token by token (reply_queue_model.h): one call, two calls
// in one message, a malformed call, a tool that times out, a tool that
// prints 10 MB, the turn limit, declined calls, cancelling, and prompts that
// extend the previous turn token for token so the prefix cache serves them.
#include <gtest/gtest.h>

#include <thread>

#include "agent/agent.h"
#include "agent/local_chat_backend.h"
#include "common/error.h"
#include "engine/eos_tokens.h"
#include "model/causal_lm.h"
#include "model/model_config.h"
#include "reply_queue_model.h"
#include "scratch_dir.h"

namespace arle::agent {
namespace {

using Json = nlohmann::ordered_json;

std::string call(const std::string& name, const Json& arguments) {
  return "<tool_call>\n" + Json{{"name", name}, {"arguments", arguments}}.dump(-1, ' ', false) + "\n</tool_call>";
}
// Qwen3's own spacing: {"name": "shell", "arguments": {"command": "ls"}}.
std::string qwen_call(const std::string& name, const Json& arguments) {
  std::string args = "{";
  bool first = true;
  for (const auto& [k, v] : arguments.items()) {
    args += (first ? "" : ", ") + Json(k).dump() + ": " + v.dump();
    first = false;
  }
  return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": " + args + "}}\n</tool_call>";
}
std::string think(const std::string& reasoning) { return "<think>\n" + reasoning + "\n</think>\n\n"; }

class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = std::string(ARLE_TEST_FIXTURES) + "/models/qwen3-tiny";
    tokenizer_ = text::Tokenizer::load(dir);
    template_ = std::make_unique<text::ChatTemplate>(text::ChatTemplate::load(dir));
    const model::ModelConfig config = model::load_model_config(dir);
    auto model = std::make_unique<testing::ReplyQueueModel>(model::load_causal_lm(dir), *tokenizer_,
                                                            *tokenizer_->token_to_id("<|im_end|>"));
    model_ = model.get();
    inner_ = std::move(model);
    engine::EngineConfig engine_config;
    engine_config.kv_pages = 512;
    engine_ = std::make_unique<engine::Engine>(*inner_, *tokenizer_, engine_config);
    LocalModel local;
    local.engine = engine_.get();
    local.tokenizer = tokenizer_.get();
    local.chat_template = template_.get();
    local.eos_token_ids = engine::model_eos_token_ids(config, model::load_generation_config(dir), *tokenizer_);
    local.max_model_len = 4096;
    local.vocab_size = config.vocab_size;
    local.name = "qwen3-tiny";
    local.generation = model::load_generation_config(dir);
    backend_ = std::make_unique<LocalChatBackend>(local);
    SandboxConfig sandbox;
    sandbox.workdir = scratch_.path();
    sandbox.isolation = Isolation::kNone;
    sandbox.limits.timeout_seconds = 5;
    sandbox.limits.output_bytes = 4096;
    toolbox_ = std::make_unique<Toolbox>(sandbox);
  }
  void TearDown() override {
    EXPECT_EQ(model_->pending(), 0u) << "replies the test queued but the agent never asked for";
  }

  Agent make_agent(AgentConfig config = {}) {
    config.generation.max_tokens = 512;
    return Agent(*backend_, toolbox_.get(), config);
  }

  ScratchDir scratch_{"agent_loop_test"};
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<text::ChatTemplate> template_;
  testing::ReplyQueueModel* model_ = nullptr;
  std::unique_ptr<model::CausalLm> inner_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<LocalChatBackend> backend_;
  std::unique_ptr<Toolbox> toolbox_;
};

TEST_F(AgentLoopTest, OneToolCallThenTheAnswer) {
  model_->push(think("I should run it.") + qwen_call("shell", {{"command", "echo hello-from-shell"}}));
  model_->push(think("It printed.") + "The shell said hello-from-shell.");
  Agent agent = make_agent();
  std::string streamed;
  AgentEvents events;
  events.stream.content = [&](std::string_view t) { streamed += t; };
  const TaskResult r = agent.send("Run echo.", events);
  EXPECT_EQ(r.stop_reason, "answer") << r.error;
  EXPECT_EQ(r.final_text, "The shell said hello-from-shell.");
  EXPECT_EQ(streamed, "The shell said hello-from-shell.");
  ASSERT_EQ(r.turns.size(), 2u);
  EXPECT_EQ(r.turns[0].output.reasoning, "I should run it.");
  EXPECT_EQ(r.turns[0].output.finish_reason, "tool_calls");
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(r.tool_calls[0].name, "shell");
  EXPECT_TRUE(r.tool_calls[0].result.ok);
  EXPECT_EQ(r.tool_calls[0].result.content, "hello-from-shell\n");
  const Json& m = agent.messages();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1]["tool_calls"][0]["function"]["arguments"], R"({"command":"echo hello-from-shell"})");
  EXPECT_EQ(m[2]["role"], "tool");
  EXPECT_EQ(m[2]["tool_call_id"], m[1]["tool_calls"][0]["id"]);
  EXPECT_EQ(m[2]["content"], "hello-from-shell\n");
  EXPECT_EQ(m[3]["content"], "The shell said hello-from-shell.");
  // The second prompt continued the first and its reply: the cache served it.
  EXPECT_EQ(backend_->stats()["turns_extending_the_previous_prompt"], 1);
  EXPECT_GE(r.turns[1].output.usage.cached_tokens,
            r.turns[0].output.usage.prompt_tokens + r.turns[0].output.usage.completion_tokens - 16);
  const Json json = r.to_json();
  EXPECT_EQ(json["final"], r.final_text);
  EXPECT_EQ(json["tool_calls"][0]["output"], "hello-from-shell\n");
  EXPECT_EQ(json["usage"]["prompt_tokens"],
            r.turns[0].output.usage.prompt_tokens + r.turns[1].output.usage.prompt_tokens);
}

TEST_F(AgentLoopTest, TwoCallsInOneMessageRunInOrder) {
  model_->push(think("Both.") + qwen_call("python", {{"code", "x = 20 + 1\nx * 2"}}) + "\n" +
               qwen_call("shell", {{"command", "echo second"}}));
  model_->push(think("Now the state.") + qwen_call("python", {{"code", "x"}}));
  model_->push(think("Done.") + "42, second and 21.");
  Agent agent = make_agent();
  const TaskResult r = agent.send("Do two things.");
  EXPECT_EQ(r.stop_reason, "answer") << r.error;
  ASSERT_EQ(r.tool_calls.size(), 3u);
  EXPECT_EQ(r.tool_calls[0].result.content, "42\n");
  EXPECT_EQ(r.tool_calls[1].result.content, "second\n");
  EXPECT_EQ(r.tool_calls[2].result.content, "21\n");  // the python session kept x
  const Json& m = agent.messages();
  ASSERT_EQ(m.size(), 7u);  // user, assistant(2 calls), tool, tool, assistant(1 call), tool, assistant
  EXPECT_EQ(m[1]["tool_calls"].size(), 2u);
  EXPECT_EQ(m[3]["tool_call_id"], m[1]["tool_calls"][1]["id"]);
  EXPECT_EQ(backend_->stats()["turns_extending_the_previous_prompt"], 2);
}

TEST_F(AgentLoopTest, AMalformedCallIsExplainedAndRetried) {
  model_->push(think("Try.") + "<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"\n</tool_call>");
  model_->push(think("Again.") + qwen_call("shell", {{"command", "echo fixed"}}));
  model_->push(think("Good.") + "Fixed.");
  Agent agent = make_agent();
  const TaskResult r = agent.send("List.");
  EXPECT_EQ(r.stop_reason, "answer") << r.error;
  ASSERT_EQ(r.turns.size(), 3u);
  EXPECT_FALSE(r.turns[0].output.parse_errors.empty());
  EXPECT_TRUE(r.turns[0].output.tool_calls.empty());
  const Json& m = agent.messages();
  EXPECT_EQ(m[2]["role"], "user");
  EXPECT_NE(m[2]["content"].get<std::string>().find("could not be read"), std::string::npos);
  ASSERT_EQ(r.tool_calls.size(), 1u);
  EXPECT_EQ(r.tool_calls[0].result.content, "fixed\n");
}

TEST_F(AgentLoopTest, ATimeoutAndTenMegabytesComeBackAsResults) {
  model_->push(think("Slow.") + qwen_call("shell", {{"command", "echo before; sleep 30"}}));
  model_->push(think("Loud.") + qwen_call("python", {{"code", "print('HEAD' + 'y' * 10_000_000 + 'TAIL')"}}));
  model_->push(think("Fine.") + "Survived both.");
  Agent agent = make_agent();
  const TaskResult r = agent.send("Stress the tools.");
  EXPECT_EQ(r.stop_reason, "answer") << r.error;
  ASSERT_EQ(r.tool_calls.size(), 2u);
  const ToolResult& slow = r.tool_calls[0].result;
  EXPECT_FALSE(slow.ok);
  EXPECT_LT(slow.seconds, 8.0);
  EXPECT_NE(slow.content.find("before\n"), std::string::npos);
  EXPECT_NE(slow.content.find("timeout]"), std::string::npos) << slow.content;
  const ToolResult& loud = r.tool_calls[1].result;
  EXPECT_TRUE(loud.ok);
  EXPECT_EQ(loud.output_bytes, 10'000'009);
  EXPECT_LT(loud.content.size(), 4096u + 64u);
  EXPECT_EQ(loud.content.substr(0, 4), "HEAD");
  EXPECT_NE(loud.content.find("TAIL"), std::string::npos);
  EXPECT_NE(loud.content.find("bytes of output cut"), std::string::npos);
  // The cut output is what the model read back.
  EXPECT_EQ(agent.messages()[4]["content"], loud.content);
  EXPECT_EQ(r.final_text, "Survived both.");
}

TEST_F(AgentLoopTest, TheTurnLimitStopsALoopingModel) {
  for (int i = 0; i < 2; ++i) model_->push(think("Again.") + qwen_call("shell", {{"command", "echo again"}}));
  AgentConfig config;
  config.max_turns = 2;
  Agent agent = make_agent(config);
  const TaskResult r = agent.send("Loop.");
  EXPECT_EQ(r.stop_reason, "max_turns");
  EXPECT_EQ(r.turns.size(), 2u);
  EXPECT_EQ(r.tool_calls.size(), 2u);
}

TEST_F(AgentLoopTest, DeclinedCallsAreReportedToTheModel) {
  model_->push(think("Delete.") + qwen_call("shell", {{"command", "touch made-anyway"}}));
  model_->push(think("Declined.") + "I was not allowed.");
  AgentConfig config;
  config.approval = Approval::kAsk;
  Agent agent = make_agent(config);
  AgentEvents events;
  int asked = 0;
  events.approve = [&](const ToolCallRecord& c) {
    ++asked;
    EXPECT_EQ(c.name, "shell");
    return false;
  };
  const TaskResult r = agent.send("Make a file.", events);
  EXPECT_EQ(asked, 1);
  EXPECT_FALSE(r.tool_calls[0].approved);
  EXPECT_EQ(agent.messages()[2]["content"], "not run: the user declined this tool call");
  EXPECT_FALSE(std::filesystem::exists(scratch_.path() / "made-anyway"));
  EXPECT_EQ(r.final_text, "I was not allowed.");
}

TEST_F(AgentLoopTest, CancellingAToolStopsTheTask) {
  model_->push(think("Wait.") + qwen_call("shell", {{"command", "sleep 30"}}) + "\n" +
               qwen_call("shell", {{"command", "touch never-run"}}));
  Agent agent = make_agent();
  std::atomic<bool> cancel{false};
  AgentEvents events;
  events.tool_start = [&](const ToolCallRecord&) {
    std::thread([&cancel] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      cancel = true;
    }).detach();
  };
  const TaskResult r = agent.send("Sleep.", events, &cancel);
  EXPECT_EQ(r.stop_reason, "cancelled");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].result.status, "stopped by the user");
  EXPECT_EQ(r.tool_calls[1].result.status, "not run (stopped)");
  EXPECT_FALSE(std::filesystem::exists(scratch_.path() / "never-run"));
  // Every call has its result, so the conversation can go on.
  EXPECT_EQ(agent.messages().back()["role"], "tool");
}

TEST_F(AgentLoopTest, EveryPromptExtendsThePreviousOneTokenForToken) {
  model_->push(think("Look.") + qwen_call("shell", {{"command", "echo one"}}));
  model_->push(think("More.") + qwen_call("python", {{"code", "print('two')"}}));
  model_->push(think("Enough.") + "one, two.");
  model_->push(think("Again.") + qwen_call("shell", {{"command", "echo three"}}));
  model_->push(think("Ok.") + "three.");
  Agent agent = make_agent();
  std::vector<std::vector<std::int32_t>> prompts;
  std::vector<TurnUsage> usage;
  AgentEvents events;
  events.turn_end = [&](const TurnRecord& t) {
    prompts.push_back(backend_->last_prompt_ids());
    usage.push_back(t.output.usage);
  };
  agent.send("First task.", events);
  agent.send("Second task.", events);
  ASSERT_EQ(prompts.size(), 5u);
  auto extends = [&](std::size_t later, std::size_t earlier) {
    return prompts[later].size() > prompts[earlier].size() &&
           std::equal(prompts[earlier].begin(), prompts[earlier].end(), prompts[later].begin());
  };
  // Within a task every prompt extends the previous one, and the cache
  // serves the model's own tokens too.
  for (std::size_t k : {1u, 2u, 4u}) {
    EXPECT_TRUE(extends(k, k - 1)) << "turn " << k + 1 << " does not extend turn " << k;
    EXPECT_GE(usage[k].cached_tokens, usage[k - 1].prompt_tokens + usage[k - 1].completion_tokens - 16) << k;
  }
  // A new user message: Qwen3's template drops the reasoning of the earlier
  // task's tool-calling turns, so the new prompt extends that task's first
  // prompt (everything before its first answer) but not its last.
  EXPECT_TRUE(extends(3, 0));
  EXPECT_FALSE(extends(3, 2));
  EXPECT_GE(usage[3].cached_tokens, usage[0].prompt_tokens - 16);
  // The engine's counters saw the reuse.
  const Json stats = backend_->stats();
  EXPECT_GT(stats["prefix_cache_hit_tokens"].get<std::int64_t>(), usage[4].cached_tokens);
}

TEST_F(AgentLoopTest, BadConversationsAreRefusedOrReportedNotThrown) {
  Agent agent = make_agent();
  EXPECT_THROW(agent.load_messages(Json::object()), Error);
  EXPECT_THROW(agent.load_messages(Json::parse(R"([{"role": "wizard", "content": "x"}])")), Error);
  EXPECT_THROW(agent.load_messages(Json::parse(R"([{"role": "user", "content": 5}])")), Error);
  EXPECT_THROW(agent.load_messages(Json::parse(R"([{"role": "assistant", "content": "", "tool_calls": [7]}])")), Error);
  EXPECT_THROW(agent.load_messages(Json::parse(R"([{"role": "user", "content": "", "tool_calls": []}])")), Error);
  // Well-formed, but longer than the context (4096 tokens here).
  std::string long_text;
  for (int i = 0; i < 5000; ++i) long_text += " word";
  agent.load_messages(
      Json::array({{{"role", "user"}, {"content", long_text}}, {{"role", "assistant"}, {"content", "ok"}}}));
  const TaskResult r = agent.send("Hi.");
  EXPECT_EQ(r.stop_reason, "error");
  EXPECT_NE(r.error.find("the model's context is 4096"), std::string::npos) << r.error;
  agent.reset();
  model_->push(think("Fine.") + "Back to normal.");
  EXPECT_EQ(agent.send("Hi again.").final_text, "Back to normal.");
}

TEST_F(AgentLoopTest, NoToolsMeansNoSchemasAndNoCalls) {
  model_->push("<think>\n\n</think>\n\n" + call("shell", {{"command", "touch no"}}));
  Agent agent(*backend_, nullptr, AgentConfig{});
  const TaskResult r = agent.send("Hi.");
  EXPECT_EQ(r.stop_reason, "answer");
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(backend_->render(agent.messages(), Json::array(), {}).find("<tools>"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(scratch_.path() / "no"));
}

}  // namespace
}  // namespace arle::agent
