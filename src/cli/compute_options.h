#pragma once
// Where a command that runs a model computes: --threads, --backend and
// --no-cuda-graph, shared by generate, bench and serve.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "model/causal_lm.h"
#include "text/tokenizer.h"

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
// Wraps the loaded model before the engine sees it. The product passes none;
// the API and agent tests pass a model whose output tokens they script.
using ModelWrapper = std::function<std::unique_ptr<model::CausalLm>(std::unique_ptr<model::CausalLm> model,
                                                                    const text::Tokenizer& tokenizer)>;

// The model at `path` on the backend `o` names.
std::unique_ptr<model::CausalLm> load_model(const std::string& path, const ComputeOptions& o);

}  // namespace arle::cli
