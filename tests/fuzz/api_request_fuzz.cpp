// Arbitrary request bodies through the OpenAI API handlers on a real engine
// (the qwen3-tiny fixture: real tokenizer and chat template). The first byte
// picks the route; the rest is the body. Every answer must be a well-formed
// response: JSON with a 2xx/4xx/503 status, never a 500 or a crash. Requests
// that generate are read for a few deltas, then cancelled, so the engine
// keeps up with the fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"
#include "engine/eos_tokens.h"
#include "model/causal_lm.h"
#include "model/generation_config.h"
#include "server/openai_api.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace {

constexpr const char* kModel = ARLE_SOURCE_DIR "/tests/fixtures/models/qwen3-tiny";
constexpr const char* kRoutes[] = {"/v1/chat/completions", "/v1/completions", "/v1/responses", "/tokenize",
                                   "/detokenize"};

struct Server {
  std::unique_ptr<arle::text::Tokenizer> tokenizer = arle::text::Tokenizer::load(kModel);
  arle::text::ChatTemplate chat_template = arle::text::ChatTemplate::load(kModel);
  std::unique_ptr<arle::model::CausalLm> model = arle::model::load_causal_lm(kModel);
  std::unique_ptr<arle::engine::Engine> engine;
  std::unique_ptr<arle::server::OpenAiApi> api;

  Server() {
    arle::engine::EngineConfig config;
    config.kv_cache_bytes = 64u << 20;
    config.max_waiting_requests = 64;
    engine = std::make_unique<arle::engine::Engine>(*model, *tokenizer, config);
    arle::server::ApiConfig api_config;
    api_config.served_model_name = "qwen3-tiny";
    api_config.max_model_len = 2048;
    api_config.vocab_size = model->config().vocab_size;
    api_config.cache_namespace = kModel;
    api_config.eos_token_ids = arle::engine::model_eos_token_ids(
        model->config(), arle::model::load_generation_config(kModel), *tokenizer);
    api = std::make_unique<arle::server::OpenAiApi>(*engine, *tokenizer, &chat_template, api_config);
  }
};

void check_whole(const arle::server::HttpResponse& r) {
  if (r.status == 500 || r.status < 200) std::abort();
  if (r.content_type == "application/json" && !nlohmann::json::accept(r.body)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Server server;
  if (size == 0) return 0;
  arle::server::HttpRequest request;
  request.method = "POST";
  request.path = kRoutes[data[0] % std::size(kRoutes)];
  request.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  arle::server::Reply reply = server.api->handle(request);
  if (!reply.pending) {
    check_whole(reply.response);
    return 0;
  }
  arle::server::PendingReply& p = *reply.pending;
  for (std::size_t i = 0; i < p.handles.size(); ++i) {
    int deltas = 0;
    while (std::optional<arle::engine::Delta> d = p.handles[i]->next()) {
      p.on_delta(i, *d);
      if (++deltas == 4) p.handles[i]->cancel();
    }
  }
  if (p.finish) {
    check_whole(p.finish());
  } else if (p.on_end) {
    p.on_end();
  }
  return 0;
}
