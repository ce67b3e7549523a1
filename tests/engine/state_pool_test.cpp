// The hybrid models' state pool on the qwen3.5-tiny shape: slot sizes from
// the config, zeroed slots on allocation, exhaustion, and misuse as errors.
#include "engine/state_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/error.h"

namespace arle::engine {
namespace {

// qwen3.5-tiny's linear-attention shape: 2 key heads, 4 value heads of 16,
// conv kernel 4; three linear layers, then one full-attention layer.
model::ModelConfig hybrid() {
  model::ModelConfig c;
  c.linear.conv_kernel_dim = 4;
  c.linear.key_head_dim = 16;
  c.linear.value_head_dim = 16;
  c.linear.num_key_heads = 2;
  c.linear.num_value_heads = 4;
  c.layer_types = {model::LayerType::kLinearAttention, model::LayerType::kLinearAttention,
                   model::LayerType::kLinearAttention, model::LayerType::kFullAttention};
  return c;
}

TEST(StatePool, SlotsHoldEveryLinearLayersStateAndWindow) {
  // Per layer: 4 x 16 x 16 recurrent + 3 x (2 x 2 x 16 + 4 x 16) window.
  EXPECT_EQ(StatePool::floats_per_slot(hybrid()), 3 * (1024 + 3 * 128));
  StatePool pool(hybrid(), 3);
  EXPECT_EQ(pool.linear_layers(), 3);
  const std::int32_t a = pool.allocate(), b = pool.allocate();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_NE(a, b);
  // Regions of different layers and slots do not overlap.
  std::set<float*> starts;
  for (std::int32_t s : {a, b}) {
    for (std::int64_t l = 0; l < 3; ++l) {
      EXPECT_EQ(pool.conv_window(s, l) - pool.recurrent(s, l), 1024);
      starts.insert(pool.recurrent(s, l));
    }
  }
  EXPECT_EQ(starts.size(), 6u);
  EXPECT_EQ(pool.recurrent(a, 1) - pool.recurrent(a, 0), 1024 + 384);
}

TEST(StatePool, AReusedSlotStartsFromZero) {
  StatePool pool(hybrid(), 1);
  const std::int32_t s = pool.allocate();
  std::fill_n(pool.recurrent(s, 2), 1024, 3.0f);
  std::fill_n(pool.conv_window(s, 0), 384, -1.0f);
  EXPECT_EQ(pool.allocate(), -1);  // exhausted
  pool.release(s);
  EXPECT_EQ(pool.free_slots(), 1);
  const std::int32_t again = pool.allocate();
  ASSERT_EQ(again, s);
  for (std::int64_t l = 0; l < 3; ++l) {
    EXPECT_TRUE(std::all_of(pool.recurrent(again, l), pool.recurrent(again, l) + 1024, [](float x) { return x == 0; }));
    EXPECT_TRUE(
        std::all_of(pool.conv_window(again, l), pool.conv_window(again, l) + 384, [](float x) { return x == 0; }));
  }
}

TEST(StatePool, MisuseIsAnError) {
  StatePool pool(hybrid(), 2);
  EXPECT_THROW(pool.release(0), Error);  // never taken
  const std::int32_t s = pool.allocate();
  EXPECT_THROW(pool.recurrent(s, 3), Error);  // only three linear layers
  const std::int32_t other = s == 0 ? 1 : 0;
  EXPECT_THROW(pool.recurrent(other, 0), Error);  // a free slot
  pool.release(s);
  EXPECT_THROW(pool.release(s), Error);  // twice
  EXPECT_THROW(pool.conv_window(s, 0), Error);
  EXPECT_THROW(StatePool(hybrid(), -1), Error);
  // A model without linear-attention layers: slots with nothing in them.
  model::ModelConfig dense;
  dense.layer_types = {model::LayerType::kFullAttention};
  EXPECT_EQ(StatePool::floats_per_slot(dense), 0);
  StatePool empty(dense, 4);
  EXPECT_GE(empty.allocate(), 0);
}

}  // namespace
}  // namespace arle::engine
