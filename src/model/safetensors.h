#pragma once
// safetensors reader: validates the whole header up front, then hands out
// zero-copy tensor views into the mmapped file.
//
// Format: u64 little-endian header length N, N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the data section. Offsets are relative to the data section and, like
// the reference implementation, must tile it exactly: no overlaps, no holes.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "tensor/tensor.h"

namespace arle::model {

inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;  // as the reference library

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin = 0;  // byte offsets within the data section
  std::uint64_t end = 0;
  std::int64_t numel() const { return shape_numel(shape); }
  std::uint64_t nbytes() const { return end - begin; }
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;
  std::uint64_t data_offset = 0;  // where the data section starts in the file
};

// Validates a complete file image. `label` names the file in error messages.
// Throws arle::Error(kInvalidModel) on anything malformed; never crashes.
SafetensorsHeader parse_safetensors(std::span<const std::uint8_t> file, const std::string& label);

class SafetensorsFile {
 public:
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorInfo* find(const std::string& name) const;
  // A read-only view into the mapping; keeps the file mapped while alive.
  Tensor tensor(const TensorInfo& info) const;

 private:
  SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header);

  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::shared_ptr<Storage> data_;
  std::map<std::string, std::size_t> index_;  // name -> position in tensors
};

}  // namespace arle::model
