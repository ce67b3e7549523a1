#pragma once
// The engine's metrics in the Prometheus text exposition format (0.0.4),
// under vLLM's names with the "arle:" prefix.

#include <string>

#include "engine/engine_core.h"

namespace arle::server {

std::string prometheus_text(const engine::EngineStats& stats, const std::string& model_name);

}  // namespace arle::server
