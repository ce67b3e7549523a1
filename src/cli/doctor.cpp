#include "cli/doctor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/sandbox.h"
#include "arle_version.h"
#include "cli/inspect.h"
#include "cli/model_resolution.h"
#include "common/error.h"
#include "common/system_info.h"
#include "common/units.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cuda/cuda_probe.h"

namespace arle::cli {
namespace {

using nlohmann::json;

struct Checks {
  json list = json::array();
  void add(const std::string& code, const char* status, const std::string& message) {
    list.push_back({{"code", code}, {"status", status}, {"message", message}});
  }
};

std::string bytes_text(std::uint64_t bytes) { return human_bytes(static_cast<double>(bytes)); }

json system_section(Checks& checks) {
  SystemInfo sys = system_info();
  const auto& features = kernels::cpu::cpu_features();
  auto simd = kernels::cpu::simd_level();
  if (simd == kernels::cpu::SimdLevel::kScalar) {
    checks.add("cpu.simd", "warn", "no AVX2/FMA: CPU kernels fall back to scalar code and will be slow");
  } else {
    checks.add("cpu.simd", "ok", fmt::format("CPU kernels use {}", kernels::cpu::simd_level_name(simd)));
  }
  return {{"os", sys.os},
          {"cpu",
           {{"model", sys.cpu_model},
            {"logical_cores", sys.logical_cores},
            {"usable_cores", sys.usable_cores},
            {"simd", kernels::cpu::simd_level_name(simd)},
            {"flags", features.flag_names()}}},
          {"ram", {{"total_bytes", sys.ram_total_bytes}, {"available_bytes", sys.ram_available_bytes}}}};
}

json cuda_section(Checks& checks) {
  kernels::cuda::CudaProbe probe = kernels::cuda::probe_cuda();
  json gpus = json::array();
  for (const auto& g : probe.gpus) {
    gpus.push_back({{"index", g.index},
                    {"name", g.name},
                    {"compute_capability", fmt::format("{}.{}", g.compute_major, g.compute_minor)},
                    {"memory_total_bytes", g.memory_total_bytes},
                    {"memory_free_bytes", g.memory_free_bytes},
                    {"multiprocessors", g.multiprocessors},
                    {"kernel_ok", g.kernel_ok},
                    {"error", g.error.empty() ? json(nullptr) : json(g.error)}});
    if (g.kernel_ok) {
      checks.add(fmt::format("cuda.gpu{}", g.index), "ok",
                 fmt::format("{} (sm_{}{}, {}) runs ARLE kernels", g.name, g.compute_major, g.compute_minor,
                             bytes_text(g.memory_total_bytes)));
    } else {
      checks.add(fmt::format("cuda.gpu{}", g.index), "fail",
                 fmt::format("{} (sm_{}{}) cannot run ARLE kernels: {} (built for {})", g.name, g.compute_major,
                             g.compute_minor, g.error, probe.compiled_archs));
    }
  }
  if (!probe.compiled) {
    checks.add("cuda.backend", "skip", "CPU-only build; configure with --preset cuda for the GPU backend");
  } else if (probe.gpus.empty()) {
    checks.add("cuda.backend", "warn",
               fmt::format("CUDA backend compiled in but no GPU is usable: {}",
                           probe.error.empty() ? "no devices" : probe.error));
  } else {
    checks.add("cuda.backend", "ok",
               fmt::format("{} GPU(s), CUDA runtime {}, driver {}", probe.gpus.size(), probe.runtime_version,
                           probe.driver_version));
  }
  return {{"compiled", probe.compiled},
          {"runtime_version", probe.runtime_version},
          {"driver_version", probe.driver_version},
          {"archs", probe.compiled_archs},
          {"error", probe.error.empty() ? json(nullptr) : json(probe.error)},
          {"gpus", gpus}};
}

json model_section(const std::optional<std::string>& model_path, Checks& checks) {
  json model = {{"path", nullptr},       {"source", nullptr}, {"architecture", nullptr},
                {"parameters", nullptr}, {"bytes", nullptr},  {"error", nullptr}};
  ModelResolution resolved;
  try {
    resolved = resolve_model(model_path);
  } catch (const Error& e) {
    model["error"] = e.what();
    checks.add("model.resolve", "fail", e.what());
    return model;
  }
  model["path"] = std::filesystem::absolute(resolved.path).string();
  model["source"] = resolved.source;
  checks.add("model.resolve", "ok", fmt::format("{} (from {})", resolved.path.string(), resolved.source));
  json report;
  try {
    report = inspect_model(resolved.path);
  } catch (const Error& e) {
    model["error"] = e.what();
    checks.add("model.load", "fail", e.what());
    return model;
  }
  model["architecture"] = report["architecture"];
  checks.add("model.config", "ok", fmt::format("{} config parsed", report["architecture"].get<std::string>()));
  if (report["checkpoint"].is_null()) {
    checks.add("model.weights", "fail", "no model.safetensors or model.safetensors.index.json");
    return model;
  }
  model["parameters"] = report["checkpoint"]["parameters"];
  model["bytes"] = report["checkpoint"]["bytes"];
  const json& w = report["weights"];
  if (w["complete"].get<bool>()) {
    checks.add("model.weights", "ok",
               fmt::format("{} tensors, {} parameters, all present with the right shapes",
                           report["checkpoint"]["tensor_count"].get<std::int64_t>(),
                           report["checkpoint"]["parameters"].get<std::int64_t>()));
  } else {
    checks.add("model.weights", "fail",
               fmt::format("{} missing and {} wrongly shaped tensors (run `arle inspect` for the list)",
                           w["missing"].size(), w["shape_mismatches"].size()));
  }
  // The CPU backend computes in float32, so weights widen to 4 bytes each.
  auto needed = static_cast<std::uint64_t>(report["checkpoint"]["parameters"].get<std::int64_t>()) * 4;
  auto available = system_info().ram_available_bytes;
  if (available > 0 && needed > available) {
    checks.add("memory.model", "warn",
               fmt::format("the model needs about {} as float32 but only {} of RAM is available", bytes_text(needed),
                           bytes_text(available)));
  } else {
    checks.add("memory.model", "ok",
               fmt::format("about {} needed as float32, {} available", bytes_text(needed), bytes_text(available)));
  }
  return model;
}

void tools_checks(Checks& checks) {
  // The local agent's tools run python3 and bash from the sandbox's PATH.
  auto on_tool_path = [](const char* name) {
    for (const char* dir : {"/usr/local/bin/", "/usr/bin/", "/bin/"}) {
      if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
    }
    return false;
  };
  if (on_tool_path("python3")) {
    checks.add("tools.python", "ok", "python3 found in /usr/local/bin, /usr/bin or /bin");
  } else {
    checks.add("tools.python", "warn",
               "no python3 in /usr/local/bin, /usr/bin or /bin: the agent's python tool will fail");
  }
  if (on_tool_path("bash")) {
    checks.add("tools.shell", "ok", "bash found");
  } else {
    checks.add("tools.shell", "warn", "no bash in /usr/local/bin, /usr/bin or /bin: the agent's shell tool will fail");
  }
  if (agent::bubblewrap_works()) {
    checks.add("tools.sandbox", "ok", "bubblewrap isolates tool calls: read-only system, private /tmp, no network");
  } else {
    checks.add("tools.sandbox", "warn",
               "bubblewrap is missing or cannot create namespaces here: tool calls run UNISOLATED, with only "
               "rlimits, a timeout and a scrubbed environment (apt-get install bubblewrap)");
  }
}

}  // namespace

json run_doctor(const std::optional<std::string>& model_path) {
  Checks checks;
  std::vector<std::string> backends = {"cpu"};
#ifdef ARLE_WITH_CUDA
  backends.push_back("cuda");
#endif
  json report = {{"schema_version", kDoctorSchemaVersion},
                 {"arle",
                  {{"version", ARLE_VERSION},
                   {"git_hash", ARLE_GIT_HASH},
                   {"backends", backends},
#ifdef NDEBUG
                   {"build_type", "release"}
#else
                   {"build_type", "debug"}
#endif
                  }}};
  report["system"] = system_section(checks);
  report["cuda"] = cuda_section(checks);
  report["model"] = model_section(model_path, checks);
  tools_checks(checks);
  report["checks"] = checks.list;
  report["ok"] = doctor_passed(report);
  return report;
}

bool doctor_passed(const json& report) {
  for (const auto& c : report["checks"]) {
    if (c["status"] == "fail") return false;
  }
  return true;
}

std::string render_doctor_text(const json& r) {
  std::string out;
  const json& a = r["arle"];
  out += fmt::format("arle {} ({}), {} build, backends: {}\n", a["version"].get<std::string>(),
                     a["git_hash"].get<std::string>(), a["build_type"].get<std::string>(),
                     fmt::join(a["backends"].get<std::vector<std::string>>(), ", "));
  const json& s = r["system"];
  out += fmt::format("os: {}\n", s["os"].get<std::string>());
  out += fmt::format("cpu: {}, {} cores ({} usable), simd {}\n", s["cpu"]["model"].get<std::string>(),
                     s["cpu"]["logical_cores"].get<int>(), s["cpu"]["usable_cores"].get<int>(),
                     s["cpu"]["simd"].get<std::string>());
  out += fmt::format("ram: {} total, {} available\n", bytes_text(s["ram"]["total_bytes"].get<std::uint64_t>()),
                     bytes_text(s["ram"]["available_bytes"].get<std::uint64_t>()));
  for (const auto& g : r["cuda"]["gpus"]) {
    out += fmt::format("gpu {}: {}, compute {}, {} ({} free)\n", g["index"].get<int>(), g["name"].get<std::string>(),
                       g["compute_capability"].get<std::string>(),
                       bytes_text(g["memory_total_bytes"].get<std::uint64_t>()),
                       bytes_text(g["memory_free_bytes"].get<std::uint64_t>()));
  }
  const json& m = r["model"];
  if (!m["path"].is_null()) {
    out += fmt::format("model: {} (from {})\n", m["path"].get<std::string>(), m["source"].get<std::string>());
  }
  out += "checks:\n";
  for (const auto& c : r["checks"]) {
    out += fmt::format("  [{:<4}] {:<16} {}\n", c["status"].get<std::string>(), c["code"].get<std::string>(),
                       c["message"].get<std::string>());
  }
  out += r["ok"].get<bool>() ? "doctor: all checks passed\n" : "doctor: some checks FAILED\n";
  return out;
}

}  // namespace arle::cli
