#pragma once
// EngineMetrics: the counters, gauges and latency histograms the engine
// keeps for /metrics (Prometheus names in server/metrics_text.cpp). Updated
// on the engine thread; Engine::stats() hands out copies.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace arle::engine {

struct Histogram {
  explicit Histogram(std::vector<double> upper_bounds = {});
  void observe(double value);
  std::vector<double> bounds;          // upper bounds, ascending; +Inf implied
  std::vector<std::uint64_t> counts;   // per bucket (not cumulative), last is +Inf
  double sum = 0;
  std::uint64_t count = 0;
};

struct EngineMetrics {
  EngineMetrics();
  std::int64_t requests_running = 0, requests_waiting = 0;
  double kv_cache_usage = 0;  // 0..1
  std::int64_t prompt_tokens_total = 0, generation_tokens_total = 0;
  std::map<std::string, std::int64_t> requests_finished;  // by finish_reason
  Histogram time_to_first_token, inter_token_latency, e2e_latency;  // seconds
};

}  // namespace arle::engine
