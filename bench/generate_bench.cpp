// Generation benchmark on the CPU backend: prefill and decode tokens/s of one
// request, per model and thread count, with resident memory and where a
// decode step's time goes (model forward, sampling, detokenization). Uses the
// same code as `arle generate` (engine::generate). Prints a Markdown table;
// never part of CI.
//
//   generate_bench --model-path DIR [--model-path DIR...] [--threads 1,2]
//                  [--prompt-tokens 256] [--decode-tokens 256] [--repeats 5]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/system_info.h"
#include "common/thread_pool.h"
#include "common/units.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "kernels/cpu/simd_kernels.h"
#include "model/causal_lm.h"
#include "text/incremental_detokenizer.h"
#include "text/tokenizer.h"

using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// VmRSS / VmHWM of this process in bytes.
std::size_t proc_status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

// Deterministic prompt ids that avoid the low special ids.
std::vector<std::int32_t> synthetic_prompt(std::int64_t n, std::int64_t vocab) {
  std::vector<std::int32_t> ids;
  std::uint64_t x = 88172645463325252ull;
  for (std::int64_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ids.push_back(static_cast<std::int32_t>(3 + x % static_cast<std::uint64_t>(vocab - 3)));
  }
  return ids;
}

struct DecodeBreakdown {
  double forward_us = 0, sample_us = 0, detokenize_us = 0;
};

// A decode loop with a stopwatch around each part of a step.
DecodeBreakdown decode_breakdown(arle::model::CausalLm& m, const arle::text::Tokenizer& tokenizer,
                                 std::int64_t steps) {
  const auto& config = m.config();
  arle::model::PagedKvCache cache(config, arle::model::pages_for_tokens(steps + 1));
  std::vector<std::int32_t> table(static_cast<std::size_t>(cache.num_pages()));
  std::iota(table.begin(), table.end(), 0);
  arle::engine::SamplingParams params;
  params.temperature = 0;
  arle::engine::Sampler sampler(params, {1}, config.vocab_size);
  arle::text::IncrementalDetokenizer detokenizer(tokenizer, true);
  DecodeBreakdown b;
  std::int32_t token = 1;
  for (std::int64_t p = 0; p < steps; ++p) {
    auto t0 = Clock::now();
    arle::model::ForwardBatch batch;
    batch.page_tables.push_back(&table);
    batch.add_row(token, p, 0, true);
    arle::Tensor logits = m.forward(batch, cache);
    auto t1 = Clock::now();
    token = sampler.sample(logits.data<float>()).token;
    auto t2 = Clock::now();
    detokenizer.push(token);
    auto t3 = Clock::now();
    b.forward_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
    b.sample_us += std::chrono::duration<double, std::micro>(t2 - t1).count();
    b.detokenize_us += std::chrono::duration<double, std::micro>(t3 - t2).count();
  }
  b.forward_us /= steps;
  b.sample_us /= steps;
  b.detokenize_us /= steps;
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"CPU generation benchmark"};
  std::vector<std::string> models;
  std::vector<int> threads{1, 2};
  std::int64_t prompt_tokens = 256, decode_tokens = 256;
  int repeats = 5;
  app.add_option("--model-path", models, "model folder (repeatable)")->required();
  app.add_option("--threads", threads, "thread counts to run")->delimiter(',');
  app.add_option("--prompt-tokens", prompt_tokens, "prefill length");
  app.add_option("--decode-tokens", decode_tokens, "tokens decoded after a 1-token prompt");
  app.add_option("--repeats", repeats, "runs per cell; the median is reported");
  CLI11_PARSE(app, argc, argv);

  try {
    fmt::print("machine: {}, {} hardware threads, SIMD {}\n", arle::system_info().cpu_model, std::thread::hardware_concurrency(),
               arle::kernels::cpu::simd_kernels().name);
    fmt::print("workload: prefill {} synthetic tokens; decode {} tokens greedy after a 1-token prompt; median of {}\n\n",
               prompt_tokens, decode_tokens, repeats);
    fmt::print("| model | shape | threads | prefill tok/s | decode tok/s | forward us/tok | sample us/tok | "
               "detok us/tok | RSS | weights |\n");
    fmt::print("|---|---|---|---|---|---|---|---|---|---|\n");
    for (const std::string& dir : models) {
      auto tokenizer = arle::text::Tokenizer::load(dir);
      auto m = arle::model::load_causal_lm(dir);
      const auto& c = m->config();
      const std::string name = std::filesystem::path(dir).filename().string();
      const std::string shape = fmt::format("L{} h{} q{}/kv{}x{} V{}", c.num_layers, c.hidden_size,
                                            c.num_attention_heads, c.num_kv_heads, c.head_dim, c.vocab_size);
      const std::int64_t prefill = std::min(prompt_tokens, c.max_position_embeddings - 2);
      const std::int64_t decode = std::min(decode_tokens, c.max_position_embeddings - 2);
      for (int t : threads) {
        arle::set_kernel_threads(t);
        std::vector<double> prefill_rates, decode_rates;
        for (int r = 0; r < repeats; ++r) {
          arle::engine::GenerateRequest p;
          p.prompt_ids = synthetic_prompt(prefill, c.vocab_size);
          p.sampling.temperature = 0;
          p.max_tokens = 1;
          auto out = arle::engine::generate(*m, *tokenizer, p);
          prefill_rates.push_back(static_cast<double>(prefill) / out.timing.prefill_seconds);

          arle::engine::GenerateRequest d;
          d.prompt_ids = {static_cast<std::int32_t>(c.bos_token_id.value_or(1))};
          d.sampling.temperature = 0;
          d.max_tokens = decode;
          auto dout = arle::engine::generate(*m, *tokenizer, d);
          decode_rates.push_back(static_cast<double>(dout.timing.decode_steps) / dout.timing.decode_seconds);
        }
        DecodeBreakdown b = decode_breakdown(*m, *tokenizer, decode);
        fmt::print("| {} | {} | {} | {:.0f} | {:.0f} | {:.1f} | {:.1f} | {:.1f} | {} | {} |\n", name, shape, t,
                   median(prefill_rates), median(decode_rates), b.forward_us, b.sample_us, b.detokenize_us,
                   arle::human_bytes(static_cast<double>(proc_status_bytes("VmHWM"))),
                   arle::human_bytes(static_cast<double>(m->weight_bytes())));
      }
    }
  } catch (const arle::Error& e) {
    fmt::print(stderr, "generate_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
