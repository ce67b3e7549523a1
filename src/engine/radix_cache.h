#pragma once
// RadixCache: a prefix tree of token pages over the KvPool. Each edge is one
// full page of page_size token ids and its node holds that page's K/V; only
// full pages are cached, so a cached page is never written again. Trees are
// namespaced (model + tokenizer + adapter) so different weights never share.
// The tree holds one reference on each of its pages; pages no sequence holds
// are evicted least recently used first, leaves before their parents.
//
// Hybrid models (linear-attention layers with a recurrent state) cannot
// resume from K/V pages alone: the state after the prefix is needed too. For
// them a node may hold a state snapshot, a StatePool slot with the state
// after exactly the tokens of its path, and a match ends at the deepest node
// that has one. Snapshots are bounded (max_snapshots) and evicted least
// recently used first (speculative ones before the rest), on their own or
// with their node.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/kv_pool.h"
#include "engine/state_pool.h"

namespace arle::engine {

class RadixCache {
 public:
  // `states`: the hybrid models' slots (null or empty: no snapshots, and
  // matches use every cached page; with slots but max_snapshots 0 nothing
  // ever matches).
  RadixCache(KvPool& pool, StatePool* states = nullptr, std::int64_t max_snapshots = 0);
  ~RadixCache();

  struct Match {
    std::vector<std::int32_t> pages;  // retained for the caller
    std::int64_t tokens = 0;          // pages.size() * page_size
    // Hybrid models: the slot holding the state after `tokens` (copy it
    // before the cache changes), or -1 with no pages.
    std::int32_t snapshot = -1;
  };
  // The longest cached prefix of tokens[0, limit) in whole pages (for hybrid
  // models, the longest with a snapshot).
  Match match(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t limit);
  // Caches the full pages among tokens[0, computed), whose K/V sit in
  // `page_table`. Pages already cached under the same tokens are kept.
  void insert(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t computed,
              const std::vector<std::int32_t>& page_table);
  // Hybrid models: keeps a copy of `state_slot` (the state after
  // tokens[0, upto), upto a multiple of the page size whose pages are
  // cached) at that prefix's node, evicting a snapshot when max_snapshots
  // are held. A speculative snapshot (one a decoding sample leaves behind,
  // which only helps if a later prompt repeats the output verbatim) is
  // evicted before every other until a match uses it. Returns its id, or 0
  // when none was taken (no such node, snapshots off) or the node already
  // had one (its use is refreshed).
  std::uint64_t add_snapshot(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t upto,
                             std::int32_t state_slot, bool speculative = false);
  // Drops the snapshot add_snapshot returned `id` for, if the cache still
  // holds it.
  void drop_snapshot(std::uint64_t id);
  // Frees the least recently used snapshot's slot; false when none is held.
  bool evict_snapshot();
  // Frees up to `pages` pages that only the cache holds; returns how many.
  std::int64_t evict(std::int64_t pages);
  // Drops every page the cache holds alone (e.g. to measure leaks).
  void clear() { evict(pool_.num_pages()); }

  // Hit/miss counters: the caller records the lookups that it acted on.
  void record_lookup(std::int64_t queried_tokens, std::int64_t hit_tokens) {
    queried_tokens_ += queried_tokens;
    hit_tokens_ += hit_tokens;
  }
  void record_snapshot_hit() { ++snapshot_hits_; }

  bool takes_snapshots() const { return max_snapshots_ > 0; }
  // Whether a match can ever be found: not for hybrid models without snapshots.
  bool can_match() const { return !needs_snapshots_ || takes_snapshots(); }
  std::int64_t cached_pages() const { return cached_pages_; }
  std::int64_t hit_tokens() const { return hit_tokens_; }
  std::int64_t queried_tokens() const { return queried_tokens_; }
  std::int64_t snapshots() const { return static_cast<std::int64_t>(snapshot_lru_.size()); }
  std::int64_t snapshots_taken() const { return snapshots_taken_; }
  std::int64_t snapshot_hits() const { return snapshot_hits_; }
  // Every page the cache holds (one reference each).
  std::vector<std::int32_t> pages() const;
  // Every state slot the cache holds as a snapshot.
  std::vector<std::int32_t> snapshot_slots() const;
  // Throws kInternal if a cached page is free in the pool, a snapshot's slot
  // is not taken, or a node is malformed.
  void check_invariants() const;

 private:
  struct Node {
    std::int32_t page = -1;
    std::int32_t snapshot = -1;      // state slot, -1 when none
    std::uint64_t snapshot_id = 0;   // unique per snapshot taken
    std::uint64_t snapshot_use = 0;  // its key in snapshot_lru_: kKeptSnapshot bit, then last use
    Node* parent = nullptr;
    std::vector<std::int32_t> key;
    std::map<std::vector<std::int32_t>, std::unique_ptr<Node>> children;
    std::uint64_t last_use = 0;
  };
  Node& root(const std::string& ns);
  // The node of tokens[0, upto) (upto in whole pages), or null.
  Node* find(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t upto);
  static constexpr std::uint64_t kKeptSnapshot = 1ull << 63;  // not speculative, or used since
  void touch_snapshot(Node& node, bool kept);
  void release_snapshot(Node& node);
  void release_subtree(Node& node);
  template <typename Visit>
  void for_each_node(Visit visit) const;

  KvPool& pool_;
  StatePool* states_;
  bool needs_snapshots_;  // hybrid models: a match ends at a snapshot
  std::int64_t max_snapshots_;
  std::map<std::string, std::unique_ptr<Node>> roots_;
  std::map<std::uint64_t, Node*> snapshot_lru_;  // speculative first, then by last use, oldest first
  std::unordered_map<std::uint64_t, Node*> snapshot_by_id_;
  std::uint64_t clock_ = 0, snapshot_clock_ = 0;
  std::int64_t cached_pages_ = 0;
  std::int64_t hit_tokens_ = 0, queried_tokens_ = 0;
  std::int64_t snapshots_taken_ = 0, snapshot_hits_ = 0;
};

}  // namespace arle::engine
