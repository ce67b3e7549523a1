// config.json text of any shape must parse into a ModelConfig or throw
// arle::Error.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json config = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return 0;
  try {
    arle::model::ModelConfig c = arle::model::parse_model_config(config, "fuzz");
    (void)c.rotary_dim();
  } catch (const arle::Error&) {
  }
  return 0;
}
