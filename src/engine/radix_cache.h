#pragma once
// RadixCache: a prefix tree of token pages over the KvPool. Each edge is one
// full page of page_size token ids and its node holds that page's K/V; only
// full pages are cached, so a cached page is never written again. Trees are
// namespaced (model + tokenizer + adapter) so different weights never share.
// The tree holds one reference on each of its pages; pages no sequence holds
// are evicted least recently used first, leaves before their parents.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/kv_pool.h"

namespace arle::engine {

class RadixCache {
 public:
  explicit RadixCache(KvPool& pool) : pool_(pool) {}
  ~RadixCache();

  struct Match {
    std::vector<std::int32_t> pages;  // retained for the caller
    std::int64_t tokens = 0;          // pages.size() * page_size
  };
  // The longest cached prefix of tokens[0, limit) in whole pages.
  Match match(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t limit);
  // Caches the full pages among tokens[0, computed), whose K/V sit in
  // `page_table`. Pages already cached under the same tokens are kept.
  void insert(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t computed,
              const std::vector<std::int32_t>& page_table);
  // Frees up to `pages` pages that only the cache holds; returns how many.
  std::int64_t evict(std::int64_t pages);
  // Drops every page the cache holds alone (e.g. to measure leaks).
  void clear() { evict(pool_.num_pages()); }

  // Hit/miss counters: the caller records the lookups that it acted on.
  void record_lookup(std::int64_t queried_tokens, std::int64_t hit_tokens) {
    queried_tokens_ += queried_tokens;
    hit_tokens_ += hit_tokens;
  }

  std::int64_t cached_pages() const { return cached_pages_; }
  std::int64_t hit_tokens() const { return hit_tokens_; }
  std::int64_t queried_tokens() const { return queried_tokens_; }
  // Every page the cache holds (one reference each).
  std::vector<std::int32_t> pages() const;
  // Throws kInternal if a cached page is free in the pool or a node is malformed.
  void check_invariants() const;

 private:
  struct Node {
    std::int32_t page = -1;
    Node* parent = nullptr;
    std::vector<std::int32_t> key;
    std::map<std::vector<std::int32_t>, std::unique_ptr<Node>> children;
    std::uint64_t last_use = 0;
  };
  Node& root(const std::string& ns);
  void release_subtree(Node& node);

  KvPool& pool_;
  std::map<std::string, std::unique_ptr<Node>> roots_;
  std::uint64_t clock_ = 0;
  std::int64_t cached_pages_ = 0;
  std::int64_t hit_tokens_ = 0, queried_tokens_ = 0;
};

}  // namespace arle::engine
