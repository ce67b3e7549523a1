#include "engine/radix_cache.h"

#include <algorithm>

#include "common/error.h"

namespace arle::engine {

RadixCache::RadixCache(KvPool& pool, StatePool* states, std::int64_t max_snapshots)
    : pool_(pool),
      states_(states),
      needs_snapshots_(states && states->slots() > 0),
      max_snapshots_(needs_snapshots_ ? max_snapshots : 0) {}

RadixCache::~RadixCache() {
  for (auto& [ns, node] : roots_) release_subtree(*node);
}

void RadixCache::release_subtree(Node& node) {
  for (auto& [key, child] : node.children) release_subtree(*child);
  if (node.page >= 0) pool_.release(node.page);
  release_snapshot(node);
}

void RadixCache::touch_snapshot(Node& node, bool kept) {
  if (node.snapshot_use != 0) {
    kept = kept || (node.snapshot_use & kKeptSnapshot) != 0;
    snapshot_lru_.erase(node.snapshot_use);
  }
  node.snapshot_use = ++snapshot_clock_ | (kept ? kKeptSnapshot : 0);
  snapshot_lru_.emplace(node.snapshot_use, &node);
}

void RadixCache::release_snapshot(Node& node) {
  if (node.snapshot < 0) return;
  states_->release(node.snapshot);
  node.snapshot = -1;
  snapshot_lru_.erase(node.snapshot_use);
  snapshot_by_id_.erase(node.snapshot_id);
  node.snapshot_use = 0;
  node.snapshot_id = 0;
}

RadixCache::Node& RadixCache::root(const std::string& ns) {
  auto& slot = roots_[ns];
  if (!slot) slot = std::make_unique<Node>();
  return *slot;
}

RadixCache::Node* RadixCache::find(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t upto) {
  const std::int64_t page_size = pool_.page_size();
  if (upto % page_size != 0 || upto > static_cast<std::int64_t>(tokens.size())) return nullptr;
  Node* node = &root(ns);
  for (std::int64_t start = 0; start < upto; start += page_size) {
    auto it =
        node->children.find(std::vector<std::int32_t>(tokens.begin() + start, tokens.begin() + start + page_size));
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

RadixCache::Match RadixCache::match(const std::string& ns, const std::vector<std::int32_t>& tokens,
                                    std::int64_t limit) {
  const std::int64_t page_size = pool_.page_size();
  limit = std::min<std::int64_t>(limit, static_cast<std::int64_t>(tokens.size()));
  Node* node = &root(ns);
  const std::uint64_t now = ++clock_;
  std::vector<Node*> path;
  std::size_t usable = 0;  // nodes of the path a match may use
  for (std::int64_t start = 0; start + page_size <= limit; start += page_size) {
    std::vector<std::int32_t> key(tokens.begin() + start, tokens.begin() + start + page_size);
    auto it = node->children.find(key);
    if (it == node->children.end()) break;
    node = it->second.get();
    node->last_use = now;
    path.push_back(node);
    if (!needs_snapshots_ || node->snapshot >= 0) usable = path.size();
  }
  Match m;
  for (std::size_t i = 0; i < usable; ++i) {
    pool_.retain(path[i]->page);
    m.pages.push_back(path[i]->page);
  }
  m.tokens = static_cast<std::int64_t>(usable) * page_size;
  if (takes_snapshots() && usable > 0) {
    m.snapshot = path[usable - 1]->snapshot;
    touch_snapshot(*path[usable - 1], /*kept=*/true);
  }
  return m;
}

void RadixCache::insert(const std::string& ns, const std::vector<std::int32_t>& tokens, std::int64_t computed,
                        const std::vector<std::int32_t>& page_table) {
  const std::int64_t page_size = pool_.page_size();
  computed = std::min<std::int64_t>(computed, static_cast<std::int64_t>(tokens.size()));
  Node* node = &root(ns);
  const std::uint64_t now = ++clock_;
  for (std::int64_t start = 0, i = 0; start + page_size <= computed; start += page_size, ++i) {
    if (i >= static_cast<std::int64_t>(page_table.size())) break;
    std::vector<std::int32_t> key(tokens.begin() + start, tokens.begin() + start + page_size);
    auto it = node->children.find(key);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->page = page_table[static_cast<std::size_t>(i)];
      child->parent = node;
      child->key = key;
      pool_.retain(child->page);
      ++cached_pages_;
      it = node->children.emplace(std::move(key), std::move(child)).first;
    }
    node = it->second.get();
    node->last_use = now;
  }
}

std::uint64_t RadixCache::add_snapshot(const std::string& ns, const std::vector<std::int32_t>& tokens,
                                       std::int64_t upto, std::int32_t state_slot, bool speculative) {
  if (!takes_snapshots() || upto <= 0) return 0;
  Node* node = find(ns, tokens, upto);
  if (node == nullptr) return 0;
  if (node->snapshot >= 0) {
    touch_snapshot(*node, !speculative);
    return 0;
  }
  if (snapshots() >= max_snapshots_) evict_snapshot();
  const std::int32_t slot = states_->allocate(/*zeroed=*/false);
  if (slot < 0) return 0;  // running sequences hold every slot
  states_->cache().copy_state(state_slot, slot);
  node->snapshot = slot;
  node->snapshot_id = static_cast<std::uint64_t>(++snapshots_taken_);
  snapshot_by_id_.emplace(node->snapshot_id, node);
  touch_snapshot(*node, !speculative);
  return node->snapshot_id;
}

void RadixCache::drop_snapshot(std::uint64_t id) {
  if (auto it = snapshot_by_id_.find(id); it != snapshot_by_id_.end()) release_snapshot(*it->second);
}

bool RadixCache::evict_snapshot() {
  if (snapshot_lru_.empty()) return false;
  release_snapshot(*snapshot_lru_.begin()->second);
  return true;
}

std::int64_t RadixCache::evict(std::int64_t pages) {
  std::int64_t freed = 0;
  while (freed < pages) {
    // Leaves only the cache holds, least recently used first.
    std::vector<Node*> leaves;
    std::vector<Node*> stack;
    for (auto& [ns, r] : roots_) stack.push_back(r.get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (auto& [key, child] : n->children) stack.push_back(child.get());
      if (n->page >= 0 && n->children.empty() && pool_.ref_count(n->page) == 1) leaves.push_back(n);
    }
    if (leaves.empty()) break;
    std::sort(leaves.begin(), leaves.end(), [](const Node* a, const Node* b) { return a->last_use < b->last_use; });
    for (Node* leaf : leaves) {
      if (freed >= pages) break;
      pool_.release(leaf->page);
      release_snapshot(*leaf);
      --cached_pages_;
      ++freed;
      leaf->parent->children.erase(leaf->key);  // destroys leaf
    }
  }
  return freed;
}

template <typename Visit>
void RadixCache::for_each_node(Visit visit) const {
  std::vector<const Node*> stack;
  for (const auto& [ns, r] : roots_) stack.push_back(r.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    visit(*n);
    for (const auto& [key, child] : n->children) stack.push_back(child.get());
  }
}

std::vector<std::int32_t> RadixCache::pages() const {
  std::vector<std::int32_t> out;
  for_each_node([&](const Node& n) {
    if (n.page >= 0) out.push_back(n.page);
  });
  return out;
}

std::vector<std::int32_t> RadixCache::snapshot_slots() const {
  std::vector<std::int32_t> out;
  for (const auto& [use, node] : snapshot_lru_) out.push_back(node->snapshot);
  return out;
}

void RadixCache::check_invariants() const {
  std::int64_t count = 0, snapshots = 0;
  for_each_node([&](const Node& n) {
    for (const auto& [key, child] : n.children) {
      if (child->parent != &n || child->key != key || child->page < 0 ||
          static_cast<std::int64_t>(key.size()) != pool_.page_size()) {
        throw_error(ErrorCode::kInternal, "radix cache: malformed node");
      }
      if (pool_.ref_count(child->page) < 1)
        throw_error(ErrorCode::kInternal, "radix cache: page {} is free", child->page);
      ++count;
    }
    if (n.snapshot < 0 && (n.snapshot_use != 0 || n.snapshot_id != 0)) {
      throw_error(ErrorCode::kInternal, "radix cache: a node without a snapshot keeps its keys");
    }
    if (n.snapshot >= 0) {
      ++snapshots;
      auto it = snapshot_lru_.find(n.snapshot_use);
      auto by_id = snapshot_by_id_.find(n.snapshot_id);
      if (n.page < 0 || n.snapshot_id == 0 || !states_->taken(n.snapshot) || it == snapshot_lru_.end() ||
          it->second != &n || by_id == snapshot_by_id_.end() || by_id->second != &n) {
        throw_error(ErrorCode::kInternal, "radix cache: snapshot in slot {} is not held or not indexed", n.snapshot);
      }
    }
  });
  if (count != cached_pages_)
    throw_error(ErrorCode::kInternal, "radix cache: {} nodes but {} counted", count, cached_pages_);
  if (snapshots != this->snapshots() || snapshots != std::ssize(snapshot_by_id_) ||
      snapshots > std::max<std::int64_t>(max_snapshots_, 0)) {
    throw_error(ErrorCode::kInternal, "radix cache: {} snapshots, {} indexed, at most {}", snapshots, this->snapshots(),
                max_snapshots_);
  }
}

}  // namespace arle::engine
