#pragma once
// A read-only memory mapping of a whole file. Model weights are viewed in
// place from it (zero copy), so it is shared by every tensor view that
// borrows from it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace arle {

class MappedFile {
 public:
  // Throws arle::Error (kNotFound / kIo) naming the path.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }

 private:
  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace arle
