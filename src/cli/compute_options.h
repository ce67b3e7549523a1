#pragma once
// Where a command that runs a model computes: --threads, --backend and
// --no-cuda-graph, shared by generate, bench and serve.

#include <memory>
#include <optional>
#include <string>

#include "model/causal_lm.h"

namespace CLI {
class App;
}

namespace arle::cli {

struct ComputeOptions {
  std::optional<int> threads;
  std::string backend = "auto";  // auto, cpu or cuda
  bool no_cuda_graph = false;
};

void add_compute_options(CLI::App& app, ComputeOptions& o);
// Sets the CPU kernel threads (when given).
void apply_threads(const ComputeOptions& o);
// The model at `path` on the backend `o` names.
std::unique_ptr<model::CausalLm> load_model(const std::string& path, const ComputeOptions& o);

}  // namespace arle::cli
