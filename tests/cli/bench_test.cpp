// `arle bench throughput` and `arle bench latency` run on the bundled model
// and report what they did; bad flags are usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_command.h"

namespace arle::testing {
namespace {

TEST(Bench, ThroughputReportsTheWorkloadItRan) {
  CommandResult r = run_arle(
      "--log-level off bench throughput --num-prompts 6 --input-len 10,40 --output-len 5,9 "
      "--seed 3 --max-batched-tokens 32 --kv-cache-memory 2MiB --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["num_prompts"], 6);
  const auto out = j["output_tokens"].get<std::int64_t>();
  EXPECT_GE(out, 6 * 5);
  EXPECT_LE(out, 6 * 9);
  EXPECT_GT(j["output_tokens_per_second"].get<double>(), 0);
  EXPECT_GT(j["peak_kv_tokens"].get<double>(), 0);
  EXPECT_LE(j["peak_kv_fraction"].get<double>(), 1.0);
  EXPECT_NE(r.err.find("6/6 requests"), std::string::npos) << r.err;  // progress
  // The same seed gives the same workload.
  CommandResult again = run_arle(
      "--log-level off bench throughput --num-prompts 6 --input-len 10,40 --output-len 5,9 "
      "--seed 3 --json");
  EXPECT_EQ(nlohmann::json::parse(again.out)["prompt_tokens"], j["prompt_tokens"]);
}

TEST(Bench, LatencyReportsTimeToFirstTokenAndPerToken) {
  CommandResult r = run_arle("--log-level off bench latency --input-len 20 --output-len 10 --iterations 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["ttft_ms_median"].get<double>(), 0);
  EXPECT_GT(j["tpot_ms_median"].get<double>(), 0);
}

TEST(Bench, BadFlagsAreUsageErrors) {
  for (const char* args : {"bench", "bench throughput --input-len 9,3", "bench throughput --output-len x",
                           "bench throughput --input-len 400,500 --output-len 100,200",
                           "bench throughput --kv-cache-memory 200%", "bench throughput --max-batched-tokens 0",
                           "bench latency --iterations 0", "bench throughput --gpu-memory-fraction 0",
                           "bench throughput --gpu-memory-fraction 1.5", "bench throughput --kv-cache-memory 0"}) {
    CommandResult r = run_arle(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("arle: error: ", 0), 0u) << args << ": " << r.err;
  }
  // The start-up memory plan is logged: where the KV cache's size came from.
  CommandResult planned = run_arle("bench throughput --num-prompts 1 --input-len 8,8 --output-len 2,2");
  EXPECT_EQ(planned.exit_code, 0) << planned.err;
  EXPECT_NE(planned.err.find("memory plan on cpu"), std::string::npos) << planned.err;
  EXPECT_NE(planned.err.find("the CPU default)"), std::string::npos) << planned.err;
  // A pool too small for any request: every request fails, clearly.
  CommandResult tiny = run_arle(
      "bench throughput --num-prompts 2 --input-len 100,100 --output-len 50,50 "
      "--kv-cache-memory 10KiB");
  EXPECT_NE(tiny.exit_code, 0);
  EXPECT_NE(tiny.err.find("KV cache"), std::string::npos) << tiny.err;
}

}  // namespace
}  // namespace arle::testing
