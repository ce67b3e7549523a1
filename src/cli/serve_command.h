#pragma once
// `arle serve`: the OpenAI-compatible HTTP server on the engine.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/compute_options.h"
#include "cli/engine_options.h"
#include "model/causal_lm.h"
#include "text/tokenizer.h"

namespace arle::cli {

struct ServeOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::optional<std::string> served_model_name;
  std::optional<std::string> api_key;  // else $ARLE_API_KEY
  std::optional<std::int64_t> max_model_len;
  ComputeOptions compute;          // --threads, --backend, --no-cuda-graph
  int max_connections = 1024;      // beyond: 503
  int idle_timeout_seconds = 120;  // a connection silent this long is closed
  EngineOptions engine;
};

int run_serve(const ServeOptions& options, const ModelWrapper& wrap_model = {});

}  // namespace arle::cli
