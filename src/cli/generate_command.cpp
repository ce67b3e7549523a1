#include "cli/generate_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/token_id_list.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "engine/eos_tokens.h"
#include "engine/generate.h"
#include "model/generation_config.h"
#include "text/chat_template.h"
#include "text/token_text.h"
#include "text/unicode.h"

namespace arle::cli {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order

void check_options(const GenerateOptions& o) {
  const int sources = (o.prompt ? 1 : 0) + (o.prompt_ids ? 1 : 0) + (o.chat ? 1 : 0);
  if (sources != 1) throw_error(ErrorCode::kInvalidArgument, "give exactly one of --prompt, --prompt-ids, --chat");
  if (o.max_tokens < 0) throw_error(ErrorCode::kInvalidArgument, "--max-tokens {} must be >= 0", o.max_tokens);
  if (o.prefill_chunk < 1) throw_error(ErrorCode::kInvalidArgument, "--prefill-chunk must be >= 1");
}

// Command-line flags first, then the model's generation_config.json, as vLLM does.
engine::SamplingParams sampling_params(const GenerateOptions& o, const model::GenerationConfig& defaults) {
  engine::SamplingParams p;
  p.temperature = o.temperature.value_or(defaults.temperature.value_or(1.0));
  p.top_p = o.top_p.value_or(defaults.top_p.value_or(1.0));
  p.top_k = o.top_k.value_or(defaults.top_k.value_or(0));
  p.min_p = o.min_p.value_or(defaults.min_p.value_or(0.0));
  p.repetition_penalty = o.repetition_penalty.value_or(defaults.repetition_penalty.value_or(1.0));
  p.presence_penalty = o.presence_penalty;
  p.frequency_penalty = o.frequency_penalty;
  p.seed = o.seed;
  p.logprobs = o.logprobs.value_or(-1);
  return p;
}

std::vector<std::int32_t> prompt_ids(const GenerateOptions& o, const text::Tokenizer& tokenizer) {
  if (o.prompt_ids) return parse_token_id_list(*o.prompt_ids, "--prompt-ids");
  if (o.prompt) return tokenizer.encode(*o.prompt, /*add_special_tokens=*/true);
  text::ChatTemplateInput input;
  input.messages.push_back({{"role", "user"}, {"content", *o.chat}});
  input.add_generation_prompt = true;
  // The template writes any BOS itself.
  return tokenizer.encode(text::ChatTemplate::load(o.model_path).render(input), /*add_special_tokens=*/false);
}

using text::token_text;

Json logprob_json(const text::Tokenizer& tokenizer, std::optional<std::int32_t> previous,
                  const engine::TokenLogprob& lp) {
  Json top = Json::array();
  for (const engine::TokenAlternative& alt : lp.top) {
    top.push_back(
        {{"token_id", alt.token}, {"token", token_text(tokenizer, previous, alt.token)}, {"logprob", alt.logprob}});
  }
  return {{"token_id", lp.token},
          {"token", token_text(tokenizer, previous, lp.token)},
          {"logprob", lp.logprob},
          {"top_logprobs", top}};
}

}  // namespace

int run_generate(const GenerateOptions& o) {
  check_options(o);
  apply_threads(o.compute);
  auto tokenizer = text::Tokenizer::load(o.model_path);
  const model::GenerationConfig generation = model::load_generation_config(o.model_path);

  engine::GenerateRequest request;
  request.prompt_ids = prompt_ids(o, *tokenizer);
  request.sampling = sampling_params(o, generation);
  request.max_tokens = o.max_tokens;
  request.stop = o.stop;
  request.prompt_logprobs = o.echo;
  request.prefill_chunk = o.prefill_chunk;

  // Reject bad requests before spending time on the weights.
  const model::ModelConfig config = model::load_model_config(o.model_path);
  engine::validate_generate_request(request, config);
  if (!o.ignore_eos) request.stop_token_ids = engine::model_eos_token_ids(config, generation, *tokenizer);
  auto model = load_model(o.model_path, o.compute);

  std::string prompt_text;
  if (o.echo) prompt_text = tokenizer->decode(request.prompt_ids, /*skip_special_tokens=*/true);
  if (o.stream && !o.json) {
    std::fputs(prompt_text.c_str(), stdout);
    std::fflush(stdout);
  }
  auto on_text = [&](std::string_view piece) {
    if (!o.stream) return;
    if (o.json) {
      fmt::print("{}\n", nlohmann::json{{"delta", text::utf8_lossy(piece)}}.dump());
    } else {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
    }
    std::fflush(stdout);
  };
  engine::GenerateOutput out = engine::generate(*model, *tokenizer, request, on_text);

  const auto& t = out.timing;
  log::info("prompt {} tokens in {:.1f} ms ({:.0f} tok/s); {} tokens generated, decode {:.0f} tok/s",
            request.prompt_ids.size(), t.prefill_seconds * 1e3,
            static_cast<double>(request.prompt_ids.size()) / std::max(t.prefill_seconds, 1e-9), out.token_ids.size(),
            static_cast<double>(t.decode_steps) / std::max(t.decode_seconds, 1e-9));

  if (o.json) {
    Json result{{"prompt_ids", request.prompt_ids},
                {"token_ids", out.token_ids},
                {"text", text::utf8_lossy(out.text)},
                {"finish_reason", out.finish_reason}};
    if (o.logprobs) {
      Json list = Json::array();
      std::optional<std::int32_t> previous = request.prompt_ids.back();
      for (const engine::TokenLogprob& lp : out.logprobs) {
        list.push_back(logprob_json(*tokenizer, previous, lp));
        previous = lp.token;
      }
      result["logprobs"] = list;
    }
    if (o.echo) {
      Json list = Json::array();
      for (std::size_t i = 0; i < out.prompt_logprobs.size(); ++i) {
        const auto& lp = out.prompt_logprobs[i];
        list.push_back(lp ? logprob_json(*tokenizer, request.prompt_ids[i - 1], *lp) : Json(nullptr));
      }
      result["prompt_logprobs"] = list;
    }
    fmt::print("{}\n", result.dump());
    return 0;
  }
  if (!o.stream) fmt::print("{}{}", prompt_text, out.text);
  fmt::print("\n");
  if (o.logprobs) {
    std::optional<std::int32_t> previous = request.prompt_ids.back();
    for (const engine::TokenLogprob& lp : out.logprobs) {
      fmt::print("{:>8} {:>10.4f} {}\n", lp.token, lp.logprob, Json(token_text(*tokenizer, previous, lp.token)).dump());
      previous = lp.token;
    }
  }
  return 0;
}

}  // namespace arle::cli
