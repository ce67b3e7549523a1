#include "engine/radix_cache.h"

#include <algorithm>

#include "common/error.h"

namespace arle::engine {

RadixCache::~RadixCache() {
  for (auto& [ns, node] : roots_) release_subtree(*node);
}

void RadixCache::release_subtree(Node& node) {
  for (auto& [key, child] : node.children) release_subtree(*child);
  if (node.page >= 0) pool_.release(node.page);
}

RadixCache::Node& RadixCache::root(const std::string& ns) {
  auto& slot = roots_[ns];
  if (!slot) slot = std::make_unique<Node>();
  return *slot;
}

RadixCache::Match RadixCache::match(const std::string& ns, const std::vector<std::int32_t>& tokens,
                                    std::int64_t limit) {
  Match m;
  const std::int64_t page_size = pool_.page_size();
  limit = std::min<std::int64_t>(limit, static_cast<std::int64_t>(tokens.size()));
  Node* node = &root(ns);
  const std::uint64_t now = ++clock_;
  for (std::int64_t start = 0; start + page_size <= limit; start += page_size) {
    std::vector<std::int32_t> key(tokens.begin() + start, tokens.begin() + start + page_size);
    auto it = node->children.find(key);
    if (it == node->children.end()) break;
    node = it->second.get();
    node->last_use = now;
    pool_.retain(node->page);
    m.pages.push_back(node->page);
    m.tokens += page_size;
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
      --cached_pages_;
      ++freed;
      leaf->parent->children.erase(leaf->key);  // destroys leaf
    }
  }
  return freed;
}

std::vector<std::int32_t> RadixCache::pages() const {
  std::vector<std::int32_t> out;
  std::vector<const Node*> stack;
  for (const auto& [ns, r] : roots_) stack.push_back(r.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n->page >= 0) out.push_back(n->page);
    for (const auto& [key, child] : n->children) stack.push_back(child.get());
  }
  return out;
}

void RadixCache::check_invariants() const {
  std::int64_t count = 0;
  std::vector<const Node*> stack;
  for (const auto& [ns, r] : roots_) stack.push_back(r.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const auto& [key, child] : n->children) {
      if (child->parent != n || child->key != key || child->page < 0 ||
          static_cast<std::int64_t>(key.size()) != pool_.page_size()) {
        throw_error(ErrorCode::kInternal, "radix cache: malformed node");
      }
      if (pool_.ref_count(child->page) < 1) throw_error(ErrorCode::kInternal, "radix cache: page {} is free", child->page);
      ++count;
      stack.push_back(child.get());
    }
  }
  if (count != cached_pages_) throw_error(ErrorCode::kInternal, "radix cache: {} nodes but {} counted", count, cached_pages_);
}

}  // namespace arle::engine
