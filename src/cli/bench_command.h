#pragma once
// `arle bench throughput` and `arle bench latency`: the engine under load
// and for one request, on random-token prompts. The same commands measure
// the GPU backend later.

#include <cstdint>
#include <optional>
#include <string>

#include "cli/compute_options.h"
#include "cli/engine_options.h"

namespace arle::cli {

struct BenchOptions {
  std::string model_path;
  EngineOptions engine;
  ComputeOptions compute;  // --threads, --backend, --no-cuda-graph
  std::uint64_t seed = 0;
  bool json = false;
  // throughput
  std::int64_t num_prompts = 64;
  std::string input_len = "100,1024";  // MIN,MAX (uniform)
  std::string output_len = "100,1024";
  // latency
  std::int64_t latency_input = 128, latency_output = 128;
  int iterations = 5;
};

int run_bench_throughput(const BenchOptions& options);
int run_bench_latency(const BenchOptions& options);

}  // namespace arle::cli
