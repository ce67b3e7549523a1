// arle: one binary, many jobs. This file only parses the command line and
// turns every error into a one-line message: exit code 2 for a bad command
// line or argument value, 1 for everything else (missing or broken model...).

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "arle_version.h"
#include "cli/agent_session.h"
#include "cli/bench_command.h"
#include "cli/doctor.h"
#include "cli/eval_command.h"
#include "cli/generate_command.h"
#include "cli/inspect.h"
#include "cli/model_resolution.h"
#include "cli/repl.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/text_commands.h"
#include "common/error.h"
#include "common/log.h"

namespace {

struct Options {
  std::optional<std::string> log_level;
  std::optional<std::string> model_path;
  bool doctor = false;
  bool json = false;
  bool strict = false;
};

int run_doctor_command(const Options& o) {
  nlohmann::json report = arle::cli::run_doctor(o.model_path);
  if (o.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{}", arle::cli::render_doctor_text(report));
  }
  return o.strict && !arle::cli::doctor_passed(report) ? 1 : 0;
}

int run_inspect_command(const std::optional<std::string>& model_path, bool json) {
  arle::cli::ModelResolution model = arle::cli::resolve_model(model_path);
  nlohmann::json report = arle::cli::inspect_model(model.path);
  if (json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{}", arle::cli::render_inspect_text(report));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"arle: a native runtime for Qwen-family language models"};
  app.set_version_flag("--version", std::string("arle ") + ARLE_VERSION + " (" + ARLE_GIT_HASH + ")");
  Options top;
  app.add_option("--log-level", top.log_level,
                 "trace, debug, info, warn, error or off (default info; env ARLE_LOG_LEVEL)");
  app.add_flag("--doctor", top.doctor, "check the build, host, GPUs and model, then exit");
  app.add_flag("--json", top.json, "with --doctor: print the report as JSON (schema in docs/doctor.md)");
  app.add_flag("--strict", top.strict, "with --doctor: exit 1 when any check fails");
  app.add_option("--model-path", top.model_path, "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
  // `arle` alone is the interactive agent; these flags are its.
  arle::cli::AgentCommandOptions repl_options;
  arle::cli::add_agent_options(app, repl_options, /*top_level=*/true);
  arle::cli::add_engine_options(app, repl_options.engine);

  arle::cli::RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "the agent on one task (--prompt or --stdin), then exit");
  arle::cli::add_run_options(*run, run_options);

  std::optional<std::string> inspect_model;
  bool inspect_json = false;
  CLI::App* inspect = app.add_subcommand("inspect", "describe a model folder and check its tensors");
  inspect->add_option("--model-path", inspect_model, "model folder or .safetensors file");
  inspect->add_flag("--json", inspect_json, "print the report as JSON");

  arle::cli::TokenizeOptions tokenize_options;
  std::optional<std::string> tokenize_model;
  CLI::App* tokenize = app.add_subcommand("tokenize", "text -> token ids with the model's tokenizer");
  tokenize->add_option("--model-path", tokenize_model, "model folder, or a folder with only tokenizer files");
  tokenize->add_option("--text", tokenize_options.text, "text to tokenize");
  tokenize->add_option("--file", tokenize_options.file, "file whose bytes to tokenize");
  tokenize->add_flag("--no-special", tokenize_options.no_special, "do not add BOS/EOS");
  tokenize->add_flag("--json", tokenize_options.json, "print {\"ids\", \"tokens\", \"count\"}");

  std::optional<std::string> detokenize_model;
  std::string detokenize_ids;
  bool skip_special = false;
  CLI::App* detokenize = app.add_subcommand("detokenize", "token ids -> text");
  detokenize->add_option("--model-path", detokenize_model, "model folder, or a folder with only tokenizer files");
  detokenize->add_option("--ids", detokenize_ids, "comma-separated ids, e.g. 1,2,3")->required();
  detokenize->add_flag("--skip-special", skip_special, "drop special tokens (BOS, EOS, <|im_end|>...)");

  arle::cli::ChatTemplateOptions template_options;
  std::optional<std::string> template_model;
  CLI::App* chat_template = app.add_subcommand("chat-template", "render the model's chat template for a conversation");
  chat_template->add_option("--model-path", template_model, "model folder, or a folder with only tokenizer files");
  chat_template->add_option("--messages", template_options.messages_file, "JSON file with a list of OpenAI messages")
      ->required();
  chat_template->add_option("--tools", template_options.tools_file, "JSON file with a list of OpenAI tools");
  chat_template->add_flag("--no-generation-prompt", template_options.no_generation_prompt,
                          "do not open the assistant turn");
  chat_template->add_option("--template-kwargs", template_options.template_kwargs,
                            "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}'");

  arle::cli::GenerateOptions generate_options;
  std::optional<std::string> generate_model;
  CLI::App* generate =
      app.add_subcommand("generate", "complete a prompt with the model (raw text, ids or one chat turn)");
  generate->add_option("--model-path", generate_model,
                       "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
  generate->add_option("--prompt", generate_options.prompt, "prompt text (BOS added as the tokenizer says)");
  generate->add_option("--prompt-ids", generate_options.prompt_ids, "prompt token ids, e.g. 1,2,3");
  generate->add_option("--chat", generate_options.chat, "one user message, rendered with the model's chat template");
  generate->add_option("--max-tokens", generate_options.max_tokens, "tokens to generate at most (default 256)");
  generate->add_option("--temperature", generate_options.temperature,
                       "0 for greedy (default: generation_config, else 1)");
  generate->add_option("--top-p", generate_options.top_p, "nucleus sampling mass in (0, 1]");
  generate->add_option("--top-k", generate_options.top_k, "keep the k most likely tokens (0: off)");
  generate->add_option("--min-p", generate_options.min_p, "drop tokens below min_p x the top probability");
  generate->add_option("--repetition-penalty", generate_options.repetition_penalty, "> 1 discourages repeats");
  generate->add_option("--presence-penalty", generate_options.presence_penalty, "in [-2, 2]");
  generate->add_option("--frequency-penalty", generate_options.frequency_penalty, "in [-2, 2]");
  generate->add_option("--seed", generate_options.seed, "random seed: the same seed gives the same sample");
  generate->add_option("--stop", generate_options.stop, "stop string (repeatable); not included in the output");
  generate->add_option("--logprobs", generate_options.logprobs, "report each token's logprob and the top N (0-20)");
  generate->add_flag("--echo", generate_options.echo, "print the prompt too, and with --json its prompt_logprobs");
  generate->add_flag("--stream", generate_options.stream, "print text as it is generated");
  generate->add_flag("--json", generate_options.json, "print one JSON object (with --stream: deltas first)");
  generate->add_flag("--ignore-eos", generate_options.ignore_eos, "do not stop at end-of-sequence tokens");
  arle::cli::add_compute_options(*generate, generate_options.compute);
  generate->add_option("--prefill-chunk", generate_options.prefill_chunk,
                       "prompt tokens per forward step (default 512)");

  arle::cli::BenchOptions bench_options;
  std::optional<std::string> bench_model;
  CLI::App* bench = app.add_subcommand("bench", "engine benchmarks (throughput, latency)");
  bench->require_subcommand(1);
  CLI::App* throughput = bench->add_subcommand("throughput", "many random-token requests at once: tokens/s");
  CLI::App* latency = bench->add_subcommand("latency", "one request at a time: time to first token, time per token");
  for (CLI::App* b : {throughput, latency}) {
    b->add_option("--model-path", bench_model, "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
    b->add_option("--seed", bench_options.seed, "random seed for prompts and lengths (default 0)");
    arle::cli::add_compute_options(*b, bench_options.compute);
    b->add_flag("--json", bench_options.json, "print the report as JSON");
    arle::cli::add_engine_options(*b, bench_options.engine);
  }
  throughput->add_option("--num-prompts", bench_options.num_prompts, "requests (default 64)");
  throughput->add_option("--input-len", bench_options.input_len, "prompt length MIN,MAX (default 100,1024)");
  throughput->add_option("--output-len", bench_options.output_len, "output length MIN,MAX (default 100,1024)");
  latency->add_option("--input-len", bench_options.latency_input, "prompt tokens (default 128)");
  latency->add_option("--output-len", bench_options.latency_output, "output tokens (default 128)");
  latency->add_option("--iterations", bench_options.iterations, "timed runs after one warm-up (default 5)");

  arle::cli::ServeOptions serve_options;
  std::optional<std::string> serve_model;
  CLI::App* serve = app.add_subcommand("serve", "OpenAI-compatible HTTP server on the engine");
  serve->add_option("--model-path", serve_model, "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
  serve->add_option("--host", serve_options.host, "address to bind (default 127.0.0.1)");
  serve->add_option("--port", serve_options.port, "port (default 8000; 0 picks a free one)");
  serve->add_option("--served-model-name", serve_options.served_model_name, "the model id clients use");
  serve->add_option("--api-key", serve_options.api_key, "require 'Authorization: Bearer KEY' (or $ARLE_API_KEY)");
  serve->add_option("--max-model-len", serve_options.max_model_len, "prompt + output limit (default: the model's)");
  arle::cli::add_compute_options(*serve, serve_options.compute);
  serve->add_option("--max-connections", serve_options.max_connections, "open connections; beyond, 503 (default 1024)");
  serve->add_option("--idle-timeout", serve_options.idle_timeout_seconds,
                    "seconds a connection may stay silent or stalled (default 120)");
  arle::cli::add_engine_options(*serve, serve_options.engine);

  arle::cli::EvalCommandOptions eval_options;
  std::optional<std::string> eval_model;
  CLI::App* eval = app.add_subcommand("eval", "MMLU, GSM8K or HellaSwag on the local engine or any OpenAI server");
  eval->add_option("task", eval_options.eval.task, "mmlu, gsm8k or hellaswag")->required();
  eval->add_option("--model-path", eval_model, "model folder (default: $ARLE_MODEL, then the bundled stories260K)");
  eval->add_option("--base-url", eval_options.base_url,
                   "an OpenAI-compatible server instead, e.g. http://HOST:8000/v1");
  eval->add_option("--model", eval_options.model, "with --base-url: the served model's id");
  eval->add_option("--api-key", eval_options.api_key, "with --base-url: sent as 'Authorization: Bearer KEY'");
  eval->add_option("--num-fewshot", eval_options.eval.num_fewshot,
                   "examples before each question (default: mmlu 5, gsm8k 5, hellaswag 0)");
  eval->add_option("--limit", eval_options.eval.limit, "questions (mmlu: per subject; default all)");
  eval->add_option("--subjects", eval_options.subjects, "mmlu: comma-separated subjects (default all 57)");
  eval->add_option("--mode", eval_options.eval.mode, "mmlu: loglikelihood (default) or generate");
  eval->add_option("--concurrency", eval_options.concurrency, "requests in flight (default 32)");
  eval->add_option("--seed", eval_options.eval.seed, "recorded in the report (every request is greedy)");
  eval->add_option("--max-gen-tokens", eval_options.eval.max_gen_tokens, "gsm8k: completion tokens (default 256)");
  eval->add_option("--data-dir", eval_options.data_dir, "folder with mmlu/, gsm8k/, hellaswag/ (default: bundled)");
  eval->add_option("--output", eval_options.output, "write the full report (JSON) here");
  eval->add_flag("--record-tokens", eval_options.eval.record_tokens, "keep each request's token ids in the report");
  eval->add_option("--timeout", eval_options.timeout_seconds,
                   "with --base-url: seconds one try may take (default 600)");
  eval->add_option("--retries", eval_options.retries,
                   "with --base-url: tries again on 429, 503 or no answer (default 4)");
  arle::cli::add_compute_options(*eval, eval_options.compute);
  arle::cli::add_engine_options(*eval, eval_options.engine);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "arle: error: %s (see arle --help)\n", e.what());
    return 2;
  }

  try {
    arle::log::init(top.log_level);
    if (top.doctor) return run_doctor_command(top);
    if (inspect->parsed()) return run_inspect_command(inspect_model ? inspect_model : top.model_path, inspect_json);
    if (tokenize->parsed()) {
      tokenize_options.model_path = arle::cli::resolve_model(tokenize_model ? tokenize_model : top.model_path).path;
      return arle::cli::run_tokenize(tokenize_options);
    }
    if (chat_template->parsed()) {
      template_options.model_path = arle::cli::resolve_model(template_model ? template_model : top.model_path).path;
      return arle::cli::run_chat_template(template_options);
    }
    if (serve->parsed()) {
      serve_options.model_path = arle::cli::resolve_model(serve_model ? serve_model : top.model_path).path;
      return arle::cli::run_serve(serve_options);
    }
    if (bench->parsed()) {
      bench_options.model_path = arle::cli::resolve_model(bench_model ? bench_model : top.model_path).path;
      return throughput->parsed() ? arle::cli::run_bench_throughput(bench_options)
                                  : arle::cli::run_bench_latency(bench_options);
    }
    if (eval->parsed()) {
      if (!eval_options.base_url) {
        eval_options.model_path = arle::cli::resolve_model(eval_model ? eval_model : top.model_path).path;
      }
      return arle::cli::run_eval_command(eval_options);
    }
    if (generate->parsed()) {
      generate_options.model_path = arle::cli::resolve_model(generate_model ? generate_model : top.model_path).path;
      return arle::cli::run_generate(generate_options);
    }
    if (detokenize->parsed()) {
      auto model = arle::cli::resolve_model(detokenize_model ? detokenize_model : top.model_path);
      return arle::cli::run_detokenize(model.path, detokenize_ids, skip_special);
    }
    if (run->parsed()) return arle::cli::run_agent_task(run_options);
    if (top.json || top.strict) {
      throw arle::Error(arle::ErrorCode::kInvalidArgument, "--json and --strict go with --doctor");
    }
    repl_options.model_path = top.model_path;
    return arle::cli::run_repl(repl_options);
  } catch (const arle::Error& e) {
    std::fprintf(stderr, "arle: error: %s\n", e.what());
    return e.code() == arle::ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arle: internal error: %s\n", e.what());
    return 1;
  }
}
