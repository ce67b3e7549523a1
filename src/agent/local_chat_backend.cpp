#include "agent/local_chat_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/error.h"

namespace arle::agent {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Templates read tool-call arguments as objects; the conversation keeps
// OpenAI's strings.
Json template_messages(const Json& messages) {
  Json out = messages;
  for (Json& m : out) {
    if (!m.contains("content") || m["content"].is_null()) m["content"] = "";
    if (!m.contains("tool_calls")) continue;
    for (Json& call : m["tool_calls"]) {
      Json& args = call["function"]["arguments"];
      if (!args.is_string()) continue;
      try {
        args = Json::parse(args.get<std::string>());
      } catch (const std::exception&) {
        // Kept as the model wrote it; templates print strings as they are.
      }
    }
  }
  return out;
}

// Plain continuation for a model without a chat template: the texts in
// order, a newline before each message that is not the model's own (the
// model continues its prompt directly).
std::string plain_text(const Json& messages) {
  std::string text;
  for (const Json& m : messages) {
    const std::string content = m.value("content", Json("")).is_string() ? m["content"].get<std::string>() : "";
    if (m.value("role", "") != "assistant" && !text.empty() && text.back() != '\n') text += '\n';
    text += content;
  }
  return text;
}

// Waits for a handle's deltas while watching a cancel flag.
class DeltaReader {
 public:
  explicit DeltaReader(std::shared_ptr<engine::RequestHandle> handle) : handle_(std::move(handle)) {
    state_ = std::make_shared<State>();
    handle_->on_ready([state = state_] {
      {
        std::lock_guard<std::mutex> lock(state->mutex);
        state->ready = true;
      }
      state->wake.notify_one();
    });
  }
  ~DeltaReader() {
    if (!ended_) {
      handle_->cancel();
      handle_->on_ready(nullptr);
    }
  }
  // The next delta, or nullopt at the end; asks the engine to stop once
  // `cancel` is set, and keeps reading until it has.
  std::optional<engine::Delta> next(const std::atomic<bool>* cancel) {
    for (;;) {
      if (cancel && cancel->load()) handle_->cancel();
      if (std::optional<engine::Delta> d = handle_->try_next(ended_)) return d;
      if (ended_) return std::nullopt;
      std::unique_lock<std::mutex> lock(state_->mutex);
      // Deltas pushed before on_ready was set are already queued: the timed
      // wait only bounds how late a cancel is seen.
      state_->wake.wait_for(lock, std::chrono::milliseconds(50), [&] { return state_->ready; });
      state_->ready = false;
    }
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    bool ready = false;
  };
  std::shared_ptr<engine::RequestHandle> handle_;
  std::shared_ptr<State> state_;
  bool ended_ = false;
};

}  // namespace

LocalChatBackend::LocalChatBackend(LocalModel model) : model_(std::move(model)) {
  if (!model_.engine || !model_.tokenizer) throw_error(ErrorCode::kInvalidArgument, "LocalChatBackend needs a model");
  if (model_.chat_template) {
    tool_format_ = text::detect_tool_call_format(model_.chat_template->source());
    template_reasons_ = text::template_teaches_reasoning(model_.chat_template->source());
  }
}

std::string LocalChatBackend::render(const Json& messages, const Json& tools,
                                     const GenerationSettings& settings) const {
  if (!model_.chat_template) return plain_text(messages);
  text::ChatTemplateInput input;
  input.messages = template_messages(messages);
  if (!tools.empty()) input.tools = tools;
  input.add_generation_prompt = true;
  input.kwargs = settings.template_kwargs;
  return model_.chat_template->render(input);
}

std::vector<std::int32_t> LocalChatBackend::prompt_ids(const std::string& rendered) {
  const bool plain = model_.chat_template == nullptr;
  ++turns_;
  if (!history_text_.empty() && rendered.size() > history_text_.size() && rendered.starts_with(history_text_)) {
    ++spliced_turns_;
    std::vector<std::int32_t> ids = history_ids_;
    const std::vector<std::int32_t> rest =
        model_.tokenizer->encode(std::string_view(rendered).substr(history_text_.size()), /*add_special_tokens=*/false);
    ids.insert(ids.end(), rest.begin(), rest.end());
    return ids;
  }
  // A template writes its own BOS; plain text gets the tokenizer's.
  return model_.tokenizer->encode(rendered, /*add_special_tokens=*/plain);
}

engine::SamplingParams LocalChatBackend::sampling(const GenerationSettings& s) const {
  const model::GenerationConfig& g = model_.generation;
  engine::SamplingParams p;
  // As transformers: do_sample false means greedy.
  const double model_temperature = g.do_sample == false ? 0.0 : g.temperature.value_or(1.0);
  p.temperature = s.temperature.value_or(model_temperature);
  p.top_p = s.top_p.value_or(g.top_p.value_or(1.0));
  p.top_k = s.top_k.value_or(g.top_k.value_or(0));
  p.min_p = g.min_p.value_or(0.0);
  p.repetition_penalty = g.repetition_penalty.value_or(1.0);
  p.seed = s.seed;
  return p;
}

TurnOutput LocalChatBackend::complete(const Json& messages, const Json& tools, const GenerationSettings& settings,
                                      const TurnSink& sink, const std::atomic<bool>* cancel) {
  TurnOutput out;
  const auto start = Clock::now();
  std::string rendered;
  engine::Request request;
  try {
    rendered = render(messages, tools, settings);
    request.prompt_ids = prompt_ids(rendered);
    request.sampling = sampling(settings);
    engine::validate_sampling_params(request.sampling, model_.vocab_size);
  } catch (const std::exception& e) {  // a template error, or a loaded conversation it cannot read
    out.finish_reason = "error";
    out.error = e.what();
    return out;
  }
  // A turn may use a quarter of the context (at least 256 tokens) unless
  // --max-tokens says otherwise: a model that never stops cannot fill it.
  const std::int64_t turn_tokens =
      settings.max_tokens > 0 ? settings.max_tokens : std::max<std::int64_t>(256, model_.max_model_len / 4);
  if (!model_.chat_template) {
    // Plain continuation slides: the oldest text goes (the BOS stays).
    const auto keep = std::max<std::int64_t>(1, model_.max_model_len - std::min(turn_tokens, model_.max_model_len / 2));
    auto& ids = request.prompt_ids;
    if (static_cast<std::int64_t>(ids.size()) > keep) {
      const bool bos = model_.tokenizer->bos_id() && !ids.empty() && ids[0] == *model_.tokenizer->bos_id();
      std::vector<std::int32_t> kept;
      if (bos) kept.push_back(ids[0]);
      kept.insert(kept.end(), ids.end() - (keep - (bos ? 1 : 0)), ids.end());
      ids = std::move(kept);
    }
  }
  const auto prompt_tokens = static_cast<std::int64_t>(request.prompt_ids.size());
  const std::int64_t room = model_.max_model_len - prompt_tokens;
  if (room <= 0) {
    out.finish_reason = "error";
    out.error = fmt::format("the conversation has {} tokens and the model's context is {}; /reset starts over",
                            prompt_tokens, model_.max_model_len);
    return out;
  }
  request.max_tokens = std::min(turn_tokens, room);
  request.eos_token_ids = model_.eos_token_ids;
  request.cache_namespace = model_.cache_namespace;
  last_prompt_ids_ = request.prompt_ids;

  text::OutputParserOptions parse;
  parse.reasoning = template_reasons_;
  parse.starts_in_reasoning = text::prompt_opens_reasoning(rendered);
  parse.tool_format = tools.empty() ? text::ToolCallFormat::kNone : tool_format_;
  parse.tools = tools;
  text::OutputParser parser(parse);
  auto emit = [&](const text::ParsedOutput& parsed) {
    if (!parsed.reasoning.empty() && sink.reasoning) sink.reasoning(parsed.reasoning);
    if (!parsed.content.empty() && sink.content) sink.content(parsed.content);
    out.reasoning += parsed.reasoning;
    out.content += parsed.content;
    out.tool_calls.insert(out.tool_calls.end(), parsed.tool_calls.begin(), parsed.tool_calls.end());
    out.parse_errors.insert(out.parse_errors.end(), parsed.errors.begin(), parsed.errors.end());
  };

  std::vector<std::int32_t> generated;
  DeltaReader reader(model_.engine->submit(std::move(request)));
  while (std::optional<engine::Delta> d = reader.next(cancel)) {
    if (!d->text.empty() && out.first_token_seconds == 0) {
      out.first_token_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
    generated.insert(generated.end(), d->token_ids.begin(), d->token_ids.end());
    emit(parser.feed(d->text));
    if (d->finish_reason) {
      out.finish_reason = *d->finish_reason;
      out.error = d->error;
    }
    if (d->usage) {
      out.usage.prompt_tokens = d->usage->prompt_tokens;
      out.usage.completion_tokens = d->usage->completion_tokens;
      out.usage.cached_tokens = d->usage->cached_tokens;
    }
  }
  emit(parser.finish());
  if (!out.tool_calls.empty() && out.finish_reason == "stop") out.finish_reason = "tool_calls";
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // The next turn continues from these tokens; the end token is the
  // template's to write again (after the message it renders).
  if (out.finish_reason == "error") {
    history_text_.clear();
    history_ids_.clear();
  } else {
    const auto& eos = model_.eos_token_ids;
    while (!generated.empty() && std::find(eos.begin(), eos.end(), generated.back()) != eos.end()) generated.pop_back();
    history_ids_ = last_prompt_ids_;
    history_ids_.insert(history_ids_.end(), generated.begin(), generated.end());
    history_text_ = rendered + model_.tokenizer->decode(generated, /*skip_special_tokens=*/false);
  }
  return out;
}

Json LocalChatBackend::stats() const {
  const engine::EngineStats s = model_.engine->stats();
  return {{"engine_steps", s.steps},
          {"prefix_cache_hit_tokens", s.cache_hit_tokens},
          {"prefix_cache_queried_tokens", s.cache_queried_tokens},
          {"turns", turns_},
          {"turns_extending_the_previous_prompt", spliced_turns_}};
}

}  // namespace arle::agent
