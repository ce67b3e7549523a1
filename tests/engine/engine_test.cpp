// The engine against the one-request loop: batched, chunked, cached and
// preempted runs give the same tokens and logprobs bit for bit; pages never
// leak; stop conditions, min_tokens, ignore_eos and n > 1 behave.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/error.h"
#include "engine_test_util.h"
#include "text/chat_template.h"

namespace arle::testing {
namespace {

using engine::Request;

class Concurrent : public ::testing::TestWithParam<std::string> {};

// Test group 1: 32 concurrent requests equal each request run alone.
TEST_P(Concurrent, ThirtyTwoRequestsMatchRunningEachAlone) {
  const FixtureModel& m = fixture_model(GetParam());
  std::vector<Request> requests = random_requests(32, m.model->config().vocab_size, 7);
  engine::Engine e(*m.model, *m.tokenizer, small_config(400));
  std::vector<engine::RequestResult> results = engine::run_all(e, requests);
  expect_same_as_alone(m, requests, results);
  EXPECT_GT(e.stats().prefill_rows, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Concurrent,
                         ::testing::Values("stories260K", "qwen3-moe-tiny", "stories260K+device-sampling"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace_if(
                               n.begin(), n.end(), [](char c) { return c == '-' || c == '+'; }, '_');
                           return n;
                         });

// Test group 2: prefix reuse.
TEST(PrefixCache, AnExtendedPromptReusesPagesAndGivesTheSameOutput) {
  const FixtureModel& m = fixture_model("stories260K");
  Request first;
  first.prompt_ids = m.tokenizer->encode("Lily and Tom went to the park. They saw a big dog and a little cat.");
  first.max_tokens = 30;
  first.sampling.temperature = 0;
  first.cache_namespace = "stories";
  engine::EngineCore core(*m.model, *m.tokenizer, small_config(200));
  auto h1 = std::make_shared<engine::RequestHandle>(1);
  core.add(h1, first);
  drain(core);
  engine::RequestResult r1 = engine::collect(*h1, 1);
  EXPECT_EQ(r1.usage.cached_tokens, 0);

  Request second = first;
  second.prompt_ids.insert(second.prompt_ids.end(), r1.samples[0].token_ids.begin(), r1.samples[0].token_ids.end());
  for (std::int32_t t : m.tokenizer->encode(" Then they went home.", false)) second.prompt_ids.push_back(t);
  second.sampling.temperature = 0.8;
  second.sampling.seed = 5;
  auto h2 = std::make_shared<engine::RequestHandle>(2);
  core.add(h2, second);
  drain(core);
  engine::RequestResult r2 = engine::collect(*h2, 1);
  // Every full page of the first request's prompt and output is reused.
  const std::int64_t reusable = (static_cast<std::int64_t>(first.prompt_ids.size()) + 29) / 16 * 16;
  EXPECT_EQ(r2.usage.cached_tokens, reusable);
  EXPECT_GT(core.cache().hit_tokens(), 0);

  engine::EngineCore no_cache(*m.model, *m.tokenizer, small_config(200, 64, false));
  auto h3 = std::make_shared<engine::RequestHandle>(3);
  no_cache.add(h3, second);
  drain(no_cache);
  engine::RequestResult r3 = engine::collect(*h3, 1);
  EXPECT_EQ(r3.usage.cached_tokens, 0);
  EXPECT_EQ(r2.samples[0].token_ids, r3.samples[0].token_ids);
}

TEST(PrefixCache, MultiTurnChatReusesThePreviousTurns) {
  const FixtureModel& m = fixture_model("qwen3-tiny");
  text::ChatTemplate tmpl = text::ChatTemplate::load(std::string(ARLE_TEST_FIXTURES) + "/models/qwen3-tiny");
  engine::Engine e(*m.model, *m.tokenizer, small_config(300));
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  messages.push_back(
      {{"role", "system"},
       {"content", "You are a helpful assistant. Answer briefly, in one plain sentence, without lists or markup."}});
  std::vector<std::int32_t> previous;  // the last turn's prompt and output, as cached
  for (const char* user : {"What is the capital of France?", "And of Italy?", "Which is larger?"}) {
    messages.push_back({{"role", "user"}, {"content", user}});
    text::ChatTemplateInput input;
    input.messages = messages;
    input.kwargs["enable_thinking"] = false;
    Request r;
    r.prompt_ids = m.tokenizer->encode(tmpl.render(input), false);
    r.max_tokens = 12;
    r.sampling.temperature = 0;
    r.cache_namespace = "qwen3-tiny";
    engine::RequestResult result = engine::run_all(e, {r})[0];
    if (!previous.empty()) {
      // Every full page of what this turn shares with the last one is reused.
      std::size_t common = 0;
      while (common < previous.size() && common + 1 < r.prompt_ids.size() && previous[common] == r.prompt_ids[common]) {
        ++common;
      }
      EXPECT_GE(common, 32u) << user;
      EXPECT_EQ(result.usage.cached_tokens, static_cast<std::int64_t>(common / 16 * 16)) << user;
    }
    previous = r.prompt_ids;
    previous.insert(previous.end(), result.samples[0].token_ids.begin(), result.samples[0].token_ids.end());
    messages.push_back({{"role", "assistant"}, {"content", result.samples[0].text}});
  }
}

TEST(PrefixCache, ARequestWaitingForPagesIsCountedOnceWhenAdmitted) {
  const FixtureModel& m = fixture_model("stories260K");
  // 5 pages of 16: the first request (prompt 40 + 30 output) holds all five,
  // so the second waits for many steps before it is admitted.
  engine::EngineCore core(*m.model, *m.tokenizer, small_config(5, 40));
  Request first;
  for (int i = 0; i < 40; ++i) first.prompt_ids.push_back(300 + i);
  first.max_tokens = 30;
  first.ignore_eos = true;
  Request second = first;
  second.prompt_ids[5] = 7;
  auto h1 = std::make_shared<engine::RequestHandle>(1), h2 = std::make_shared<engine::RequestHandle>(2);
  core.add(h1, first);
  core.add(h2, second);
  drain(core);
  EXPECT_EQ(engine::collect(*h2, 1).samples[0].token_ids.size(), 30u);
  EXPECT_EQ(core.stats().preemptions, 0);
  // One lookup per admission: the 39 tokens before each prompt's last.
  EXPECT_EQ(core.cache().queried_tokens(), 2 * 39);
}

// Test group 3: a pool too small for the load preempts and recomputes.
TEST(Preemption, ASmallPoolPreemptsAndStillGivesTheSameOutputs) {
  const FixtureModel& m = fixture_model("stories260K");
  std::vector<Request> requests = random_requests(12, 512, 11, 40, 60);
  for (Request& r : requests) {
    r.max_tokens = 60;
    r.eos_token_ids.clear();
  }
  // 12 sequences of up to 101 tokens would need ~84 pages; give 14.
  engine::Engine e(*m.model, *m.tokenizer, small_config(14, 48));
  std::vector<engine::RequestResult> results = engine::run_all(e, requests);
  EXPECT_GT(e.stats().preemptions, 0);
  expect_same_as_alone(m, requests, results);
}

TEST(Admission, ARequestThatCanNeverFitIsRejectedAndOthersRun) {
  const FixtureModel& m = fixture_model("stories260K");
  engine::Engine e(*m.model, *m.tokenizer, small_config(4));
  Request huge;
  huge.prompt_ids = {1, 400, 401};
  huge.max_tokens = 200;  // 203 tokens > 4 pages of 16
  Request fine = huge;
  fine.max_tokens = 20;
  std::vector<engine::RequestResult> results = engine::run_all(e, {huge, fine});
  EXPECT_EQ(results[0].samples[0].finish_reason, "error");
  EXPECT_NE(results[0].samples[0].error.find("KV cache"), std::string::npos) << results[0].samples[0].error;
  EXPECT_EQ(results[1].samples[0].token_ids.size(), 20u);
}

// Test group 4: no page or reference leaks, after completion and cancellation.
TEST(Pool, CompletionAndCancellationReturnEveryPage) {
  const FixtureModel& m = fixture_model("stories260K");
  engine::EngineCore core(*m.model, *m.tokenizer, small_config(120));
  const std::int64_t total = core.pool().free_pages();
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  std::vector<Request> requests = random_requests(10, 512, 3, 50, 40);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    requests[i].max_tokens = 40;
    requests[i].n = i % 4 == 0 ? 2 : 1;
    handles.push_back(std::make_shared<engine::RequestHandle>(i + 1));
    core.add(handles.back(), requests[i]);
  }
  for (int step = 0; step < 6; ++step) {
    core.step();
    core.check_invariants();
  }
  for (std::size_t i = 0; i < handles.size(); i += 2) handles[i]->cancel();
  drain(core);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    engine::RequestResult r = engine::collect(*handles[i], requests[i].n);
    for (const auto& s : r.samples) EXPECT_EQ(s.finish_reason, i % 2 == 0 ? "abort" : "length") << i;
  }
  EXPECT_EQ(core.pool().free_pages() + core.cache().cached_pages(), total);
  core.cache().clear();
  EXPECT_EQ(core.pool().free_pages(), total);
}

// Test group 6: stop conditions.
TEST(StopConditions, StopStringAcrossTokensMinTokensIgnoreEosAndN) {
  const FixtureModel& m = fixture_model("stories260K");
  engine::Engine e(*m.model, *m.tokenizer, small_config(200));
  Request base;
  base.prompt_ids = {1};
  base.max_tokens = 60;
  base.sampling.temperature = 0;
  engine::RequestResult plain = engine::run_all(e, {base})[0];
  const std::string text = plain.samples[0].text;
  ASSERT_EQ(text.rfind("Once upon a time, there was a little girl named Lily.", 0), 0u) << text;

  // "le gi" spans the tokens of "little" and "girl".
  Request stop = base;
  stop.stop = {"le gi"};
  engine::RequestResult stopped = engine::run_all(e, {stop})[0];
  EXPECT_EQ(stopped.samples[0].text, "Once upon a time, there was a litt");
  EXPECT_EQ(stopped.samples[0].finish_reason, "stop");

  // A stop token met at step 4 ends the sequence there, unless min_tokens masks it.
  const std::int32_t fourth = plain.samples[0].token_ids[3];
  Request stop_token = base;
  stop_token.stop_token_ids = {fourth};
  engine::RequestResult early = engine::run_all(e, {stop_token})[0];
  EXPECT_EQ(early.samples[0].token_ids.size(), 4u);
  EXPECT_EQ(early.samples[0].finish_reason, "stop");
  stop_token.min_tokens = 10;
  engine::RequestResult later = engine::run_all(e, {stop_token})[0];
  EXPECT_GE(later.samples[0].token_ids.size(), 10u);
  for (std::size_t i = 0; i + 1 < later.samples[0].token_ids.size() && i < 9; ++i) {
    EXPECT_NE(later.samples[0].token_ids[i], fourth) << i;
  }

  // EOS stops unless ignore_eos.
  Request eos = base;
  eos.eos_token_ids = {fourth};
  EXPECT_EQ(engine::run_all(e, {eos})[0].samples[0].token_ids.size(), 4u);
  eos.ignore_eos = true;
  EXPECT_EQ(engine::run_all(e, {eos})[0].samples[0].token_ids.size(), 60u);

  // n = 3 with a seed: three different samples, sample i equal to seed + i alone.
  Request n3 = base;
  n3.n = 3;
  n3.max_tokens = 30;
  n3.sampling.temperature = 1.0;
  n3.sampling.seed = 99;
  n3.sampling.logprobs = 1;
  std::vector<Request> one{n3};
  std::vector<engine::RequestResult> three = engine::run_all(e, one);
  ASSERT_EQ(three[0].samples.size(), 3u);
  EXPECT_NE(three[0].samples[0].token_ids, three[0].samples[1].token_ids);
  EXPECT_NE(three[0].samples[1].token_ids, three[0].samples[2].token_ids);
  expect_same_as_alone(m, one, three);
  EXPECT_EQ(three[0].usage.completion_tokens, 90);
}

TEST(PromptLogprobs, EchoMatchesTheOneRequestLoop) {
  const FixtureModel& m = fixture_model("qwen3-small-vocab");
  engine::Engine e(*m.model, *m.tokenizer, small_config(100, 16));
  Request r;
  r.prompt_ids = m.tokenizer->encode("Lily and Tom went to the park. They saw a big dog and ran to it.");
  r.prompt_logprobs = true;
  r.sampling.logprobs = 2;
  r.sampling.temperature = 0;
  r.max_tokens = 5;
  engine::RequestResult result = engine::run_all(e, {r})[0];
  engine::GenerateOutput alone = run_alone(m, r);
  ASSERT_EQ(result.prompt_logprobs.size(), alone.prompt_logprobs.size());
  for (std::size_t i = 1; i < alone.prompt_logprobs.size(); ++i) {
    ASSERT_TRUE(result.prompt_logprobs[i].has_value());
    EXPECT_EQ(result.prompt_logprobs[i]->logprob, alone.prompt_logprobs[i]->logprob) << i;
    EXPECT_EQ(result.prompt_logprobs[i]->top.size(), 2u);
  }
  EXPECT_EQ(result.samples[0].token_ids, alone.token_ids);
}

// An eval's requests: one context, several continuations scored from where
// the context ends. After the first, the context comes from the prefix
// cache, and the scores equal a cold run's bit for bit; positions before
// the first scored one come back empty. An echo request (from 0) still
// scores every token and matches nothing.
TEST(EngineTest, PromptLogprobsFromAPositionReuseTheCachedContext) {
  const FixtureModel& m = fixture_model("stories260K");
  engine::Engine e(*m.model, *m.tokenizer, small_config(100, 16));
  const std::vector<std::int32_t> context =
      m.tokenizer->encode("Once upon a time, there was a little girl named Lily. She loved to play outside. One day");
  ASSERT_GT(context.size(), 16u);
  const auto from = static_cast<std::int64_t>(context.size());
  std::vector<engine::Request> requests;
  for (const char* continuation : {" she saw a bird.", " it rained.", " her mom called her.", " the sun was hot."}) {
    Request r;
    r.prompt_ids = context;
    const std::vector<std::int32_t> tail = m.tokenizer->encode(continuation, /*add_special_tokens=*/false);
    r.prompt_ids.insert(r.prompt_ids.end(), tail.begin(), tail.end());
    r.prompt_logprobs = true;
    r.prompt_logprobs_from = from;
    r.sampling.logprobs = 1;
    r.sampling.temperature = 0;
    r.max_tokens = 1;
    requests.push_back(r);
  }
  const engine::RequestResult first = engine::run_all(e, {requests[0]})[0];
  EXPECT_EQ(first.usage.cached_tokens, 0);
  const std::vector<engine::RequestResult> rest =
      engine::run_all(e, std::vector<engine::Request>(requests.begin() + 1, requests.end()));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    const engine::RequestResult& got = i == 0 ? first : rest[i - 1];
    if (i > 0) {
      EXPECT_EQ(got.usage.cached_tokens, (from - 1) / 16 * 16);
    }
    Request cold = requests[i];
    cold.prompt_logprobs_from = 0;
    const engine::GenerateOutput alone = run_alone(m, cold);
    ASSERT_EQ(got.prompt_logprobs.size(), requests[i].prompt_ids.size());
    for (std::size_t p = 0; p < got.prompt_logprobs.size(); ++p) {
      if (static_cast<std::int64_t>(p) < from) {
        EXPECT_FALSE(got.prompt_logprobs[p].has_value()) << p;
      } else {
        ASSERT_TRUE(got.prompt_logprobs[p].has_value()) << p;
        EXPECT_EQ(got.prompt_logprobs[p]->token, requests[i].prompt_ids[p]);
        EXPECT_EQ(got.prompt_logprobs[p]->logprob, alone.prompt_logprobs[p]->logprob) << p;
        EXPECT_EQ(got.prompt_logprobs[p]->top.size(), 1u);
      }
    }
  }
  Request echo = requests[1];
  echo.prompt_logprobs_from = 0;
  const engine::RequestResult all = engine::run_all(e, {echo})[0];
  EXPECT_EQ(all.usage.cached_tokens, 0);
  for (std::size_t p = 1; p < all.prompt_logprobs.size(); ++p) EXPECT_TRUE(all.prompt_logprobs[p].has_value()) << p;
}

}  // namespace
}  // namespace arle::testing
