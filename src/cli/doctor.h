#pragma once
// `arle --doctor`: a self-check of the build, the host, the GPUs and the
// model a command would run on. docs/doctor.md documents the JSON schema.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace arle::cli {

inline constexpr int kDoctorSchemaVersion = 1;

nlohmann::json run_doctor(const std::optional<std::string>& model_path);
std::string render_doctor_text(const nlohmann::json& report);
// True when no check has status "fail".
bool doctor_passed(const nlohmann::json& report);

}  // namespace arle::cli
