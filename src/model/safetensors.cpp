#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "common/utf8.h"

namespace arle::model {
namespace {

using nlohmann::json;

constexpr int kMaxHeaderDepth = 16;

template <typename... Args>
[[noreturn]] void malformed(const std::string& label, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorCode::kInvalidModel,
              fmt::format("{}: malformed safetensors file: {}", label, fmt::format(f, std::forward<Args>(args)...)));
}

// nlohmann keeps the last of duplicate keys silently; the parse callback sees
// every key, so a stack of per-object key sets catches them.
json parse_header_json(std::string_view text, const std::string& label) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    // A real header is three levels deep; refuse absurd nesting early.
    if (depth > kMaxHeaderDepth) malformed(label, "header nests deeper than {} levels", kMaxHeaderDepth);
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default: break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    malformed(label, "header is not valid JSON ({})", e.what());
  }
  if (!duplicate.empty()) malformed(label, "header has the key '{}' twice", duplicate);
  return header;
}

std::uint64_t read_u64(const json& v, const std::string& label, const std::string& what) {
  if (!v.is_number_unsigned()) malformed(label, "{} must be a non-negative integer, got {}", what, describe_json(v));
  return v.get<std::uint64_t>();
}

TensorInfo parse_tensor_entry(const std::string& name, const json& entry, const std::string& label) {
  if (!entry.is_object()) malformed(label, "entry for tensor '{}' is not an object", name);
  for (const auto& [key, _] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      malformed(label, "tensor '{}' has an unknown field '{}'", name, key);
    }
  }
  TensorInfo info;
  info.name = name;

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) malformed(label, "tensor '{}' has no dtype string", name);
  auto dtype = dtype_from_safetensors_name(dtype_it->get<std::string>());
  if (!dtype) {
    throw_error(ErrorCode::kInvalidModel,
                "{}: tensor '{}' has dtype '{}', which ARLE does not support (supported: F32, BF16, F16, F8_E4M3, "
                "F8_E5M2, I32, I64, U8, BOOL)",
                label, name, dtype_it->get<std::string>());
  }
  info.dtype = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) malformed(label, "tensor '{}' has no shape array", name);
  for (const json& d : *shape_it) {
    std::uint64_t dim = read_u64(d, label, fmt::format("a dimension of tensor '{}'", name));
    if (dim > static_cast<std::uint64_t>(INT64_MAX)) malformed(label, "tensor '{}' has dimension {}", name, dim);
    info.shape.push_back(static_cast<std::int64_t>(dim));
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    malformed(label, "tensor '{}' needs data_offsets [begin, end]", name);
  }
  info.begin = read_u64((*offsets_it)[0], label, fmt::format("data_offsets of '{}'", name));
  info.end = read_u64((*offsets_it)[1], label, fmt::format("data_offsets of '{}'", name));
  if (info.end < info.begin) malformed(label, "tensor '{}' ends ({}) before it begins ({})", name, info.end, info.begin);

  std::uint64_t numel = 1;
  for (std::int64_t d : info.shape) {
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(d), &numel)) {
      malformed(label, "tensor '{}' has shape {} whose size overflows 64 bits", name, shape_to_string(info.shape));
    }
  }
  std::uint64_t expected = 0;
  if (numel > static_cast<std::uint64_t>(INT64_MAX) ||
      __builtin_mul_overflow(numel, static_cast<std::uint64_t>(dtype_size(info.dtype)), &expected)) {
    malformed(label, "tensor '{}' has shape {} whose size overflows 64 bits", name, shape_to_string(info.shape));
  }
  if (expected != info.nbytes()) {
    malformed(label, "tensor '{}' is {} {} = {} bytes but its data_offsets span {} bytes", name,
              shape_to_string(info.shape), dtype_safetensors_name(info.dtype), expected, info.nbytes());
  }
  return info;
}

}  // namespace

SafetensorsHeader parse_safetensors(std::span<const std::uint8_t> file, const std::string& label) {
  if (file.size() < 8) malformed(label, "file is {} bytes, shorter than the 8-byte header length", file.size());
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file[static_cast<std::size_t>(i)];
  if (header_len == 0) malformed(label, "header length is 0");
  if (header_len > kMaxSafetensorsHeaderBytes) {
    malformed(label, "header length {} exceeds the {} byte limit", header_len, kMaxSafetensorsHeaderBytes);
  }
  if (header_len > file.size() - 8) {
    malformed(label, "header length {} runs past the end of the {} byte file (truncated?)", header_len, file.size());
  }
  std::string_view text(reinterpret_cast<const char*>(file.data() + 8), header_len);
  if (auto bad = find_invalid_utf8(text)) malformed(label, "header is not valid UTF-8 (byte {})", 8 + *bad);

  json header = parse_header_json(text, label);
  if (!header.is_object()) malformed(label, "header is JSON but not an object");

  SafetensorsHeader result;
  result.data_offset = 8 + header_len;
  const std::uint64_t data_size = file.size() - result.data_offset;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) malformed(label, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        result.metadata[key] = value.is_string() ? value.get<std::string>() : describe_json(value);
      }
      continue;
    }
    result.tensors.push_back(parse_tensor_entry(name, entry, label));
  }

  std::stable_sort(result.tensors.begin(), result.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : result.tensors) {
    if (t.end > data_size) {
      malformed(label, "tensor '{}' spans bytes [{}, {}) but the data section has {} bytes (truncated?)", t.name,
                t.begin, t.end, data_size);
    }
    if (t.begin < covered) {
      malformed(label, "tensors '{}' and '{}' overlap (bytes [{}, {}) and [{}, {}))", previous->name, t.name,
                previous->begin, previous->end, t.begin, t.end);
    }
    if (t.begin > covered) malformed(label, "bytes [{}, {}) of the data section belong to no tensor", covered, t.begin);
    covered = t.end;
    previous = &t;
  }
  if (covered != data_size) {
    malformed(label, "the data section has {} bytes but the tensors cover only {}", data_size, covered);
  }
  return result;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto file = std::make_shared<MappedFile>(path);
  SafetensorsHeader header = parse_safetensors(file->bytes(), path.string());
  return std::shared_ptr<SafetensorsFile>(new SafetensorsFile(std::move(file), std::move(header)));
}

SafetensorsFile::SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header)
    : file_(std::move(file)), header_(std::move(header)) {
  // The mapping is read-only: views of it must never be written to.
  auto* base = const_cast<std::uint8_t*>(file_->bytes().data()) + header_.data_offset;
  data_ = Storage::borrow(base, file_->size() - header_.data_offset, Device::cpu(), file_);
  for (std::size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

Tensor SafetensorsFile::tensor(const TensorInfo& info) const {
  return Tensor::view_of(data_, static_cast<std::size_t>(info.begin), info.shape, info.dtype);
}

}  // namespace arle::model
