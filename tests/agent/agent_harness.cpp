// Test-only: the agent's REPL and `arle run` on a model the tests control,
// for tests/agent/repl_tmux_test.sh. Not installed.
//
//   arle_agent_harness [--slow-ms N] [--replies FILE] [agent flags...]        the REPL
//   arle_agent_harness [--slow-ms N] [--replies FILE] run [run flags...]      one task
//
// --replies: a JSON list of strings, the model's replies in order (forced
// token by token, reply_queue_model.h); --slow-ms: each model step takes at
// least this long, so a test can press Ctrl-C while an answer streams.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/repl.h"
#include "cli/run_command.h"
#include "common/error.h"
#include "common/log.h"
#include "reply_queue_model.h"

namespace {

class SlowModel : public arle::model::CausalLm {
 public:
  SlowModel(std::unique_ptr<arle::model::CausalLm> inner, int ms) : inner_(std::move(inner)), ms_(ms) {}
  const arle::model::ModelConfig& config() const override { return inner_->config(); }
  std::size_t weight_bytes() const override { return inner_->weight_bytes(); }
  arle::Tensor forward(const arle::model::ForwardBatch& batch, arle::model::PagedKvCache& cache) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    return inner_->forward(batch, cache);
  }

 private:
  std::unique_ptr<arle::model::CausalLm> inner_;
  int ms_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the arle agent on a test-controlled model (tests only)"};
  int slow_ms = 0;
  std::string replies_file;
  std::string end_token = "<|im_end|>";
  app.add_option("--slow-ms", slow_ms);
  app.add_option("--replies", replies_file);
  app.add_option("--end-token", end_token);
  std::optional<std::string> model_path;
  app.add_option("--model-path", model_path);
  arle::cli::AgentCommandOptions repl;
  arle::cli::add_agent_options(app, repl, /*top_level=*/true);
  arle::cli::RunOptions run_options;
  CLI::App* run = app.add_subcommand("run");
  arle::cli::add_run_options(*run, run_options);
  CLI11_PARSE(app, argc, argv);
  try {
    arle::log::init(std::string("warn"));
    auto wrap = [&](std::unique_ptr<arle::model::CausalLm> model,
                    const arle::text::Tokenizer& tokenizer) -> std::unique_ptr<arle::model::CausalLm> {
      if (!replies_file.empty()) {
        std::ifstream in(replies_file);
        const auto replies = nlohmann::json::parse(in);
        const auto end = tokenizer.token_to_id(end_token);
        if (!end) throw std::runtime_error("no token " + end_token);
        auto queued = std::make_unique<arle::testing::ReplyQueueModel>(std::move(model), tokenizer, *end);
        for (const auto& r : replies) queued->push(r.get<std::string>());
        model = std::move(queued);
      }
      if (slow_ms > 0) model = std::make_unique<SlowModel>(std::move(model), slow_ms);
      return model;
    };
    if (run->parsed()) {
      if (!run_options.agent.model_path) run_options.agent.model_path = model_path;
      return arle::cli::run_agent_task(run_options, wrap);
    }
    repl.model_path = model_path;
    return arle::cli::run_repl(repl, wrap);
  } catch (const arle::Error& e) {  // as arle's main: 2 for a bad argument
    std::fprintf(stderr, "arle_agent_harness: error: %s\n", e.what());
    return e.code() == arle::ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arle_agent_harness: %s\n", e.what());
    return 1;
  }
}
