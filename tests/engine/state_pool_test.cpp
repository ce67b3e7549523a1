// Recurrent state of hybrid models on the qwen3.5-tiny shape: the cache's
// slot layout from the config, and the pool's zeroed slots on allocation,
// exhaustion and misuse as errors.
#include "engine/state_pool.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"

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

}  // namespace
}  // namespace arle::engine
