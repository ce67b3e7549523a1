#pragma once
// A fixed-size, direct-mapped cache from short words to their token ids. One
// 64-byte slot per entry, so a lookup costs one cache line instead of the
// three or four pointer chases of a node-based hash map (the bottleneck of
// encoding measured by bench/tokenizer_bench). Collisions simply overwrite.

#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "text/bpe_model_types.h"

namespace arle::text {

class WordCache {
 public:
  static constexpr std::size_t kMaxKey = 23;
  static constexpr std::size_t kMaxIds = 6;

  explicit WordCache(std::size_t slots_log2 = 16) : slots_(std::size_t{1} << slots_log2), mask_(slots_.size() - 1) {}

  static bool cacheable(std::string_view word) { return !word.empty() && word.size() <= kMaxKey; }

  // Appends the cached ids of `word` to `out` and returns true on a hit.
  bool lookup(std::string_view word, std::uint64_t hash, std::vector<TokenId>& out) const {
    std::lock_guard lock(mutex_);
    const Slot& s = slots_[hash & mask_];
    if (s.hash != hash || s.key_len != word.size() || std::memcmp(s.key, word.data(), word.size()) != 0) return false;
    out.insert(out.end(), s.ids, s.ids + s.n_ids);
    return true;
  }

  void store(std::string_view word, std::uint64_t hash, const TokenId* ids, std::size_t n) {
    if (!cacheable(word) || n > kMaxIds) return;
    std::lock_guard lock(mutex_);
    Slot& s = slots_[hash & mask_];
    s.hash = hash;
    s.key_len = static_cast<std::uint8_t>(word.size());
    std::memcpy(s.key, word.data(), word.size());
    s.n_ids = static_cast<std::uint8_t>(n);
    std::memcpy(s.ids, ids, n * sizeof(TokenId));
  }

 private:
  struct alignas(64) Slot {
    std::uint64_t hash = 0;
    std::uint8_t key_len = 0xFF;  // never matches an empty slot
    char key[kMaxKey];
    std::uint8_t n_ids = 0;
    TokenId ids[kMaxIds];
  };
  static_assert(sizeof(Slot) == 64);

  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::size_t mask_;
};

}  // namespace arle::text
