#include "text/bpe_model.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <queue>

#include "common/error.h"
#include "common/json_file.h"
#include "text/byte_level.h"
#include "text/unicode.h"

namespace arle::text {
namespace {

using nlohmann::json;

}  // namespace

BpeModel::BpeModel(const json& spec, std::vector<std::pair<std::string, TokenId>> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges) {
  std::string type = spec.value("type", std::string("BPE"));
  if (type != "BPE") {
    throw_error(ErrorCode::kUnsupported, "tokenizer model '{}' is not supported (supported: BPE)", type);
  }
  if (auto d = spec.find("dropout"); d != spec.end() && d->is_number() && d->get<double>() != 0.0) {
    throw_error(ErrorCode::kUnsupported, "BPE dropout is not supported (it makes tokenization random)");
  }
  TokenId max_id = -1;
  for (const auto& [token, id] : vocab) max_id = std::max(max_id, id);
  id_to_token_.resize(static_cast<std::size_t>(max_id + 1));
  vocab_.reserve(vocab.size());
  for (auto& [token, id] : vocab) {
    auto& slot = id_to_token_[static_cast<std::size_t>(id)];
    if (!slot.empty()) throw_error(ErrorCode::kInvalidModel, "tokenizer.json: vocab id {} is used twice", id);
    slot = token;
    vocab_.emplace(std::move(token), id);
  }

  auto string_or_empty = [&](const char* key) {
    auto it = spec.find(key);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  continuing_subword_prefix_ = string_or_empty("continuing_subword_prefix");
  end_of_word_suffix_ = string_or_empty("end_of_word_suffix");
  byte_fallback_ = spec.value("byte_fallback", false);
  fuse_unk_ = spec.value("fuse_unk", false);
  ignore_merges_ = spec.value("ignore_merges", false);
  if (std::string unk = string_or_empty("unk_token"); !unk.empty()) {
    auto it = vocab_.find(unk);
    if (it == vocab_.end()) throw_error(ErrorCode::kInvalidModel, "tokenizer.json: unk_token '{}' is not in the vocab", unk);
    unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }

  std::size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity *= 2;
  merge_slots_.assign(capacity, MergeSlot{});
  merge_mask_ = capacity - 1;
  std::uint32_t rank = 0;
  for (const auto& [a, b] : merges) {
    // With a continuing-subword prefix ("##"), "a" + "##b" merges into "ab".
    std::string merged = a + (!continuing_subword_prefix_.empty() && b.rfind(continuing_subword_prefix_, 0) == 0
                                  ? b.substr(continuing_subword_prefix_.size())
                                  : b);
    auto ia = vocab_.find(a), ib = vocab_.find(b), ir = vocab_.find(merged);
    if (ia == vocab_.end() || ib == vocab_.end() || ir == vocab_.end()) {
      throw_error(ErrorCode::kInvalidModel, "tokenizer.json: merge #{} ('{}' '{}') uses a token not in the vocab", rank,
                  a, b);
    }
    insert_merge(ia->second, ib->second, Merge{rank, ir->second});
    ++rank;
  }
}

namespace {
std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: spreads pair keys over the table
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

void BpeModel::insert_merge(TokenId a, TokenId b, Merge merge) {
  const std::uint64_t key = pair_key(a, b);
  for (std::size_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
    MergeSlot& slot = merge_slots_[i];
    if (slot.key == key) return;  // first (lowest) rank wins
    if (slot.key == kEmptyKey) {
      slot = {key, merge};
      ++merge_count_;
      return;
    }
  }
}

const BpeModel::Merge* BpeModel::find_merge(TokenId a, TokenId b) const {
  if (merge_count_ == 0) return nullptr;
  const std::uint64_t key = pair_key(a, b);
  for (std::size_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
    const MergeSlot& slot = merge_slots_[i];
    if (slot.key == key) return &slot.merge;
    if (slot.key == kEmptyKey) return nullptr;
  }
}

std::optional<TokenId> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || id_to_token_[static_cast<std::size_t>(id)].empty()) {
    return nullptr;
  }
  return &id_to_token_[static_cast<std::size_t>(id)];
}

void BpeModel::tokenize(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (!WordCache::cacheable(word)) return tokenize_uncached(word, out);
  const std::uint64_t hash = std::hash<std::string_view>{}(word);
  if (cache_.lookup(word, hash, out)) return;
  const std::size_t before = out.size();
  tokenize_uncached(word, out);
  cache_.store(word, hash, out.data() + before, out.size() - before);
}

void BpeModel::tokenize_raw_bytes(std::string_view raw, std::vector<TokenId>& out) const {
  if (raw.empty()) return;
  if (!WordCache::cacheable(raw)) return tokenize_uncached(bytes_to_unicode(raw), out);
  const std::uint64_t hash = std::hash<std::string_view>{}(raw);
  if (raw_cache_.lookup(raw, hash, out)) return;
  const std::size_t before = out.size();
  tokenize(bytes_to_unicode(raw), out);
  raw_cache_.store(raw, hash, out.data() + before, out.size() - before);
}

void BpeModel::tokenize_uncached(std::string_view word, std::vector<TokenId>& out) const {
  if (ignore_merges_) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<TokenId> symbols;
  std::optional<TokenId> pending_unk;
  for (std::size_t i = 0; i < word.size();) {
    std::size_t start = i;
    next_codepoint(word, i);
    std::string piece(word.substr(start, i - start));
    if (start > 0) piece = continuing_subword_prefix_ + piece;
    if (i >= word.size()) piece += end_of_word_suffix_;
    if (auto it = vocab_.find(piece); it != vocab_.end()) {
      if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
      symbols.push_back(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : piece) all &= byte_ids_[b] >= 0;
      if (all) {
        if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
        for (unsigned char b : piece) symbols.push_back(byte_ids_[b]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk && !fuse_unk_) symbols.push_back(*pending_unk);
      pending_unk = unk_id_;
    }
    // Without an unk token the character is dropped, as HF does.
  }
  if (pending_unk) symbols.push_back(*pending_unk);
  merge_word(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

// Repeatedly applies the lowest-ranked merge among adjacent pairs (leftmost
// first on equal ranks), as HF's Word::merge_all does.
void BpeModel::merge_word(std::vector<TokenId>& symbols) const {
  if (symbols.size() < 2 || merge_count_ == 0) return;
  const int n = static_cast<int>(symbols.size());
  std::vector<int> prev(static_cast<std::size_t>(n)), next(static_cast<std::size_t>(n));
  std::vector<bool> alive(static_cast<std::size_t>(n), true);
  for (int i = 0; i < n; ++i) {
    prev[static_cast<std::size_t>(i)] = i - 1;
    next[static_cast<std::size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    std::uint32_t rank;
    int pos;
    TokenId result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    int right = next[static_cast<std::size_t>(left)];
    if (right < 0) return;
    if (const Merge* m = find_merge(symbols[static_cast<std::size_t>(left)], symbols[static_cast<std::size_t>(right)])) {
      queue.push({m->rank, left, m->result});
    }
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    auto pos = static_cast<std::size_t>(top.pos);
    if (!alive[pos] || next[pos] < 0) continue;
    auto right = static_cast<std::size_t>(next[pos]);
    const Merge* m = find_merge(symbols[pos], symbols[right]);
    if (!m || m->result != top.result) continue;  // stale entry
    symbols[pos] = top.result;
    alive[right] = false;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[static_cast<std::size_t>(next[pos])] = top.pos;
    if (prev[pos] >= 0) consider(prev[pos]);
    consider(top.pos);
  }
  std::size_t w = 0;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (alive[i]) symbols[w++] = symbols[i];
  }
  symbols.resize(w);
}

}  // namespace arle::text
