#include "server/metrics_text.h"

#include <fmt/format.h>

namespace arle::server {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, const std::string& label,
            double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{}{{{}}} {}\n", name, help, name, type, name,
                 label, value);
}

void histogram(std::string& out, const char* name, const char* help, const std::string& label,
               const engine::Histogram& h) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, label, h.bounds[i], cumulative);
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"+Inf\"}} {}\n{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name,
                 label, h.count, name, label, h.sum, name, label, h.count);
}

}  // namespace

std::string prometheus_text(const engine::EngineStats& stats, const std::string& model_name) {
  const engine::EngineMetrics& m = stats.metrics;
  const std::string label = fmt::format("model_name=\"{}\"", model_name);
  std::string out;
  metric(out, "arle:num_requests_running", "gauge", "Sequences running on the engine.", label,
         static_cast<double>(m.requests_running));
  metric(out, "arle:num_requests_waiting", "gauge", "Sequences waiting for admission.", label,
         static_cast<double>(m.requests_waiting));
  metric(out, "arle:kv_cache_usage_perc", "gauge", "Fraction of KV cache pages in use (1 = full).", label,
         m.kv_cache_usage);
  metric(out, "arle:prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.", label,
         static_cast<double>(stats.cache_queried_tokens));
  metric(out, "arle:prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.", label,
         static_cast<double>(stats.cache_hit_tokens));
  metric(out, "arle:state_snapshot_hits_total", "counter",
         "Hybrid models: requests that resumed from a recurrent-state snapshot in the prefix cache.", label,
         static_cast<double>(stats.snapshot_hits));
  metric(out, "arle:state_snapshots", "gauge", "Hybrid models: recurrent-state snapshots the prefix cache holds.",
         label, static_cast<double>(stats.snapshots));
  metric(out, "arle:prompt_tokens_total", "counter", "Prompt tokens of finished requests.", label,
         static_cast<double>(m.prompt_tokens_total));
  metric(out, "arle:generation_tokens_total", "counter", "Generated tokens.", label,
         static_cast<double>(m.generation_tokens_total));
  fmt::format_to(std::back_inserter(out),
                 "# HELP arle:request_success_total Finished requests by finish reason.\n"
                 "# TYPE arle:request_success_total counter\n");
  for (const auto& [reason, count] : m.requests_finished) {
    fmt::format_to(std::back_inserter(out), "arle:request_success_total{{{},finish_reason=\"{}\"}} {}\n", label, reason,
                   count);
  }
  histogram(out, "arle:time_to_first_token_seconds", "Time from arrival to the first token.", label,
            m.time_to_first_token);
  histogram(out, "arle:inter_token_latency_seconds", "Time between consecutive tokens of a sequence.", label,
            m.inter_token_latency);
  histogram(out, "arle:e2e_request_latency_seconds", "Time from arrival to the last token.", label, m.e2e_latency);
  return out;
}

}  // namespace arle::server
