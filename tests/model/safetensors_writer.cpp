#include "safetensors_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "model/safetensors.h"

namespace arle::testing {

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", dtype_safetensors_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  while (text.size() % 8) text += ' ';  // as the reference writer pads
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << text;
  for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
}

std::vector<TensorBytes> read_all_tensors(const std::filesystem::path& path) {
  auto file = model::SafetensorsFile::open(path);
  std::vector<TensorBytes> out;
  for (const auto& info : file->tensors()) {
    Tensor t = file->tensor(info);
    const auto* p = static_cast<const std::uint8_t*>(t.raw_data());
    out.push_back({info.name, info.dtype, info.shape, std::vector<std::uint8_t>(p, p + t.nbytes())});
  }
  return out;
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("arle_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path fixture_model(const std::string& name) {
  return std::filesystem::path(ARLE_TEST_FIXTURES) / "models" / name;
}

}  // namespace arle::testing
