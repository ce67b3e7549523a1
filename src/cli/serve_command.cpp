#include "cli/serve_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "engine/eos_tokens.h"
#include "model/causal_lm.h"
#include "model/generation_config.h"
#include "model/paged_kv_cache.h"
#include "server/http_server.h"
#include "server/openai_api.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace arle::cli {

int run_serve(const ServeOptions& o, const ModelWrapper& wrap_model) {
  engine::EngineConfig config = engine_config(o.engine);
  const model::ModelConfig model_config = model::load_model_config(o.model_path);
  server::ApiConfig api;
  api.served_model_name = o.served_model_name.value_or(std::filesystem::path(o.model_path).filename().string());
  if (o.api_key) {
    api.api_key = *o.api_key;
  } else if (const char* env = std::getenv("ARLE_API_KEY")) {
    api.api_key = env;
  }
  api.max_model_len = max_model_len(o.max_model_len, model_config);
  api.vocab_size = model_config.vocab_size;
  api.cache_namespace = std::filesystem::absolute(o.model_path).string();
  api.history_snapshots = config.scheduler.prefix_cache && config.state_snapshots != 0 &&
                          model::PagedKvCache::state_floats_per_slot(model_config) > 0;
  apply_threads(o.compute);

  auto tokenizer = text::Tokenizer::load(o.model_path);
  const model::GenerationConfig generation = model::load_generation_config(o.model_path);
  api.eos_token_ids = engine::model_eos_token_ids(model_config, generation, *tokenizer);

  std::unique_ptr<text::ChatTemplate> chat_template;
  try {
    chat_template = std::make_unique<text::ChatTemplate>(text::ChatTemplate::load(o.model_path));
  } catch (const Error& e) {
    log::warn("no chat template ({}): /v1/chat/completions will answer 400", e.what());
  }
  auto model = load_model(o.model_path, o.compute);
  if (wrap_model) model = wrap_model(std::move(model), *tokenizer);
  engine::Engine engine(*model, *tokenizer, config);
  server::OpenAiApi handler(engine, *tokenizer, chat_template.get(), api);
  server::HttpServerConfig http;
  http.host = o.host;
  http.port = o.port;
  if (o.max_connections < 1) throw_error(ErrorCode::kInvalidArgument, "--max-connections must be at least 1");
  if (o.idle_timeout_seconds < 1) throw_error(ErrorCode::kInvalidArgument, "--idle-timeout must be at least 1");
  http.max_connections = o.max_connections;
  http.idle_timeout_seconds = o.idle_timeout_seconds;
  server::HttpServer server(http, [&](const server::HttpRequest& r) { return handler.handle(r); });
  log::info("serving '{}' on http://{}:{} (max model length {})", api.served_model_name, o.host, server.port(),
            api.max_model_len);
  // Tests and scripts read the bound port (--port 0) from this line.
  std::printf("listening on http://%s:%d\n", o.host.c_str(), server.port());
  std::fflush(stdout);
  server.run();
  log::info("server stopped");
  return 0;
}

}  // namespace arle::cli
