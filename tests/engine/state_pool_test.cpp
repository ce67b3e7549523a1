// Recurrent state of hybrid models on the qwen3.5-tiny shape: the cache's
// slot layout from the config, the pool's zeroed slots on allocation,
// exhaustion and misuse as errors, and the radix cache's state snapshots
// (where a match ends, LRU bound, eviction with their pages).
#include "engine/state_pool.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "engine/kv_pool.h"
#include "engine/radix_cache.h"

namespace arle::engine {
namespace {

// qwen3.5-tiny's linear-attention shape: 2 key heads, 4 value heads of 16,
// conv kernel 4; three linear layers, then one full-attention layer.
model::ModelConfig hybrid() {
  model::ModelConfig c;
  c.num_layers = 4;
  c.num_kv_heads = 2;
  c.head_dim = 32;
  c.linear.conv_kernel_dim = 4;
  c.linear.key_head_dim = 16;
  c.linear.value_head_dim = 16;
  c.linear.num_key_heads = 2;
  c.linear.num_value_heads = 4;
  c.layer_types = {model::LayerType::kLinearAttention, model::LayerType::kLinearAttention,
                   model::LayerType::kLinearAttention, model::LayerType::kFullAttention};
  return c;
}

bool all_zero(const Tensor& t, std::int64_t slot) {
  const Tensor s = t.narrow_rows(slot, slot + 1);
  const float* p = s.data<float>();
  return std::all_of(p, p + s.numel(), [](float x) { return x == 0.0f; });
}

TEST(RecurrentState, TheCacheHoldsEveryLinearLayersStateAndWindow) {
  // Per layer: 4 x 16 x 16 recurrent + 3 x (2 x 2 x 16 + 4 x 16) window.
  EXPECT_EQ(model::PagedKvCache::state_floats_per_slot(hybrid()), 3 * (1024 + 3 * 128));
  model::PagedKvCache cache(hybrid(), 4, 16, {}, 3);
  EXPECT_TRUE(cache.has_state());
  EXPECT_EQ(cache.state_slots(), 3);
  for (std::int64_t layer = 0; layer < 3; ++layer) {
    EXPECT_EQ(cache.recurrent_state(layer).shape(), (Shape{3, 4, 16, 16}));
    EXPECT_EQ(cache.conv_window(layer).shape(), (Shape{3, 3, 128}));
  }
  EXPECT_THROW(cache.recurrent_state(3), Error);  // the full-attention layer
  EXPECT_NO_THROW(cache.k(3));
  EXPECT_THROW(cache.k(0), Error);
  EXPECT_EQ(cache.bytes(), 2u * 4 * 16 * 2 * 32 * 4 + 3u * 3 * (1024 + 384) * 4);
  // Without slots (or without linear layers) there is no state.
  EXPECT_FALSE(model::PagedKvCache(hybrid(), 4).has_state());
  EXPECT_THROW(model::PagedKvCache(hybrid(), 4, 16, {}, -1), Error);
}

TEST(StatePool, AReusedSlotStartsFromZero) {
  model::PagedKvCache cache(hybrid(), 4, 16, {}, 2);
  StatePool pool(cache);
  EXPECT_EQ(pool.slots(), 2);
  const std::int32_t a = pool.allocate(), b = pool.allocate();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.allocate(), -1);  // exhausted
  for (std::int64_t layer = 0; layer < 3; ++layer) {
    std::fill_n(cache.recurrent_state(layer).data<float>(), cache.recurrent_state(layer).numel(), 3.0f);
    std::fill_n(cache.conv_window(layer).data<float>(), cache.conv_window(layer).numel(), -1.0f);
  }
  pool.release(a);
  EXPECT_EQ(pool.free_slots(), 1);
  ASSERT_EQ(pool.allocate(), a);
  for (std::int64_t layer = 0; layer < 3; ++layer) {
    EXPECT_TRUE(all_zero(cache.recurrent_state(layer), a));
    EXPECT_TRUE(all_zero(cache.conv_window(layer), a));
    EXPECT_FALSE(all_zero(cache.recurrent_state(layer), b));  // the other slot is untouched
  }
}

TEST(StatePool, MisuseIsAnError) {
  model::PagedKvCache cache(hybrid(), 4, 16, {}, 2);
  StatePool pool(cache);
  EXPECT_THROW(pool.release(0), Error);  // never taken
  const std::int32_t s = pool.allocate();
  pool.release(s);
  EXPECT_THROW(pool.release(s), Error);  // twice
  EXPECT_THROW(pool.release(7), Error);
  EXPECT_THROW(cache.zero_state(2), Error);
  // A model without linear-attention layers: no slots.
  model::ModelConfig dense = hybrid();
  dense.layer_types.assign(4, model::LayerType::kFullAttention);
  model::PagedKvCache dense_cache(dense, 4, 16, {}, 4);
  EXPECT_FALSE(dense_cache.has_state());
  StatePool empty(dense_cache);
  EXPECT_EQ(empty.allocate(), -1);
}

// Fills a slot's state and window with `value`.
void fill_slot(model::PagedKvCache& cache, std::int32_t slot, float value) {
  for (std::int64_t layer = 0; layer < 3; ++layer) {
    for (const Tensor* t : {&cache.recurrent_state(layer), &cache.conv_window(layer)}) {
      const Tensor s = t->narrow_rows(slot, slot + 1);
      std::fill_n(s.data<float>(), s.numel(), value);
    }
  }
}

bool slot_is(const model::PagedKvCache& cache, std::int32_t slot, float value) {
  for (std::int64_t layer = 0; layer < 3; ++layer) {
    for (const Tensor* t : {&cache.recurrent_state(layer), &cache.conv_window(layer)}) {
      const Tensor s = t->narrow_rows(slot, slot + 1);
      if (!std::all_of(s.data<float>(), s.data<float>() + s.numel(), [&](float x) { return x == value; })) return false;
    }
  }
  return true;
}

TEST(StateSnapshots, AMatchEndsAtTheDeepestSnapshotAndCopiesNothingItDoesNotUse) {
  KvPool pool(hybrid(), 8, 4, {}, /*state_slots=*/4);
  StatePool states(pool.cache());
  RadixCache cache(pool, &states, /*max_snapshots=*/2);
  const std::vector<std::int32_t> tokens{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  std::vector<std::int32_t> table{pool.allocate(), pool.allocate(), pool.allocate()};
  cache.insert("n", tokens, 12, table);
  EXPECT_EQ(cache.cached_pages(), 3);
  // Pages alone do not resume a hybrid model.
  RadixCache::Match m = cache.match("n", tokens, 12);
  EXPECT_EQ(m.tokens, 0);
  EXPECT_EQ(m.snapshot, -1);
  EXPECT_EQ(pool.ref_count(table[0]), 2);  // nothing retained

  const std::int32_t live = states.allocate();
  fill_slot(pool.cache(), live, 8.0f);
  EXPECT_FALSE(cache.add_snapshot("n", tokens, 6, live));   // not a page boundary
  EXPECT_FALSE(cache.add_snapshot("n", tokens, 16, live));  // beyond the cached pages
  ASSERT_TRUE(cache.add_snapshot("n", tokens, 8, live));
  EXPECT_FALSE(cache.add_snapshot("n", tokens, 8, live));  // already there
  fill_slot(pool.cache(), live, 12.0f);                    // the sequence goes on
  ASSERT_TRUE(cache.add_snapshot("n", tokens, 12, live));
  EXPECT_EQ(cache.snapshots(), 2);
  EXPECT_EQ(states.free_slots(), 1);

  m = cache.match("n", tokens, 11);  // 12 is past the limit: ends at 8
  EXPECT_EQ(m.tokens, 8);
  EXPECT_EQ(m.pages, (std::vector<std::int32_t>{table[0], table[1]}));
  ASSERT_GE(m.snapshot, 0);
  EXPECT_NE(m.snapshot, live);
  EXPECT_TRUE(slot_is(pool.cache(), m.snapshot, 8.0f));
  for (std::int32_t p : m.pages) pool.release(p);
  m = cache.match("n", tokens, 13);
  EXPECT_EQ(m.tokens, 12);
  EXPECT_TRUE(slot_is(pool.cache(), m.snapshot, 12.0f));
  for (std::int32_t p : m.pages) pool.release(p);
  cache.check_invariants();

  // A third snapshot evicts the least recently used (8: 12 was matched last).
  fill_slot(pool.cache(), live, 4.0f);
  const std::uint64_t at4 = cache.add_snapshot("n", tokens, 4, live);
  ASSERT_NE(at4, 0u);
  EXPECT_EQ(cache.snapshots(), 2);
  m = cache.match("n", tokens, 11);
  EXPECT_EQ(m.tokens, 4);
  EXPECT_TRUE(slot_is(pool.cache(), m.snapshot, 4.0f));
  for (std::int32_t p : m.pages) pool.release(p);
  cache.drop_snapshot(at4 + 1);  // not that snapshot's id: kept
  EXPECT_EQ(cache.snapshots(), 2);
  cache.drop_snapshot(at4);
  EXPECT_EQ(cache.snapshots(), 1);
  cache.check_invariants();

  // Evicting pages takes their snapshots along.
  for (std::int32_t p : table) pool.release(p);
  EXPECT_EQ(cache.evict(8), 3);
  EXPECT_EQ(cache.snapshots(), 0);
  EXPECT_EQ(states.free_slots(), 3);  // all but the live sequence's
  EXPECT_EQ(pool.free_pages(), 8);
  cache.check_invariants();
}

// A decoding sample's snapshots are speculative: evicted before any other,
// until a match uses one.
TEST(StateSnapshots, SpeculativeSnapshotsGoFirstUntilUsed) {
  KvPool pool(hybrid(), 8, 4, {}, 4);
  StatePool states(pool.cache());
  RadixCache cache(pool, &states, 2);
  const std::vector<std::int32_t> tokens{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  std::vector<std::int32_t> table{pool.allocate(), pool.allocate(), pool.allocate()};
  cache.insert("n", tokens, 12, table);
  const std::int32_t live = states.allocate();
  ASSERT_NE(cache.add_snapshot("n", tokens, 4, live), 0u);                        // kept
  ASSERT_NE(cache.add_snapshot("n", tokens, 8, live, /*speculative=*/true), 0u);  // newer, but speculative
  ASSERT_NE(cache.add_snapshot("n", tokens, 12, live), 0u);                       // evicts 8, not 4
  RadixCache::Match first = cache.match("n", tokens, 11);
  EXPECT_EQ(first.tokens, 4);
  for (std::int32_t p : first.pages) pool.release(p);
  ASSERT_NE(cache.add_snapshot("n", tokens, 8, live, true), 0u);  // evicts 12: kept, and used before 4
  RadixCache::Match m = cache.match("n", tokens, 11);             // uses 8: now kept
  EXPECT_EQ(m.tokens, 8);
  ASSERT_NE(cache.add_snapshot("n", tokens, 12, live), 0u);  // evicts 4, the least recently used kept one
  EXPECT_EQ(cache.match("n", tokens, 7).tokens, 0);
  cache.check_invariants();
  for (std::int32_t p : m.pages) pool.release(p);
  for (std::int32_t p : table) pool.release(p);
}

TEST(StateSnapshots, EvictionForALiveSequenceAndNoSnapshotsMeansNoMatch) {
  KvPool pool(hybrid(), 4, 4, {}, 2);
  StatePool states(pool.cache());
  RadixCache cache(pool, &states, 1);
  const std::vector<std::int32_t> tokens{1, 2, 3, 4, 5};
  std::vector<std::int32_t> table{pool.allocate()};
  cache.insert("n", tokens, 4, table);
  const std::int32_t live = states.allocate();
  ASSERT_TRUE(cache.add_snapshot("n", tokens, 4, live));
  EXPECT_EQ(states.allocate(), -1);  // one sequence, one snapshot: full
  EXPECT_TRUE(cache.evict_snapshot());
  EXPECT_FALSE(cache.evict_snapshot());
  EXPECT_GE(states.allocate(), 0);
  EXPECT_TRUE(cache.can_match());

  RadixCache off(pool, &states, 0);  // hybrid, snapshots off: pages never match
  EXPECT_FALSE(off.can_match());
  off.insert("n", tokens, 4, table);
  EXPECT_EQ(off.match("n", tokens, 5).tokens, 0);
  EXPECT_FALSE(off.add_snapshot("n", tokens, 4, live));
  pool.release(table[0]);
}

}  // namespace
}  // namespace arle::engine
