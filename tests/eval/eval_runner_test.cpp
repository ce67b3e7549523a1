// run_eval's mechanics on a scripted backend (no model): lm-evaluation-
// harness's context/continuation split, left truncation to the model's
// length, scoring and metrics, and failed requests leaving a partial report.
#include "eval/eval_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace arle::eval {
namespace {

namespace fs = std::filesystem;

// One token per byte. Scores: `likes` picks the continuation text scored 0
// (others -1); generations answer with a canned text.
class ScriptedBackend final : public EvalBackend {
 public:
  std::string describe() const override { return "scripted"; }
  std::int64_t max_length() const override { return length; }
  std::vector<std::vector<std::int32_t>> tokenize(const std::vector<std::string>& texts) override {
    std::vector<std::vector<std::int32_t>> out;
    for (const std::string& text : texts) out.emplace_back(text.begin(), text.end());
    return out;
  }
  std::vector<LoglikelihoodResult> loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                 const std::function<void()>& done) override {
    std::vector<LoglikelihoodResult> out;
    for (const LoglikelihoodRequest& r : requests) {
      seen.push_back(r);
      const std::string continuation(r.continuation.begin(), r.continuation.end());
      LoglikelihoodResult result;
      if (continuation == fail_on) {
        result.error = "HTTP 500 after 3 tries";
      } else {
        result.logprob = continuation == likes ? 0.0 : -1.0 - static_cast<double>(continuation.size());
      }
      out.push_back(result);
      done();
    }
    return out;
  }
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests,
                                         const std::function<void()>& done) override {
    std::vector<GenerationResult> out;
    for (const GenerationRequest& g : requests) {
      prompts.push_back(g.prompt);
      out.push_back({answer, ""});
      done();
    }
    return out;
  }
  std::int64_t length = 1 << 20;
  std::string likes, fail_on, answer;
  std::vector<LoglikelihoodRequest> seen;
  std::vector<std::vector<std::int32_t>> prompts;
};

fs::path mmlu_data() {
  const fs::path dir = fs::temp_directory_path() / "arle_eval_runner_test";
  fs::create_directories(dir / "mmlu" / "dev");
  fs::create_directories(dir / "mmlu" / "test");
  std::ofstream(dir / "mmlu" / "dev" / "astronomy_dev.csv") << "Shot?,a,b,c,d,B\n";
  std::ofstream(dir / "mmlu" / "test" / "astronomy_test.csv")
      << "Q1?,a,b,c,d,C\n\"Q2, with a comma?\",a,b,c,d,A\nQ3?,a,b,c,d,C\n";
  std::ofstream(dir / "mmlu" / "dev" / "virology_dev.csv") << "Shot?,a,b,c,d,A\n";
  std::ofstream(dir / "mmlu" / "test" / "virology_test.csv") << "V1?,a,b,c,d,C\n";
  return dir;
}

TEST(EvalRunner, MmluScoresEachChoiceAfterItsContext) {
  ScriptedBackend backend;
  backend.likes = " C";
  EvalOptions o;
  o.task = "mmlu";
  o.data_dir = mmlu_data();
  o.num_fewshot = 1;
  std::int64_t last_done = 0, last_total = 0;
  const auto report = run_eval(backend, o, [&](std::int64_t d, std::int64_t t) { last_done = d, last_total = t; });
  EXPECT_EQ(last_done, 16);
  EXPECT_EQ(last_total, 16);
  ASSERT_EQ(backend.seen.size(), 16u);
  // "...Answer:" then " A": the space belongs to the continuation.
  const std::string context(backend.seen[0].context.begin(), backend.seen[0].context.end());
  EXPECT_EQ(context.substr(context.size() - 7), "Answer:");
  EXPECT_EQ(std::string(backend.seen[0].continuation.begin(), backend.seen[0].continuation.end()), " A");
  const auto& m = report.at("metrics");
  EXPECT_DOUBLE_EQ(m.at("acc").at("value").get<double>(), 0.75);  // gold C, A, C, C
  EXPECT_EQ(m.at("acc").at("n").get<int>(), 4);
  EXPECT_DOUBLE_EQ(m.at("subjects").at("astronomy").at("acc").at("value").get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.at("acc_subject_mean").get<double>(), (2.0 / 3.0 + 1.0) / 2);
  const auto& record = report.at("records")[1];
  EXPECT_EQ(record.at("gold"), "A");
  EXPECT_EQ(record.at("prediction"), "C");
  EXPECT_EQ(record.at("loglikelihoods").size(), 4u);
  EXPECT_EQ(record.at("prompt_hash").get<std::string>().size(), 16u);
  EXPECT_EQ(report.at("config").at("num_fewshot"), 1);
  EXPECT_NE(summary_table(report).find("astronomy acc"), std::string::npos);
}

TEST(EvalRunner, LimitIsPerSubjectAndSubjectsFilter) {
  ScriptedBackend backend;
  EvalOptions o;
  o.task = "mmlu";
  o.data_dir = mmlu_data();
  o.num_fewshot = 1;
  o.limit = 1;
  EXPECT_EQ(run_eval(backend, o, nullptr).at("records").size(), 2u);  // one per subject
  o.subjects = {"virology"};
  EXPECT_EQ(run_eval(backend, o, nullptr).at("records").size(), 1u);
  o.subjects = {"astrology"};
  EXPECT_THROW(run_eval(backend, o, nullptr), Error);
  o.subjects = {};
  o.num_fewshot = 2;  // the dev files hold one example each
  EXPECT_THROW(run_eval(backend, o, nullptr), Error);
}

TEST(EvalRunner, LongContextsAreCutFromTheLeft) {
  ScriptedBackend backend;
  backend.length = 40;
  EvalOptions o;
  o.task = "mmlu";
  o.data_dir = mmlu_data();
  o.num_fewshot = 1;
  const auto report = run_eval(backend, o, nullptr);
  for (const LoglikelihoodRequest& r : backend.seen) {
    EXPECT_EQ(r.context.size() + r.continuation.size(), 39u);  // one token left for the sampled one
  }
  EXPECT_EQ(report.at("metrics").at("truncated_requests").get<int>(), 16);
}

TEST(EvalRunner, FailedRequestsLeaveAPartialReport) {
  ScriptedBackend backend;
  backend.likes = " C";
  backend.fail_on = " D";  // every question has a D
  EvalOptions o;
  o.task = "mmlu";
  o.data_dir = mmlu_data();
  o.num_fewshot = 0;
  const auto report = run_eval(backend, o, nullptr);
  EXPECT_EQ(report.at("metrics").at("errors").get<int>(), 4);
  EXPECT_EQ(report.at("metrics").at("acc").at("n").get<int>(), 0);
  EXPECT_EQ(report.at("records")[0].at("error"), "HTTP 500 after 3 tries");
}

TEST(EvalRunner, MmluGenerateModeCountsInvalidAnswers) {
  ScriptedBackend backend;
  backend.answer = " C";
  EvalOptions o;
  o.task = "mmlu";
  o.mode = "generate";
  o.data_dir = mmlu_data();
  o.num_fewshot = 1;
  auto report = run_eval(backend, o, nullptr);
  EXPECT_DOUBLE_EQ(report.at("metrics").at("acc").at("value").get<double>(), 0.75);
  EXPECT_EQ(report.at("metrics").at("invalid_answers").get<int>(), 0);
  backend.answer = " I think";
  report = run_eval(backend, o, nullptr);
  EXPECT_EQ(report.at("metrics").at("invalid_answers").get<int>(), 4);
  EXPECT_DOUBLE_EQ(report.at("metrics").at("acc").at("value").get<double>(), 0.0);
}

TEST(EvalRunner, BadOptionsAreErrors) {
  EvalOptions o;
  o.task = "trivia";
  EXPECT_THROW(check_eval_options(o), Error);
  o.task = "hellaswag";
  o.num_fewshot = 3;
  EXPECT_THROW(check_eval_options(o), Error);
  o.num_fewshot = -1;
  o.mode = "generate";
  EXPECT_THROW(check_eval_options(o), Error);
  o.task = "gsm8k";
  o.mode = "loglikelihood";
  o.subjects = {"x"};
  EXPECT_THROW(check_eval_options(o), Error);
}

}  // namespace
}  // namespace arle::eval
