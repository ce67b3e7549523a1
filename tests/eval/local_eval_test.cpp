// The local backend against transformers: the log-likelihood of a
// continuation equals the sum of the fixtures' reference prompt logprobs
// (transformers float32) over its tokens. Then the three tasks end to end
// on the bundled stories260K with a few questions each: the report's shape,
// and the MMLU few-shot context served by the prefix cache.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "eval/eval_data.h"
#include "eval/eval_runner.h"
#include "eval/local_backend.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::eval {
namespace {

struct Loaded {
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::unique_ptr<model::CausalLm> model;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<LocalBackend> backend;
};

Loaded load(const std::string& name) {
  const std::string dir = std::string(ARLE_TEST_FIXTURES) + "/models/" + name;
  Loaded l;
  l.tokenizer = text::Tokenizer::load(dir);
  l.model = model::load_causal_lm(dir);
  engine::EngineConfig config;
  config.kv_pages = 512;
  config.scheduler.max_batched_tokens = 256;
  l.engine = std::make_unique<engine::Engine>(*l.model, *l.tokenizer, config);
  l.backend = std::make_unique<LocalBackend>(*l.engine, *l.tokenizer, std::vector<std::int32_t>{},
                                             l.model->config().max_position_embeddings, "local " + name, dir, 8);
  return l;
}

class FixtureLoglikelihood : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureLoglikelihood, EqualsTheSumOfTransformersPromptLogprobs) {
  Loaded l = load(GetParam());
  const std::string path = std::string(ARLE_TEST_FIXTURES) + "/models/" + GetParam() + "/reference.json";
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(path));
  std::vector<LoglikelihoodRequest> requests;
  std::vector<double> want;
  std::vector<std::size_t> tokens;
  for (const auto& c : reference.at("cases")) {
    const auto ids = c.at("input_ids").get<std::vector<std::int32_t>>();
    const auto logprobs = c.at("prompt_logprobs").get<std::vector<double>>();  // [i]: of ids[i + 1]
    if (ids.size() < 3) continue;
    for (const std::size_t split : {std::size_t{1}, ids.size() / 2, ids.size() - 1}) {
      requests.push_back({{ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(split)},
                          {ids.begin() + static_cast<std::ptrdiff_t>(split), ids.end()}});
      double sum = 0;
      for (std::size_t i = split; i < ids.size(); ++i) sum += logprobs[i - 1];
      want.push_back(sum);
      tokens.push_back(ids.size() - split);
    }
  }
  ASSERT_FALSE(requests.empty());
  int done = 0;
  const std::vector<LoglikelihoodResult> got = l.backend->loglikelihood(requests, [&] { ++done; });
  EXPECT_EQ(done, static_cast<int>(requests.size()));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(got[i].error.empty()) << got[i].error;
    EXPECT_NEAR(got[i].logprob, want[i], 1e-4 + 2e-4 * static_cast<double>(tokens[i]))
        << "request " << i << ", " << tokens[i] << " continuation tokens";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureLoglikelihood, ::testing::Values("stories260K", "qwen3-tiny"),
                         [](const auto& info) { return info.param == "stories260K" ? "stories260K" : "qwen3_tiny"; });

EvalOptions options(const std::string& task, std::int64_t limit) {
  EvalOptions o;
  o.task = task;
  o.data_dir = std::string(ARLE_SOURCE_DIR) + "/assets/eval";
  o.limit = limit;
  return o;
}

TEST(LocalEval, MmluSharesTheFewShotContextThroughThePrefixCache) {
  Loaded l = load("stories260K");
  EvalOptions o = options("mmlu", 3);
  o.subjects = {"astronomy", "virology"};
  o.num_fewshot = 1;  // the bundled model reads 512 tokens
  const auto report = run_eval(*l.backend, o, nullptr);
  EXPECT_EQ(report.at("records").size(), 6u);
  EXPECT_EQ(report.at("metrics").at("errors").get<int>(), 0);
  EXPECT_EQ(report.at("metrics").at("acc").at("n").get<int>(), 6);
  // A question's four requests share all but the last token or two.
  EXPECT_GT(report.at("timing").at("prefix_cache").at("hit_rate").get<double>(), 0.5);
  for (const auto& r : report.at("records")) {
    for (const auto& ll : r.at("loglikelihoods")) EXPECT_LT(ll.get<double>(), 0.0);
  }
}

TEST(LocalEval, HellaswagAndGsm8kRunEndToEnd) {
  Loaded l = load("stories260K");
  const auto hellaswag = run_eval(*l.backend, options("hellaswag", 4), nullptr);
  EXPECT_EQ(hellaswag.at("metrics").at("acc_norm").at("n").get<int>(), 4);
  EvalOptions o = options("gsm8k", 2);
  o.num_fewshot = 1;
  o.max_gen_tokens = 12;
  const auto gsm8k = run_eval(*l.backend, o, nullptr);
  EXPECT_EQ(gsm8k.at("metrics").at("exact_match").at("n").get<int>(), 2);
  EXPECT_TRUE(gsm8k.at("records")[0].contains("completion"));
}

}  // namespace
}  // namespace arle::eval
