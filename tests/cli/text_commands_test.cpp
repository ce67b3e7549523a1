// `arle tokenize` / `arle detokenize` against transformers' input_ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace arle::testing {
namespace {

using nlohmann::json;

TEST(TokenizeCommand, BundledModelMatchesTransformers) {
  // stories260K reference.json: "Once upon a time" -> [1, 403, 407, 261, 378]
  CommandResult r = run_arle("tokenize --text 'Once upon a time'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1,403,407,261,378\n");
  CommandResult plain = run_arle("tokenize --no-special --text 'Once upon a time'");
  EXPECT_EQ(plain.out, "403,407,261,378\n");
}

TEST(TokenizeCommand, JsonWithTokensOnATokenizerOnlyFolder) {
  std::string dir = ::testing::TempDir() + "/arle_tokenizer_only";
  std::filesystem::create_directories(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    std::filesystem::copy_file(fixtures_dir() + "/models/qwen3-tiny/" + f, dir + "/" + f,
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::ofstream(dir + "/prompt.txt") << "<|im_start|>user\nHello! Who are you?<|im_end|>\n<|im_start|>assistant\n";
  CommandResult r = run_arle("tokenize --json --model-path '" + dir + "' --file '" + dir + "/prompt.txt'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  // qwen3-tiny reference.json, case chat_basic.
  EXPECT_EQ(out["ids"], json::parse("[151644, 872, 198, 9707, 0, 10479, 525, 498, 30, 151645, 198, 151644, 77091, 198]"));
  EXPECT_EQ(out["count"], 14);
  EXPECT_EQ(out["tokens"][0], "<|im_start|>");
}

TEST(DetokenizeCommand, DecodesAndSkipsSpecialTokens) {
  CommandResult r = run_arle("detokenize --ids 1,403,407,261,378");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s> Once upon a time\n");
  EXPECT_EQ(run_arle("detokenize --skip-special --ids '1, 403,407,261,378'").out, "Once upon a time\n");
}

TEST(TextCommandErrors, BadInputsAreOneLineErrors) {
  // Exit code 2: the command line is wrong; 1: a file is missing or broken.
  auto expect_error = [](const CommandResult& r, const std::string& needle, int code = 2) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  expect_error(run_arle("tokenize"), "exactly one of --text and --file");
  expect_error(run_arle("tokenize --text a --file b"), "exactly one of --text and --file");
  expect_error(run_arle("tokenize --file /no/such/file"), "cannot read --file", 1);
  expect_error(run_arle("detokenize --ids 1,abc"), "'abc' is not a token id");
  expect_error(run_arle("detokenize --ids 99999"), "99999 is not in the vocabulary (size 512)");
  expect_error(run_arle("detokenize --ids -4"), "'-4' is not a token id");
  expect_error(run_arle("tokenize --model-path /tmp --text x"), "tokenizer.json does not exist", 1);
}

}  // namespace
}  // namespace arle::testing

namespace arle::testing {
namespace {

TEST(ChatTemplateCommand, RendersTheModelTemplateLikeTransformers) {
  std::string dir = ::testing::TempDir() + "/arle_chat_cmd";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/messages.json") << R"([{"role": "user", "content": "Hello! Who are you?"}])";
  CommandResult r = run_arle("chat-template --model-path '" + fixtures_dir() + "/models/qwen3-tiny' --messages '" + dir +
                             "/messages.json'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // qwen3-tiny reference.json, case chat_basic (rendered by transformers).
  EXPECT_EQ(r.out, "<|im_start|>user\nHello! Who are you?<|im_end|>\n<|im_start|>assistant\n");
  CommandResult no_prompt = run_arle("chat-template --no-generation-prompt --model-path '" + fixtures_dir() +
                                     "/models/qwen3-tiny' --messages '" + dir + "/messages.json'");
  EXPECT_EQ(no_prompt.out, "<|im_start|>user\nHello! Who are you?<|im_end|>\n");
  CommandResult no_think = run_arle("chat-template --template-kwargs '{\"enable_thinking\": false}' --model-path '" +
                                    fixtures_dir() + "/models/qwen3-tiny' --messages '" + dir + "/messages.json'");
  EXPECT_EQ(no_think.out, "<|im_start|>user\nHello! Who are you?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(ChatTemplateCommand, BadInputsAreOneLineErrors) {
  std::string dir = ::testing::TempDir() + "/arle_chat_cmd_bad";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/not_list.json") << R"({"role": "user"})";
  std::ofstream(dir + "/broken.json") << R"([{"role": )";
  std::string model = " --model-path '" + fixtures_dir() + "/models/qwen3-tiny'";
  auto expect_error = [](const CommandResult& r, const std::string& needle, int code = 2) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  expect_error(run_arle("chat-template" + model + " --messages '" + dir + "/not_list.json'"), "must hold a JSON list");
  expect_error(run_arle("chat-template" + model + " --messages '" + dir + "/broken.json'"), "is not valid JSON");
  expect_error(run_arle("chat-template" + model + " --messages /no/file"), "cannot read --messages", 1);
  expect_error(run_arle("chat-template --messages '" + dir + "/broken.json'"), "has no chat template", 1);
  expect_error(run_arle("chat-template" + model + " --messages '" + dir + "/not_list.json' --template-kwargs '[1]'"),
               "must hold a JSON list");
}

}  // namespace
}  // namespace arle::testing
