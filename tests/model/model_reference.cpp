#include "model_reference.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <numeric>

#include "common/json_file.h"
#include "model/safetensors.h"

namespace arle::testing {
namespace {

template <typename T>
std::vector<T> read_values(const model::SafetensorsFile& file, const std::string& name) {
  const model::TensorInfo* info = file.find(name);
  if (info == nullptr) throw std::runtime_error("reference tensor missing: " + name);
  Tensor t = file.tensor(*info);
  const T* data = t.data<T>();
  return std::vector<T>(data, data + t.numel());
}

}  // namespace

// $ARLE_TEST_FIXTURES wins over the build's path: the GPU machine runs the
// test binaries from another checkout.
std::string fixture_model_dir(const std::string& name) {
  const char* env = std::getenv("ARLE_TEST_FIXTURES");
  return std::string(env && *env ? env : ARLE_TEST_FIXTURES) + "/models/" + name;
}

std::vector<std::string> reference_fixture_names() {
  return {"stories260K", "qwen3-tiny",      "qwen3-small-vocab", "qwen3-moe-tiny",
          "qwen2-tiny",  "llama-yarn-tiny", "llama-llama3-tiny", "llama-linear-tiny"};
}

std::vector<std::string> hybrid_reference_fixture_names() { return {"qwen3.5-tiny", "qwen3.5-moe-tiny"}; }

std::string fixture_param_name(std::string fixture) {
  std::replace(fixture.begin(), fixture.end(), '-', '_');
  std::replace(fixture.begin(), fixture.end(), '.', '_');
  return fixture;
}

std::vector<ReferenceCase> load_reference_cases(const std::string& model_dir) {
  nlohmann::json reference = read_json_file(model_dir + "/reference.json");
  auto tensors = model::SafetensorsFile::open(model_dir + "/reference.safetensors");
  std::vector<ReferenceCase> cases;
  for (std::size_t i = 0; i < reference["cases"].size(); ++i) {
    const nlohmann::json& c = reference["cases"][i];
    ReferenceCase r;
    r.name = c["name"].get<std::string>();
    r.input_ids = c["input_ids"].get<std::vector<std::int32_t>>();
    r.greedy_ids = c["greedy_ids"].get<std::vector<std::int32_t>>();
    r.greedy_top2_margin = c["greedy_top2_margin"].get<std::vector<double>>();
    r.prompt_logprobs = c["prompt_logprobs"].get<std::vector<double>>();
    const std::string prefix = "case" + std::to_string(i) + ".";
    r.last_logits = read_values<float>(*tensors, prefix + "last_logits");
    r.topk_ids = read_values<std::int32_t>(*tensors, prefix + "topk_ids");
    r.topk_logits = read_values<float>(*tensors, prefix + "topk_logits");
    cases.push_back(std::move(r));
  }
  return cases;
}

Tensor prompt_logits(model::CausalLm& model, const std::vector<std::int32_t>& ids) {
  model::PagedKvCache cache(model.config(), model::pages_for_tokens(static_cast<std::int64_t>(ids.size())),
                            model::kDefaultPageSize, model.kv_storage(), /*state_slots=*/1);
  std::vector<std::int32_t> table(static_cast<std::size_t>(cache.num_pages()));
  std::iota(table.begin(), table.end(), 0);
  model::ForwardBatch batch;
  batch.page_tables.push_back(&table);
  if (cache.has_state()) {
    cache.zero_state(0);
    batch.state_slots = {0};
  }
  for (std::size_t p = 0; p < ids.size(); ++p) batch.add_row(ids[p], static_cast<std::int64_t>(p), 0, true);
  return model.forward(batch, cache);
}

}  // namespace arle::testing
