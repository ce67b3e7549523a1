#include "cli/bench_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/progress_bar.h"
#include "common/error.h"
#include "common/system_info.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "kernels/cpu/simd_kernels.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::cli {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::pair<std::int64_t, std::int64_t> parse_range(const std::string& text, const char* flag) {
  std::int64_t lo = 0, hi = 0;
  char comma = 0;
  if (std::sscanf(text.c_str(), "%ld%c%ld", &lo, &comma, &hi) == 3 && comma == ',') {
  } else if (std::sscanf(text.c_str(), "%ld", &lo) == 1 && text.find(',') == std::string::npos) {
    hi = lo;
  } else {
    throw_error(ErrorCode::kInvalidArgument, "{} '{}' is not MIN,MAX", flag, text);
  }
  if (lo < 1 || hi < lo) throw_error(ErrorCode::kInvalidArgument, "{} {},{} needs 1 <= MIN <= MAX", flag, lo, hi);
  return {lo, hi};
}

std::vector<std::int32_t> random_prompt(std::mt19937_64& rng, std::int64_t len, std::int64_t vocab) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(len));
  for (auto& id : ids) id = static_cast<std::int32_t>(3 + rng() % static_cast<std::uint64_t>(vocab - 3));
  return ids;
}

struct Loaded {
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::unique_ptr<model::CausalLm> model;
};

Loaded load(const BenchOptions& o) {
  apply_threads(o.compute);
  Loaded l;
  l.tokenizer = text::Tokenizer::load(o.model_path);
  l.model = load_model(o.model_path, o.compute);
  return l;
}

std::string machine_line(const model::CausalLm& model) {
  const std::string cpu = fmt::format("{} ({} threads used, {} kernels)", system_info().cpu_model,
                                      kernel_thread_pool().size(), kernels::cpu::simd_kernels().name);
  const std::string device = model.device_name();
  return device == "cpu" ? cpu : fmt::format("{}; host {}", device, cpu);
}

}  // namespace

int run_bench_throughput(const BenchOptions& o) {
  if (o.num_prompts < 1) throw_error(ErrorCode::kInvalidArgument, "--num-prompts must be >= 1");
  const auto [in_lo, in_hi] = parse_range(o.input_len, "--input-len");
  const auto [out_lo, out_hi] = parse_range(o.output_len, "--output-len");
  engine::EngineConfig config = engine_config(o.engine);
  const model::ModelConfig model_config = model::load_model_config(o.model_path);
  if (in_hi + out_hi > model_config.max_position_embeddings) {
    throw_error(ErrorCode::kInvalidArgument, "--input-len max {} + --output-len max {} exceed the model's context {}",
                in_hi, out_hi, model_config.max_position_embeddings);
  }
  Loaded l = load(o);
  std::mt19937_64 rng(o.seed);
  std::vector<engine::Request> requests;
  std::int64_t prompt_tokens = 0, output_tokens = 0;
  for (std::int64_t i = 0; i < o.num_prompts; ++i) {
    engine::Request r;
    r.prompt_ids =
        random_prompt(rng, in_lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(in_hi - in_lo + 1)),
                      model_config.vocab_size);
    r.max_tokens = out_lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(out_hi - out_lo + 1));
    r.min_tokens = r.max_tokens;  // forced to length
    r.ignore_eos = true;
    r.sampling.temperature = 0;
    r.cache_namespace = o.model_path;
    prompt_tokens += static_cast<std::int64_t>(r.prompt_ids.size());
    output_tokens += r.max_tokens;
    requests.push_back(std::move(r));
  }
  engine::Engine engine(*l.model, *l.tokenizer, config);
  const auto start = Clock::now();
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  for (engine::Request& r : requests) handles.push_back(engine.submit(std::move(r)));
  std::int64_t done = 0, produced = 0;
  std::vector<std::string> errors;
  for (auto& h : handles) {
    engine::RequestResult result = engine::collect(*h, 1);
    if (!result.samples[0].error.empty()) errors.push_back(result.samples[0].error);
    produced += static_cast<std::int64_t>(result.samples[0].token_ids.size());
    print_progress(++done, o.num_prompts, seconds_between(start, Clock::now()), "requests");
  }
  const double wall = seconds_between(start, Clock::now());
  if (!errors.empty())
    throw_error(ErrorCode::kInvalidArgument, "{} requests failed, first: {}", errors.size(), errors[0]);
  const engine::EngineStats stats = engine.stats();
  const double peak_kv = static_cast<double>(stats.peak_used_pages * config.page_size);
  Json report{
      {"machine", machine_line(*l.model)},
      {"model", o.model_path},
      {"num_prompts", o.num_prompts},
      {"input_len", {in_lo, in_hi}},
      {"output_len", {out_lo, out_hi}},
      {"prompt_tokens", prompt_tokens},
      {"output_tokens", produced},
      {"wall_seconds", wall},
      {"output_tokens_per_second", static_cast<double>(produced) / wall},
      {"total_tokens_per_second", static_cast<double>(produced + prompt_tokens) / wall},
      {"prefill_tokens_per_second", static_cast<double>(prompt_tokens) / wall},
      {"steps", stats.steps},
      {"preemptions", stats.preemptions},
      {"kv_capacity_tokens", engine.capacity_tokens()},
      {"peak_kv_tokens", peak_kv},
      {"peak_kv_fraction", peak_kv / static_cast<double>(engine.capacity_tokens())},
      {"prefix_cache_hit_tokens", stats.cache_hit_tokens},
      {"step_seconds",
       {{"schedule", stats.schedule_seconds}, {"model", stats.model_seconds}, {"outputs", stats.output_seconds}}}};
  if (o.json) {
    fmt::print("{}\n", report.dump(2));
    return 0;
  }
  fmt::print("machine:     {}\n", report["machine"].get<std::string>());
  fmt::print("workload:    {} prompts, input {}..{}, output {}..{} tokens (ignore_eos), seed {}\n", o.num_prompts,
             in_lo, in_hi, out_lo, out_hi, o.seed);
  fmt::print("wall time:   {:.2f} s ({} steps, {} preemptions)\n", wall, stats.steps, stats.preemptions);
  fmt::print("output:      {} tokens, {:.1f} tok/s\n", produced, static_cast<double>(produced) / wall);
  fmt::print("prompt:      {} tokens, {:.1f} tok/s over the run\n", prompt_tokens,
             static_cast<double>(prompt_tokens) / wall);
  fmt::print("total:       {:.1f} tok/s\n", static_cast<double>(produced + prompt_tokens) / wall);
  fmt::print("peak KV:     {:.0f} of {} tokens ({:.0f}%)\n", peak_kv, engine.capacity_tokens(),
             100 * peak_kv / static_cast<double>(engine.capacity_tokens()));
  fmt::print("prefix hit:  {} of {} prompt tokens\n", stats.cache_hit_tokens, stats.cache_queried_tokens);
  fmt::print("step time:   schedule {:.2f} s, model {:.2f} s, outputs {:.2f} s\n", stats.schedule_seconds,
             stats.model_seconds, stats.output_seconds);
  return 0;
}

int run_bench_latency(const BenchOptions& o) {
  if (o.latency_input < 1 || o.latency_output < 1 || o.iterations < 1) {
    throw_error(ErrorCode::kInvalidArgument, "--input-len, --output-len and --iterations must be >= 1");
  }
  engine::EngineConfig config = engine_config(o.engine);
  const model::ModelConfig model_config = model::load_model_config(o.model_path);
  if (o.latency_input + o.latency_output > model_config.max_position_embeddings) {
    throw_error(ErrorCode::kInvalidArgument, "--input-len + --output-len exceed the model's context {}",
                model_config.max_position_embeddings);
  }
  config.scheduler.prefix_cache = false;  // every iteration prefills in full
  Loaded l = load(o);
  engine::Engine engine(*l.model, *l.tokenizer, config);
  std::mt19937_64 rng(o.seed);
  std::vector<double> ttft, tpot;
  for (int it = 0; it < o.iterations + 1; ++it) {  // the first run warms up
    engine::Request r;
    r.prompt_ids = random_prompt(rng, o.latency_input, model_config.vocab_size);
    r.max_tokens = r.min_tokens = o.latency_output;
    r.ignore_eos = true;
    r.sampling.temperature = 0;
    const auto start = Clock::now();
    auto handle = engine.submit(r);
    std::optional<Clock::time_point> first;
    std::int64_t tokens = 0;
    while (auto d = handle->next()) {
      if (!d->error.empty()) throw_error(ErrorCode::kInvalidArgument, "{}", d->error);
      if (d->token_ids.empty()) continue;
      tokens += static_cast<std::int64_t>(d->token_ids.size());
      if (!first) first = Clock::now();
    }
    const auto end = Clock::now();
    if (it == 0 || !first) continue;
    ttft.push_back(seconds_between(start, *first) * 1e3);
    if (tokens > 1) tpot.push_back(seconds_between(*first, end) * 1e3 / static_cast<double>(tokens - 1));
    print_progress(it, o.iterations, seconds_between(start, end), "requests");
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  Json report{
      {"machine", machine_line(*l.model)}, {"model", o.model_path},
      {"input_len", o.latency_input},      {"output_len", o.latency_output},
      {"iterations", o.iterations},        {"ttft_ms_median", median(ttft)},
      {"tpot_ms_median", median(tpot)},    {"decode_tokens_per_second", median(tpot) > 0 ? 1e3 / median(tpot) : 0.0}};
  if (o.json) {
    fmt::print("{}\n", report.dump(2));
    return 0;
  }
  fmt::print("machine:   {}\n", report["machine"].get<std::string>());
  fmt::print("workload:  one request, {} prompt tokens, {} output tokens, median of {}\n", o.latency_input,
             o.latency_output, o.iterations);
  fmt::print("TTFT:      {:.2f} ms\n", median(ttft));
  fmt::print("TPOT:      {:.3f} ms ({:.0f} tok/s)\n", median(tpot), report["decode_tokens_per_second"].get<double>());
  return 0;
}

}  // namespace arle::cli
