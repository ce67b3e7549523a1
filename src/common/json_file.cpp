#include "common/json_file.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"

namespace arle {

std::string read_text_file(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_error(ErrorCode::kNotFound, "cannot read {} {}: it is a folder", what, path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::kNotFound, "cannot read {} {}", what, path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw_error(ErrorCode::kNotFound, "{} does not exist", path.string());
  std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorCode::kInvalidModel, "{}: not valid JSON ({})", path.string(), e.what());
  }
}

std::string describe_json(const nlohmann::json& value) {
  if (value.is_array()) return "a list of " + std::to_string(value.size()) + " items";
  if (value.is_object()) return "an object with " + std::to_string(value.size()) + " keys";
  if (value.is_string() && value.get_ref<const std::string&>().size() > 80) {
    return nlohmann::json(value.get_ref<const std::string&>().substr(0, 77) + "...").dump();
  }
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace arle
