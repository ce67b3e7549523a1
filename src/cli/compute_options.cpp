#include "cli/compute_options.h"

#include <CLI/CLI.hpp>

#include "common/thread_pool.h"

namespace arle::cli {

void add_compute_options(CLI::App& app, ComputeOptions& o) {
  app.add_option("--threads", o.threads, "CPU threads (default: $ARLE_THREADS or all)");
  app.add_option("--backend", o.backend, "auto (CUDA when a GPU runs it), cpu or cuda");
  app.add_flag("--no-cuda-graph", o.no_cuda_graph, "CUDA: run decode steps eagerly instead of replaying CUDA graphs");
}

void apply_threads(const ComputeOptions& o) {
  if (o.threads) set_kernel_threads(*o.threads);
}

std::unique_ptr<model::CausalLm> load_model(const std::string& path, const ComputeOptions& o) {
  return model::load_causal_lm(path, model::parse_backend(o.backend), !o.no_cuda_graph);
}

}  // namespace arle::cli
