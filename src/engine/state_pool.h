#pragma once
// StatePool: the recurrent state of hybrid models' linear-attention (Gated
// DeltaNet) layers, one slot per running sequence. A slot holds, for every
// linear-attention layer in order, the float32 delta-rule state
// [value heads, key_dim, value_dim] (kernels/cpu/gated_delta_rule.h) and the
// conv window [conv_kernel - 1, conv channels] (kernels/cpu/causal_conv1d.h;
// conv channels = 2 key heads x key_dim + value heads x value_dim). Unlike KV
// pages, state is not shared: a sequence takes a slot when it is admitted
// (zeroed: nothing seen yet) and gives it back when it finishes, is
// preempted (it recomputes from its tokens) or is cancelled. A model without
// linear-attention layers gets a pool of empty slots. (Issue 8: not wired
// into the scheduler yet.)

#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace arle::engine {

class StatePool {
 public:
  StatePool(const model::ModelConfig& config, std::int64_t slots);

  // Float32 values of one slot (0 without linear-attention layers).
  static std::int64_t floats_per_slot(const model::ModelConfig& config);

  std::int64_t slots() const { return slots_; }
  std::int64_t free_slots() const { return static_cast<std::int64_t>(free_.size()); }
  std::int64_t linear_layers() const { return linear_layers_; }

  // A zeroed slot, or -1 when none is free.
  std::int32_t allocate();
  // Throws kInternal for a slot that is not taken.
  void release(std::int32_t slot);

  // The slot's state for its `layer`-th linear-attention layer (0-based among
  // them): [value heads][key_dim][value_dim] and [conv_kernel - 1][channels].
  float* recurrent(std::int32_t slot, std::int64_t layer);
  float* conv_window(std::int32_t slot, std::int64_t layer);

 private:
  float* layer_base(std::int32_t slot, std::int64_t layer);

  std::int64_t slots_, linear_layers_ = 0;
  std::int64_t recurrent_floats_ = 0, window_floats_ = 0;  // per layer
  std::vector<float> values_;
  std::vector<std::int32_t> free_;
  std::vector<bool> taken_;
};

}  // namespace arle::engine
