#pragma once
// Test helper: writes well-formed safetensors files and model folders so tests
// can build sharded, renamed or damaged checkpoints from the real fixtures.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace arle::testing {

struct TensorBytes {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<std::uint8_t> bytes;
};

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// All tensors of a safetensors file, with their bytes, in file order.
std::vector<TensorBytes> read_all_tensors(const std::filesystem::path& path);

// A fresh empty folder under the test temp dir.
std::filesystem::path fresh_dir(const std::string& name);

std::filesystem::path fixture_model(const std::string& name);  // tests/fixtures/models/NAME

}  // namespace arle::testing
