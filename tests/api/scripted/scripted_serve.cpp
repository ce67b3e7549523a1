// Test-only server: `arle serve` on a model whose output the prompt scripts
// (see scripted_model.h), so the API tests can check tool-call and reasoning
// responses end to end on the real Qwen3 chat template. Not installed.
//
//   arle_scripted_serve --model-path DIR [--port 0] [--end-token TOKEN]
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/serve_command.h"
#include "common/error.h"
#include "scripted_model.h"

int main(int argc, char** argv) {
  CLI::App app{"arle serve with scripted model output (tests only)"};
  arle::cli::ServeOptions options;
  std::string end_token = "<|im_end|>";
  app.add_option("--model-path", options.model_path)->required();
  app.add_option("--port", options.port);
  app.add_option("--max-model-len", options.max_model_len);
  app.add_option("--end-token", end_token, "emitted after the script");
  CLI11_PARSE(app, argc, argv);
  options.engine.no_prefix_cache = true;  // the scripted model must see whole prompts
  try {
    return arle::cli::run_serve(
        options, [&](std::unique_ptr<arle::model::CausalLm> model, const arle::text::Tokenizer& tokenizer) {
          const auto end = tokenizer.token_to_id(end_token);
          if (!end) arle::throw_error(arle::ErrorCode::kInvalidArgument, "no token '{}'", end_token);
          return std::make_unique<arle::testing::ScriptedModel>(std::move(model), tokenizer, *end);
        });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arle_scripted_serve: %s\n", e.what());
    return 1;
  }
}
