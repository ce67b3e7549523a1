// KvPool reference counting and copy-on-write; RadixCache matching,
// namespaces and LRU eviction.
#include "engine/kv_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "common/error.h"
#include "engine/radix_cache.h"
#include "model/model_config.h"
#include "model/safetensors.h"

namespace arle::engine {
namespace {

model::ModelConfig tiny_config() {
  return model::load_model_config(std::string(ARLE_TEST_FIXTURES) + "/models/stories260K");
}

TEST(KvPool, AllocateRetainReleaseAndExhaustion) {
  KvPool pool(tiny_config(), 3, 4);
  EXPECT_EQ(pool.free_pages(), 3);
  const std::int32_t a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  EXPECT_EQ(pool.allocate(), -1);
  pool.retain(a);
  pool.release(a);
  EXPECT_EQ(pool.free_pages(), 0);
  pool.release(a);
  EXPECT_EQ(pool.free_pages(), 1);
  EXPECT_THROW(pool.release(a), Error);  // double free is caught
  pool.release(b);
  pool.release(c);
  EXPECT_EQ(pool.free_pages(), 3);
}

TEST(KvPool, CopyOnWriteCopiesEveryLayerAndMovesTheReference) {
  KvPool pool(tiny_config(), 4, 4);
  const std::int32_t page = pool.allocate();
  model::PagedKvCache& cache = pool.cache();
  const std::size_t page_floats = cache.k(0).numel() / 4;
  for (std::int64_t layer = 0; layer < cache.num_layers(); ++layer) {
    float* k = cache.k(layer).data<float>() + page * page_floats;
    for (std::size_t i = 0; i < page_floats; ++i) k[i] = static_cast<float>(layer * 1000 + i);
  }
  EXPECT_EQ(pool.copy_on_write(page), page);  // sole holder: written in place
  pool.retain(page);                            // now shared
  const std::int32_t copy = pool.copy_on_write(page);
  ASSERT_NE(copy, page);
  EXPECT_EQ(pool.ref_count(page), 1);
  EXPECT_EQ(pool.ref_count(copy), 1);
  for (std::int64_t layer = 0; layer < cache.num_layers(); ++layer) {
    EXPECT_EQ(std::memcmp(cache.k(layer).data<float>() + page * page_floats,
                          cache.k(layer).data<float>() + copy * page_floats, page_floats * sizeof(float)),
              0);
  }
}

TEST(RadixCache, MatchesWholePagesWithinANamespace) {
  KvPool pool(tiny_config(), 8, 4);
  RadixCache cache(pool);
  std::vector<std::int32_t> tokens{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<std::int32_t> table{pool.allocate(), pool.allocate(), pool.allocate()};
  cache.insert("a", tokens, 10, table);  // pages [1..4], [5..8]; the partial third is not cached
  EXPECT_EQ(cache.cached_pages(), 2);
  RadixCache::Match m = cache.match("a", tokens, 9);
  EXPECT_EQ(m.tokens, 8);
  EXPECT_EQ(m.pages, (std::vector<std::int32_t>{table[0], table[1]}));
  EXPECT_EQ(pool.ref_count(table[0]), 3);  // sequence, cache, match
  EXPECT_EQ(cache.match("a", tokens, 7).tokens, 4);  // limit respected
  EXPECT_EQ(cache.match("b", tokens, 10).tokens, 0);  // other namespace
  std::vector<std::int32_t> other{1, 2, 3, 5};
  EXPECT_EQ(cache.match("a", other, 4).tokens, 0);
  cache.check_invariants();
}

TEST(RadixCache, EvictsLeastRecentlyUsedLeavesNobodyHolds) {
  KvPool pool(tiny_config(), 6, 2);
  RadixCache cache(pool);
  std::vector<std::int32_t> x{1, 2, 3, 4}, y{1, 2, 7, 8};
  std::vector<std::int32_t> tx{pool.allocate(), pool.allocate()}, ty{pool.allocate(), pool.allocate()};
  cache.insert("n", x, 4, tx);
  cache.insert("n", y, 4, ty);  // shares the first page key with x: keeps tx[0]
  EXPECT_EQ(cache.cached_pages(), 3);
  for (std::int32_t p : tx) pool.release(p);
  for (std::int32_t p : ty) pool.release(p);  // ty[0] was never cached: freed now
  EXPECT_EQ(pool.free_pages(), 3);
  RadixCache::Match keep = cache.match("n", y, 4);  // y's pages become recently used and held
  EXPECT_EQ(cache.evict(10), 1);  // only x's leaf is free to go
  for (std::int32_t p : keep.pages) pool.release(p);
  EXPECT_EQ(cache.evict(10), 2);  // y's leaf, then the shared root page
  EXPECT_EQ(pool.free_pages(), 6);
  cache.check_invariants();
}

}  // namespace
}  // namespace arle::engine
