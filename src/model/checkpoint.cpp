#include "model/checkpoint.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "common/log.h"

namespace arle::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// weight_map of an index file: tensor name -> shard file name.
std::map<std::string, std::string> read_index(const fs::path& index_path) {
  json index = read_json_file(index_path);
  auto map_it = index.is_object() ? index.find("weight_map") : index.end();
  if (map_it == index.end() || !map_it->is_object()) {
    throw_error(ErrorCode::kInvalidModel, "{}: no \"weight_map\" object", index_path.string());
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& [name, file] : map_it->items()) {
    if (!file.is_string()) {
      throw_error(ErrorCode::kInvalidModel, "{}: weight_map[\"{}\"] is not a file name", index_path.string(), name);
    }
    std::string shard = file.get<std::string>();
    // Shards must sit beside the index: no paths, no escaping the folder.
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      throw_error(ErrorCode::kInvalidModel, "{}: weight_map[\"{}\"] = \"{}\" is not a file name in the model folder",
                  index_path.string(), name, shard);
    }
    weight_map[name] = shard;
  }
  if (weight_map.empty()) throw_error(ErrorCode::kInvalidModel, "{}: weight_map is empty", index_path.string());
  return weight_map;
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& path) {
  Checkpoint ckpt;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    ckpt.add_shard(SafetensorsFile::open(path), nullptr);
    return ckpt;
  }
  if (!fs::is_directory(path, ec)) throw_error(ErrorCode::kNotFound, "model path {} does not exist", path.string());

  fs::path index_path = path / kIndexFile;
  if (fs::exists(index_path, ec)) {
    auto weight_map = read_index(index_path);
    std::map<std::string, bool> shard_names;
    for (const auto& [_, shard] : weight_map) shard_names[shard] = true;
    for (const auto& [shard, _] : shard_names) {
      fs::path shard_path = path / shard;
      if (!fs::exists(shard_path, ec)) {
        throw_error(ErrorCode::kNotFound, "{} lists shard {}, which is missing", index_path.string(),
                    shard_path.string());
      }
      ckpt.add_shard(SafetensorsFile::open(shard_path), &weight_map);
    }
    for (const auto& [name, shard] : weight_map) {
      if (!ckpt.entries_.count(name)) {
        throw_error(ErrorCode::kInvalidModel, "{} puts tensor '{}' in {}, which does not contain it",
                    index_path.string(), name, shard);
      }
    }
    return ckpt;
  }
  fs::path single = path / kSingleFile;
  if (fs::exists(single, ec)) {
    ckpt.add_shard(SafetensorsFile::open(single), nullptr);
    return ckpt;
  }
  throw_error(ErrorCode::kNotFound, "{} has neither {} nor {}", path.string(), kSingleFile, kIndexFile);
}

void Checkpoint::add_shard(std::shared_ptr<SafetensorsFile> shard, const std::map<std::string, std::string>* index) {
  std::string shard_name = shard->path().filename().string();
  for (const TensorInfo& info : shard->tensors()) {
    if (index) {
      auto it = index->find(info.name);
      if (it == index->end()) {
        log::warn("{}: tensor '{}' is not in the index; loading it anyway", shard->path().string(), info.name);
      } else if (it->second != shard_name) {
        continue;  // the index says another shard owns it; that shard's copy is checked there
      }
    }
    auto [pos, inserted] = entries_.emplace(info.name, Entry{&info, shard.get()});
    if (!inserted) {
      throw_error(ErrorCode::kInvalidModel, "tensor '{}' is in both {} and {}", info.name,
                  pos->second.shard->path().string(), shard->path().string());
    }
  }
  shards_.push_back(std::move(shard));
}

std::vector<const TensorInfo*> Checkpoint::tensors() const {
  std::vector<const TensorInfo*> out;
  out.reserve(entries_.size());
  for (const auto& [_, e] : entries_) out.push_back(e.info);
  return out;
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.info;
}

Tensor Checkpoint::tensor(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw_error(ErrorCode::kNotFound, "checkpoint has no tensor '{}'", name);
  return it->second.shard->tensor(*it->second.info);
}

std::int64_t Checkpoint::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& [_, e] : entries_) n += e.info->numel();
  return n;
}

std::uint64_t Checkpoint::byte_count() const {
  std::uint64_t n = 0;
  for (const auto& [_, e] : entries_) n += e.info->nbytes();
  return n;
}

}  // namespace arle::model
