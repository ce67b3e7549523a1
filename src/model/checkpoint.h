#pragma once
// Checkpoint: every tensor of a model folder, from one model.safetensors or
// from the shards listed in model.safetensors.index.json.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace arle::model {

class Checkpoint {
 public:
  // `path` is a model folder or a single .safetensors file. Throws arle::Error
  // naming the file and the problem.
  static Checkpoint open(const std::filesystem::path& path);

  const std::vector<std::shared_ptr<SafetensorsFile>>& shards() const { return shards_; }
  // All tensors, sorted by name.
  std::vector<const TensorInfo*> tensors() const;
  const TensorInfo* find(const std::string& name) const;
  Tensor tensor(const std::string& name) const;  // throws kNotFound

  std::int64_t parameter_count() const;  // sum of tensor elements
  std::uint64_t byte_count() const;      // sum of tensor bytes

 private:
  struct Entry {
    const TensorInfo* info;
    const SafetensorsFile* shard;
  };
  void add_shard(std::shared_ptr<SafetensorsFile> shard, const std::map<std::string, std::string>* index);

  std::vector<std::shared_ptr<SafetensorsFile>> shards_;
  std::map<std::string, Entry> entries_;
};

}  // namespace arle::model
