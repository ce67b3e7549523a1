#include "eval/remote_backend.h"

#include <fmt/format.h>

#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"
#include "eval/prefix_schedule.h"

namespace arle::eval {
namespace {

using Json = nlohmann::json;

// The server's own words for a failed request: OpenAI's error.message, else the body.
std::string server_message(const std::string& body) {
  try {
    const Json j = Json::parse(body);
    if (j.contains("error") && j["error"].is_object() && j["error"].contains("message")) {
      return j["error"]["message"].get<std::string>();
    }
  } catch (const std::exception&) {
  }
  return body.substr(0, 300);
}

}  // namespace

RemoteBackend::RemoteBackend(const std::string& base_url, std::string model, std::string api_key, int concurrency,
                             net::RetryPolicy retry, std::uint64_t seed)
    : api_(net::parse_http_url(base_url)),
      model_(std::move(model)),
      api_key_(std::move(api_key)),
      concurrency_(std::max(concurrency, 1)),
      retry_(retry),
      seed_(seed) {
  root_ = api_;
  // The OpenAI API lives under /v1; /tokenize at the server's root (vLLM's and arle's layout).
  if (root_.path.size() >= 3 && root_.path.compare(root_.path.size() - 3, 3, "/v1") == 0) {
    root_.path.resize(root_.path.size() - 3);
  }
  description_ = fmt::format("remote {} {}", base_url, model_);
  std::string error;
  const std::string body =
      post(false, "/tokenize", Json{{"model", model_}, {"prompt", "a"}, {"add_special_tokens", false}}.dump(), error);
  if (!error.empty()) throw_error(ErrorCode::kIo, "{}: /tokenize: {}", base_url, error);
  const Json reply = Json::parse(body, nullptr, false);
  if (!reply.is_object() || !reply.contains("max_model_len") || !reply["max_model_len"].is_number_integer()) {
    throw_error(ErrorCode::kInvalidArgument, "{}: /tokenize did not say max_model_len", base_url);
  }
  max_length_ = reply["max_model_len"].get<std::int64_t>();
}

std::string RemoteBackend::post(bool api, const std::string& path, const std::string& body, std::string& error) const {
  try {
    const net::HttpReply reply = net::http_request(api ? api_ : root_, path, body, api_key_, retry_);
    if (reply.status == 200) return reply.body;
    error = fmt::format("HTTP {}: {}", reply.status, server_message(reply.body));
  } catch (const Error& e) {
    error = e.what();
  }
  return {};
}

std::vector<std::int32_t> RemoteBackend::tokenize_one(const std::string& text) const {
  std::string error;
  const std::string body =
      post(false, "/tokenize", Json{{"model", model_}, {"prompt", text}, {"add_special_tokens", false}}.dump(), error);
  if (!error.empty()) throw_error(ErrorCode::kIo, "/tokenize: {}", error);
  const Json reply = Json::parse(body, nullptr, false);
  if (!reply.is_object() || !reply.contains("tokens") || !reply["tokens"].is_array()) {
    throw_error(ErrorCode::kIo, "/tokenize: the reply has no token list");
  }
  return reply["tokens"].get<std::vector<std::int32_t>>();
}

std::vector<std::vector<std::int32_t>> RemoteBackend::tokenize(const std::vector<std::string>& texts) {
  // Without a schedule: texts share no computation on the server.
  std::vector<std::size_t> alone(texts.size());
  for (std::size_t i = 0; i < alone.size(); ++i) alone[i] = i;
  std::string first_error;
  std::mutex error_mutex;
  auto tokens = parallel<std::vector<std::int32_t>>(alone, nullptr, [&](std::size_t i) {
    try {
      return tokenize_one(texts[i]);
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (first_error.empty()) first_error = e.what();
      return std::vector<std::int32_t>{};
    }
  });
  if (!first_error.empty()) throw_error(ErrorCode::kIo, "{}", first_error);
  return tokens;
}

template <typename Result, typename Call>
std::vector<Result> RemoteBackend::parallel(const std::vector<std::size_t>& leader, const std::function<void()>& done,
                                            const Call& call) {
  std::vector<Result> results(leader.size());
  FollowerQueue queue(leader);
  std::mutex mutex;  // guards the queue and `done`
  std::condition_variable changed;
  auto worker = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      std::optional<std::size_t> i;
      changed.wait(lock, [&] { return queue.all_finished() || (i = queue.next()).has_value(); });
      if (!i) return;
      lock.unlock();
      results[*i] = call(*i);
      lock.lock();
      queue.finished(*i);
      if (done) done();
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(concurrency_), leader.size());
  for (std::size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  return results;
}

std::vector<LoglikelihoodResult> RemoteBackend::loglikelihood(const std::vector<LoglikelihoodRequest>& requests,
                                                              const std::function<void()>& done) {
  std::vector<std::vector<std::int32_t>> prompts;
  for (const LoglikelihoodRequest& q : requests) {
    prompts.push_back(q.context);
    prompts.back().insert(prompts.back().end(), q.continuation.begin(), q.continuation.end());
  }
  std::vector<const std::vector<std::int32_t>*> order;
  for (const auto& p : prompts) order.push_back(&p);
  return parallel<LoglikelihoodResult>(prefix_leaders(order), done, [&](std::size_t i) {
    const LoglikelihoodRequest& q = requests[i];
    const std::vector<std::int32_t>& prompt = prompts[i];
    LoglikelihoodResult out;
    const Json request{{"model", model_}, {"prompt", prompt}, {"max_tokens", 1}, {"temperature", 0},
                       {"logprobs", 1},   {"echo", true},     {"seed", seed_}};
    const std::string body = post(true, "/completions", request.dump(), out.error);
    if (!out.error.empty()) return out;
    try {
      const Json reply = Json::parse(body);
      const Json& lp = reply.at("choices").at(0).at("logprobs");
      const Json& values = lp.at("token_logprobs");
      const Json& tokens = lp.at("tokens");
      const Json& top = lp.at("top_logprobs");
      const std::size_t begin = q.context.size(), end = prompt.size();
      if (values.size() < end || tokens.size() < end || top.size() < end) {
        out.error = fmt::format("the echoed logprobs cover {} of the prompt's {} tokens", values.size(), end);
        return out;
      }
      out.greedy = true;
      for (std::size_t i = begin; i < end; ++i) {
        out.logprob += values[i].get<double>();
        // The top-1 alternative: the largest entry of the position's map.
        const Json& alternatives = top[i];
        std::string best;
        double best_lp = -std::numeric_limits<double>::infinity();
        for (const auto& [token, value] : alternatives.items()) {
          if (value.get<double>() > best_lp) {
            best_lp = value.get<double>();
            best = token;
          }
        }
        out.greedy = out.greedy && best == tokens[i].get<std::string>();
      }
    } catch (const std::exception& e) {
      out.error = fmt::format("malformed /v1/completions reply: {}", e.what());
    }
    return out;
  });
}

std::vector<GenerationResult> RemoteBackend::generate(const std::vector<GenerationRequest>& requests,
                                                      const std::function<void()>& done) {
  std::vector<const std::vector<std::int32_t>*> order;
  for (const GenerationRequest& g : requests) order.push_back(&g.prompt);
  return parallel<GenerationResult>(prefix_leaders(order), done, [&](std::size_t i) {
    const GenerationRequest& g = requests[i];
    GenerationResult out;
    const Json request{{"model", model_},  {"prompt", g.prompt}, {"max_tokens", g.max_tokens},
                       {"temperature", 0}, {"stop", g.stop},     {"seed", seed_}};
    const std::string body = post(true, "/completions", request.dump(), out.error);
    if (!out.error.empty()) return out;
    try {
      out.text = Json::parse(body).at("choices").at(0).at("text").get<std::string>();
    } catch (const std::exception& e) {
      out.error = fmt::format("malformed /v1/completions reply: {}", e.what());
    }
    return out;
  });
}

}  // namespace arle::eval
