#pragma once
// `arle serve`: the OpenAI-compatible HTTP server on the engine.

#include <optional>
#include <string>

#include "cli/engine_options.h"

namespace arle::cli {

struct ServeOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::optional<std::string> served_model_name;
  std::optional<std::string> api_key;  // else $ARLE_API_KEY
  std::optional<std::int64_t> max_model_len;
  std::optional<int> threads;
  EngineOptions engine;
};

int run_serve(const ServeOptions& options);

}  // namespace arle::cli
