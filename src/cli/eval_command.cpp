#include "cli/eval_command.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/log.h"
#include "engine/engine.h"
#include "engine/eos_tokens.h"
#include "eval/eval_data.h"
#include "eval/local_backend.h"
#include "eval/remote_backend.h"
#include "model/generation_config.h"
#include "text/tokenizer.h"

namespace arle::cli {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int report(const EvalCommandOptions& o, const nlohmann::ordered_json& result) {
  std::fputs(eval::summary_table(result).c_str(), stdout);
  if (o.output) {
    std::ofstream out(*o.output);
    if (!out) throw_error(ErrorCode::kInvalidArgument, "--output: cannot write {}", *o.output);
    out << result.dump(2) << "\n";
    if (!out) throw_error(ErrorCode::kInternal, "--output: writing {} failed", *o.output);
    log::info("report written to {}", *o.output);
  }
  // Failed requests leave a partial report and a non-zero exit.
  return result.at("metrics").at("errors").get<std::int64_t>() > 0 ? 1 : 0;
}

}  // namespace

int run_eval_command(const EvalCommandOptions& options) {
  EvalCommandOptions o = options;
  o.eval.subjects = split_commas(o.subjects);
  if (o.data_dir) {
    o.eval.data_dir = *o.data_dir;
  } else if (auto bundled = eval::find_bundled_eval_data()) {
    o.eval.data_dir = *bundled;
  } else {
    throw_error(ErrorCode::kNotFound, "the bundled evaluation data was not found; pass --data-dir DIR");
  }
  eval::check_eval_options(o.eval);
  if (o.concurrency < 1) throw_error(ErrorCode::kInvalidArgument, "--concurrency must be >= 1");
  const auto start = std::chrono::steady_clock::now();
  const eval::EvalProgress progress = [&](std::int64_t done, std::int64_t total) {
    print_progress(done, total, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                   "requests");
  };
  if (o.base_url) {
    if (!o.model) throw_error(ErrorCode::kInvalidArgument, "--base-url needs --model (the served model's id)");
    if (o.retries < 0 || o.timeout_seconds <= 0) {
      throw_error(ErrorCode::kInvalidArgument, "--retries must be >= 0 and --timeout > 0");
    }
    net::RetryPolicy retry;
    retry.attempts = o.retries + 1;
    retry.timeout_seconds = o.timeout_seconds;
    eval::RemoteBackend backend(*o.base_url, *o.model, o.api_key.value_or(""), o.concurrency, retry, o.eval.seed);
    return report(o, eval::run_eval(backend, o.eval, progress));
  }
  apply_threads(o.compute);
  auto tokenizer = text::Tokenizer::load(o.model_path);
  auto model = load_model(o.model_path, o.compute);
  const model::GenerationConfig generation = model::load_generation_config(o.model_path);
  const engine::EngineConfig config = engine_config(o.engine);
  engine::Engine engine(*model, *tokenizer, config);
  eval::LocalBackend backend(engine, *tokenizer, engine::model_eos_token_ids(model->config(), generation, *tokenizer),
                             model->config().max_position_embeddings,
                             fmt::format("local {} ({})", o.model_path, model->device_name()), o.model_path,
                             o.concurrency);
  return report(o, eval::run_eval(backend, o.eval, progress));
}

}  // namespace arle::cli
