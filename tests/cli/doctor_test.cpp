// `arle --doctor --json` against the schema documented in docs/doctor.schema.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_command.h"

namespace arle::testing {
namespace {

using nlohmann::json;

// The subset of JSON Schema the documented schema uses: type (name or list),
// enum, minimum, required, properties, additionalProperties: false, items.
void validate(const json& value, const json& schema, const std::string& where, std::vector<std::string>& errors) {
  if (schema.contains("type")) {
    std::vector<std::string> types = schema["type"].is_array() ? schema["type"].get<std::vector<std::string>>()
                                                               : std::vector<std::string>{schema["type"]};
    bool ok = false;
    for (const auto& t : types) {
      ok |= (t == "object" && value.is_object()) || (t == "array" && value.is_array()) ||
            (t == "string" && value.is_string()) || (t == "boolean" && value.is_boolean()) ||
            (t == "integer" && value.is_number_integer()) || (t == "number" && value.is_number()) ||
            (t == "null" && value.is_null());
    }
    if (!ok) {
      errors.push_back(where + ": type " + value.type_name() + " not in " + schema["type"].dump());
      return;
    }
  }
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    errors.push_back(where + ": " + value.dump() + " not in enum " + schema["enum"].dump());
  }
  if (schema.contains("minimum") && value.is_number() && value.get<double>() < schema["minimum"].get<double>()) {
    errors.push_back(where + ": below minimum");
  }
  if (value.is_object()) {
    for (const auto& key : schema.value("required", json::array())) {
      if (!value.contains(key.get<std::string>())) errors.push_back(where + ": missing " + key.get<std::string>());
    }
    const json props = schema.value("properties", json::object());
    for (const auto& [key, v] : value.items()) {
      if (props.contains(key)) {
        validate(v, props[key], where + "." + key, errors);
      } else if (schema.value("additionalProperties", true) == false) {
        errors.push_back(where + ": unexpected key " + key);
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      validate(value[i], schema["items"], where + "[" + std::to_string(i) + "]", errors);
    }
  }
}

json schema() { return json::parse(std::ifstream(std::string(ARLE_DOCS_DIR) + "/doctor.schema.json")); }

std::vector<std::string> schema_errors(const json& report) {
  std::vector<std::string> errors;
  validate(report, schema(), "$", errors);
  return errors;
}

const json* find_check(const json& report, const std::string& code) {
  for (const auto& c : report["checks"]) {
    if (c["code"] == code) return &c;
  }
  return nullptr;
}

TEST(Doctor, JsonMatchesTheDocumentedSchema) {
  CommandResult r = run_arle("--doctor --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  auto errors = schema_errors(report);
  EXPECT_TRUE(errors.empty()) << errors[0];
  EXPECT_EQ(report["model"]["source"], "bundled default");
  EXPECT_EQ(report["model"]["architecture"], "LlamaForCausalLM");
  EXPECT_EQ(report["model"]["parameters"], 260032);
  EXPECT_EQ(report["ok"], true);
  ASSERT_NE(find_check(report, "model.weights"), nullptr);
  EXPECT_EQ((*find_check(report, "model.weights"))["status"], "ok");
  EXPECT_EQ(report["arle"]["backends"][0], "cpu");
}

// The validator itself must catch violations, or the test above proves nothing.
TEST(Doctor, SchemaValidatorRejectsBrokenReports) {
  json report = json::parse(run_arle("--doctor --json").out);
  json missing = report;
  missing.erase("checks");
  EXPECT_FALSE(schema_errors(missing).empty());
  json bad_status = report;
  bad_status["checks"][0]["status"] = "maybe";
  EXPECT_FALSE(schema_errors(bad_status).empty());
  json extra = report;
  extra["system"]["cpu"]["speed"] = 3;
  EXPECT_FALSE(schema_errors(extra).empty());
  json wrong_type = report;
  wrong_type["model"]["parameters"] = "many";
  EXPECT_FALSE(schema_errors(wrong_type).empty());
}

TEST(Doctor, ModelResolutionOrder) {
  std::string qwen = fixtures_dir() + "/models/qwen3-tiny";
  std::string moe = fixtures_dir() + "/models/qwen3-moe-tiny";
  json env = json::parse(run_arle("--doctor --json", "ARLE_MODEL='" + qwen + "'").out);
  EXPECT_EQ(env["model"]["source"], "ARLE_MODEL");
  EXPECT_EQ(env["model"]["architecture"], "Qwen3ForCausalLM");
  json flag = json::parse(run_arle("--doctor --json --model-path '" + moe + "'", "ARLE_MODEL='" + qwen + "'").out);
  EXPECT_EQ(flag["model"]["source"], "--model-path");
  EXPECT_EQ(flag["model"]["architecture"], "Qwen3MoeForCausalLM");
}

TEST(Doctor, StrictFailsOnABrokenModelAndPlainDoesNot) {
  std::string dir = ::testing::TempDir() + "/arle_doctor_broken";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(fixtures_dir() + "/models/stories260K/config.json", dir + "/config.json");
  std::filesystem::copy_file(fixtures_dir() + "/safetensors_corpus/truncated_data.safetensors",
                             dir + "/model.safetensors");
  CommandResult plain = run_arle("--doctor --json --model-path '" + dir + "'");
  EXPECT_EQ(plain.exit_code, 0);
  json report = json::parse(plain.out);
  EXPECT_TRUE(schema_errors(report).empty());
  EXPECT_EQ(report["ok"], false);
  ASSERT_NE(find_check(report, "model.load"), nullptr);
  EXPECT_EQ((*find_check(report, "model.load"))["status"], "fail");
  EXPECT_NE(report["model"]["error"].get<std::string>().find("truncated"), std::string::npos);

  CommandResult strict = run_arle("--doctor --strict --model-path '" + dir + "'");
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.out.find("[fail] model.load"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("doctor: some checks FAILED"), std::string::npos);

  CommandResult missing = run_arle("--doctor --strict --json --model-path /nonexistent");
  EXPECT_EQ(missing.exit_code, 1);
  json m = json::parse(missing.out);
  EXPECT_EQ((*find_check(m, "model.resolve"))["status"], "fail");
  EXPECT_TRUE(schema_errors(m).empty());
}

TEST(Doctor, StrictPassesOnAGoodModel) {
  CommandResult r = run_arle("--doctor --strict");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("doctor: all checks passed"), std::string::npos);
}

}  // namespace
}  // namespace arle::testing
