#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>

#include "common/error.h"
#include "engine/sampler.h"
#include "engine/stop_strings.h"
#include "text/incremental_detokenizer.h"

namespace arle::engine {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

void validate_generate_request(const GenerateRequest& request, const model::ModelConfig& config) {
  const std::vector<std::int32_t>& prompt = request.prompt_ids;
  if (prompt.empty()) throw_error(ErrorCode::kInvalidArgument, "the prompt is empty");
  for (std::int32_t id : prompt) {
    if (id < 0 || id >= config.vocab_size) {
      throw_error(ErrorCode::kInvalidArgument, "prompt token id {} is outside the vocabulary [0, {})", id,
                  config.vocab_size);
    }
  }
  if (request.max_tokens < 0) throw_error(ErrorCode::kInvalidArgument, "max_tokens must be non-negative");
  if (request.prefill_chunk < 1) throw_error(ErrorCode::kInvalidArgument, "prefill_chunk must be positive");
  if (static_cast<std::int64_t>(prompt.size()) >= config.max_position_embeddings) {
    throw_error(ErrorCode::kInvalidArgument, "the prompt has {} tokens; the model's context is {}", prompt.size(),
                config.max_position_embeddings);
  }
  validate_sampling_params(request.sampling, config.vocab_size);
}

GenerateOutput generate(model::CausalLm& model, const text::Tokenizer& tokenizer, const GenerateRequest& request,
                        const std::function<void(std::string_view)>& on_text) {
  const model::ModelConfig& config = model.config();
  validate_generate_request(request, config);
  const std::vector<std::int32_t>& prompt = request.prompt_ids;
  const auto prompt_len = static_cast<std::int64_t>(prompt.size());
  const std::int64_t context = config.max_position_embeddings;
  const std::int64_t max_tokens = std::min(request.max_tokens, context - prompt_len);
  Sampler sampler(request.sampling, prompt, config.vocab_size);

  // Pages for the whole sequence up front: one sequence never waits for memory.
  const std::int64_t capacity = prompt_len + max_tokens;
  // One state slot for hybrid models' linear-attention layers (none used
  // by other models), zeroed: nothing seen yet.
  model::PagedKvCache cache(config, std::max<std::int64_t>(1, model::pages_for_tokens(capacity)),
                            model::kDefaultPageSize, model.kv_storage(), /*state_slots=*/1);
  std::vector<std::int32_t> page_table(static_cast<std::size_t>(cache.num_pages()));
  std::iota(page_table.begin(), page_table.end(), 0);
  std::vector<std::int32_t> state_slots;
  if (cache.has_state()) {
    cache.zero_state(0);
    state_slots = {0};
  }

  GenerateOutput out;
  text::IncrementalDetokenizer detokenizer(tokenizer, /*skip_special_tokens=*/true, prompt);
  StopStrings stops(request.stop);
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    out.text += piece;
    if (on_text) on_text(piece);
  };

  // Prefill. Logits are needed for the last prompt row, or for every row
  // when the caller wants prompt logprobs.
  const auto prefill_start = Clock::now();
  const bool on_device = model.samples_on_device();
  Tensor last_logits;
  std::optional<SampleResult> first;  // the first token, when the device picked it
  if (request.prompt_logprobs) out.prompt_logprobs.emplace_back();
  for (std::int64_t begin = 0; begin < prompt_len; begin += request.prefill_chunk) {
    const std::int64_t end = std::min(prompt_len, begin + request.prefill_chunk);
    model::ForwardBatch batch;
    batch.page_tables.push_back(&page_table);
    batch.state_slots = state_slots;
    for (std::int64_t p = begin; p < end; ++p) {
      batch.add_row(prompt[p], p, 0, request.prompt_logprobs || p == prompt_len - 1);
    }
    Tensor logits;
    if (on_device && end == prompt_len) {
      // The last row is sampled on the device; prompt-logprob rows come back.
      std::vector<std::int32_t> host_rows(batch.logit_rows.size() - 1);
      std::iota(host_rows.begin(), host_rows.end(), 0);
      const auto last = static_cast<std::int32_t>(host_rows.size());
      model::CausalLm::StepOutput o = model.forward_and_sample(batch, cache, host_rows, {sampler.device_row(last)});
      first = sampler.accept(std::move(o.sampled[0]));
      logits = std::move(o.logits);
    } else {
      logits = model.forward(batch, cache);
    }
    if (request.prompt_logprobs) {
      for (std::int64_t p = begin; p < end && p + 1 < prompt_len; ++p) {
        out.prompt_logprobs.emplace_back(token_logprob(logits.data<float>() + (p - begin) * config.vocab_size,
                                                       config.vocab_size, prompt[p + 1],
                                                       std::max(request.sampling.logprobs, 0)));
      }
    }
    if (end == prompt_len && !first) last_logits = logits.narrow_rows(logits.size(0) - 1, logits.size(0));
  }
  out.timing.prefill_seconds = seconds_since(prefill_start);

  const auto decode_start = Clock::now();
  out.finish_reason = "length";
  for (std::int64_t step = 0; step < max_tokens; ++step) {
    SampleResult sampled{};
    if (step > 0) {
      model::ForwardBatch batch;
      batch.page_tables.push_back(&page_table);
      batch.state_slots = state_slots;
      batch.add_row(out.token_ids.back(), prompt_len + step - 1, 0, true);
      ++out.timing.decode_steps;
      if (model.samples_on_device()) {
        // Only the token (and its logprobs) comes back from the device.
        model::CausalLm::StepOutput o = model.forward_and_sample(batch, cache, {}, {sampler.device_row(0)});
        sampled = sampler.accept(std::move(o.sampled[0]));
      } else {
        last_logits = model.forward(batch, cache);
        sampled = sampler.sample(last_logits.data<float>());
      }
    } else {
      sampled = first ? std::move(*first) : sampler.sample(last_logits.data<float>());
    }
    out.token_ids.push_back(sampled.token);
    if (request.sampling.logprobs >= 0) out.logprobs.push_back(std::move(sampled.logprob));
    if (std::find(request.stop_token_ids.begin(), request.stop_token_ids.end(), sampled.token) !=
        request.stop_token_ids.end()) {
      out.finish_reason = "stop";
      break;
    }
    emit(stops.push(detokenizer.push(sampled.token)));
    if (stops.stopped()) {
      out.finish_reason = "stop";
      break;
    }
  }
  if (!stops.stopped()) emit(stops.push(detokenizer.finish()));
  if (!stops.stopped()) emit(stops.finish());
  out.timing.decode_seconds = seconds_since(decode_start);
  return out;
}

}  // namespace arle::engine
