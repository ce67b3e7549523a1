// `arle generate` end to end: llama2.c's published stories260K run byte for
// byte, the JSON output, streaming, stop strings, chat prompts, seeds and
// bad arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/json_file.h"
#include "run_command.h"

namespace arle::testing {
namespace {

nlohmann::json run_json(const std::string& args) {
  CommandResult r = run_arle("--log-level off generate --json " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

std::string model(const std::string& name) { return " --model-path " + fixtures_dir() + "/models/" + name; }

TEST(Generate, BundledModelReproducesLlama2cGreedyRunByteForByte) {
  const std::string dir = fixtures_dir() + "/llama2c/";
  std::string expected_text = read_text_file(dir + "expected_greedy_200.txt");
  nlohmann::json expected = read_json_file(dir + "expected_greedy_200.json");
  std::vector<int> ids = expected["greedy_ids_incl_bos"].get<std::vector<int>>();
  ASSERT_EQ(ids.size(), 201u);
  ids.erase(ids.begin());

  CommandResult text = run_arle("--log-level off generate --prompt-ids 1 --max-tokens 200 --temperature 0");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  // Our output ends in one newline; the published text ends in one too.
  EXPECT_EQ(text.out, expected_text);

  nlohmann::json j = run_json("--prompt-ids 1 --max-tokens 200 --temperature 0");
  EXPECT_EQ(j["token_ids"].get<std::vector<int>>(), ids);
  EXPECT_EQ(j["text"].get<std::string>() + "\n", expected_text);
  EXPECT_EQ(j["finish_reason"], "length");
  EXPECT_EQ(j["prompt_ids"], nlohmann::json::array({1}));
}

TEST(Generate, JsonCarriesLogprobsAndPromptLogprobsWhenAsked) {
  nlohmann::json plain = run_json("--prompt 'Once upon a time' --max-tokens 6 --temperature 0");
  EXPECT_FALSE(plain.contains("logprobs"));
  EXPECT_FALSE(plain.contains("prompt_logprobs"));

  nlohmann::json j = run_json("--prompt 'Once upon a time' --max-tokens 6 --temperature 0 --logprobs 3 --echo");
  const auto prompt_ids = j["prompt_ids"].get<std::vector<int>>();
  ASSERT_EQ(j["logprobs"].size(), j["token_ids"].size());
  ASSERT_EQ(j["prompt_logprobs"].size(), prompt_ids.size());
  EXPECT_TRUE(j["prompt_logprobs"][0].is_null());
  for (std::size_t i = 1; i < prompt_ids.size(); ++i) {
    EXPECT_EQ(j["prompt_logprobs"][i]["token_id"], prompt_ids[i]);
    EXPECT_LE(j["prompt_logprobs"][i]["logprob"].get<double>(), 0.0);
  }
  for (std::size_t i = 0; i < j["logprobs"].size(); ++i) {
    const nlohmann::json& lp = j["logprobs"][i];
    EXPECT_EQ(lp["token_id"], j["token_ids"][i]);
    ASSERT_EQ(lp["top_logprobs"].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(lp["top_logprobs"][0]["token_id"], lp["token_id"]);
    EXPECT_GE(lp["top_logprobs"][0]["logprob"].get<double>(), lp["top_logprobs"][1]["logprob"].get<double>());
  }
  // Token texts read as they do in the stream (" there", with its space).
  std::string joined;
  for (const auto& lp : j["logprobs"]) joined += lp["token"].get<std::string>();
  EXPECT_EQ(joined, j["text"].get<std::string>());
}

TEST(Generate, StreamPrintsTheSameTextAsOneShot) {
  CommandResult once = run_arle("--log-level off generate --prompt 'Lily and Tom' --max-tokens 40 --temperature 0");
  CommandResult streamed =
      run_arle("--log-level off generate --prompt 'Lily and Tom' --max-tokens 40 --temperature 0 --stream");
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(once.out, streamed.out);
  CommandResult json = run_arle("--log-level off generate --prompt 'Lily and Tom' --max-tokens 40 --temperature 0 "
                                "--stream --json");
  std::string deltas;
  nlohmann::json final_object;
  std::size_t start = 0;
  for (std::size_t nl; (nl = json.out.find('\n', start)) != std::string::npos; start = nl + 1) {
    nlohmann::json line = nlohmann::json::parse(json.out.substr(start, nl - start));
    if (line.contains("delta")) {
      deltas += line["delta"].get<std::string>();
    } else {
      final_object = line;
    }
  }
  EXPECT_EQ(deltas, final_object["text"].get<std::string>());
  EXPECT_EQ(deltas + "\n", once.out);
}

TEST(Generate, StopStringEndsTheTextBeforeIt) {
  nlohmann::json full = run_json("--prompt-ids 1 --max-tokens 60 --temperature 0");
  const std::string text = full["text"];
  ASSERT_NE(text.find("Lily"), std::string::npos);
  nlohmann::json stopped = run_json("--prompt-ids 1 --max-tokens 60 --temperature 0 --stop Lily --stop nothing-here");
  EXPECT_EQ(stopped["text"], text.substr(0, text.find("Lily")));
  EXPECT_EQ(stopped["finish_reason"], "stop");
  EXPECT_LT(stopped["token_ids"].size(), full["token_ids"].size());
}

TEST(Generate, EchoPrintsThePromptFirst) {
  CommandResult r = run_arle("--log-level off generate --prompt 'Once upon a time' --max-tokens 5 --temperature 0 --echo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time", 0), 0u) << r.out;
}

TEST(Generate, SeedsMakeSamplesReproducible) {
  const std::string args = "--prompt-ids 1 --max-tokens 40 --temperature 1 --top-p 0.9 --seed ";
  nlohmann::json a = run_json(args + "133742"), b = run_json(args + "133742"), c = run_json(args + "7");
  EXPECT_EQ(a["token_ids"], b["token_ids"]);
  EXPECT_NE(a["token_ids"], c["token_ids"]);
}

TEST(Generate, ChatRendersTheTemplateAroundOneUserMessage) {
  nlohmann::json j = run_json(model("qwen3-tiny") + " --chat 'Hi there' --max-tokens 3 --temperature 0");
  // <|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n
  const std::vector<int> expected{151644, 872, 198, 13048, 1052, 151645, 198, 151644, 77091, 198};
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), expected);
  EXPECT_EQ(j["token_ids"].size(), 3u);
}

TEST(Generate, MaxTokensZeroAndContextLimit) {
  nlohmann::json zero = run_json("--prompt-ids 1,403 --max-tokens 0");
  EXPECT_TRUE(zero["token_ids"].empty());
  EXPECT_EQ(zero["finish_reason"], "length");
  // stories260K's context is 512: generation stops there with "length".
  nlohmann::json capped = run_json("--prompt-ids 1 --max-tokens 100000 --temperature 0 --ignore-eos");
  EXPECT_EQ(capped["token_ids"].size(), 511u);
  EXPECT_EQ(capped["finish_reason"], "length");
}

void expect_usage_error(const std::string& args, const std::string& needle) {
  CommandResult r = run_arle("generate " + args);
  EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
  EXPECT_EQ(r.err.rfind("arle: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(Generate, BadArgumentsExitWithCode2AndOneLine) {
  expect_usage_error("--max-tokens 3", "exactly one of --prompt, --prompt-ids, --chat");
  expect_usage_error("--prompt a --prompt-ids 1", "exactly one of");
  expect_usage_error("--prompt-ids 1,x", "--prompt-ids: 'x' is not a token id");
  expect_usage_error("--prompt-ids 1,512", "outside the vocabulary");
  expect_usage_error("--prompt-ids ,", "the prompt is empty");
  expect_usage_error("--prompt a --temperature -1", "temperature = -1 is out of range");
  expect_usage_error("--prompt a --top-p 1.5", "top_p");
  expect_usage_error("--prompt a --top-k -5", "top_k");
  expect_usage_error("--prompt a --min-p 2", "min_p");
  expect_usage_error("--prompt a --logprobs 21", "logprobs");
  expect_usage_error("--prompt a --max-tokens -1", "--max-tokens -1");
  expect_usage_error("--prompt a --max-tokens lots", "max-tokens");
  expect_usage_error("--prompt a --threads 0", "thread count 0");
  expect_usage_error("--prompt a --frobnicate", "frobnicate");
  std::string long_prompt = "1";
  for (int i = 0; i < 600; ++i) long_prompt += ",400";
  expect_usage_error("--prompt-ids " + long_prompt, "the model's context is 512");
}

TEST(Generate, MissingModelIsARuntimeError) {
  CommandResult r = run_arle("generate --prompt a --model-path /no/such/model");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace arle::testing
