// The start-up memory plan against a model that reports a device: each flag
// sizes the KV pool as documented, the model is prepared for the engine's
// largest step first, and budgets that cannot fit are errors.
#include "engine/memory_plan.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "engine/engine_core.h"

namespace arle::engine {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// A model on a pretend 80 GiB device: 2 layers of 2 KV heads x 64 in bf16,
// 1 KiB of KV per token; prepare() takes `workspace` bytes.
class DeviceModel final : public model::CausalLm {
 public:
  DeviceModel(std::uint64_t free_before_prepare, std::uint64_t workspace)
      : free_(free_before_prepare), workspace_(workspace) {
    config_.num_layers = 2;
    config_.num_kv_heads = 2;
    config_.head_dim = 64;
    config_.layer_types.assign(2, model::LayerType::kFullAttention);
  }
  const model::ModelConfig& config() const override { return config_; }
  Tensor forward(const model::ForwardBatch&, model::PagedKvCache&) override {
    throw_error(ErrorCode::kUnsupported, "not a real model");
  }
  std::size_t weight_bytes() const override { return 3 * kGiB; }
  std::string device_name() const override { return "Pretend GPU (cuda:0)"; }
  model::KvStorage kv_storage() const override {
    model::KvStorage s;
    s.dtype = DType::kBF16;
    return s;
  }
  void prepare(std::int64_t max_rows, std::int64_t max_sequences) override {
    prepared_rows = max_rows;
    prepared_sequences = max_sequences;
    free_ -= workspace_;
  }
  std::optional<DeviceMemory> device_memory() const override {
    return DeviceMemory{80 * kGiB, free_, prepared_rows > 0 ? workspace_ : 0};
  }

  std::int64_t prepared_rows = 0, prepared_sequences = 0;

 private:
  model::ModelConfig config_;
  std::uint64_t free_, workspace_;
};

EngineConfig flags(std::size_t kv_bytes = 0, double percent = 0, double fraction = 0.85) {
  EngineConfig c;
  c.scheduler.max_batched_tokens = 4096;
  c.scheduler.max_num_seqs = 64;
  c.page_size = 16;
  c.kv_cache_bytes = kv_bytes;
  c.kv_cache_percent = percent;
  c.gpu_memory_fraction = fraction;
  return c;
}

constexpr std::uint64_t kPageBytes = 1024 * 16;

TEST(MemoryPlan, TheFractionCoversWeightsWorkspaceAndKv) {
  // 3 GiB of weights already resident: 77 GiB free, 2 GiB of workspace.
  DeviceModel model(77 * kGiB, 2 * kGiB);
  const MemoryPlan plan = plan_memory(model, flags());
  EXPECT_EQ(model.prepared_rows, 4096);
  EXPECT_EQ(model.prepared_sequences, 64);
  // 0.85 x 80 GiB = 68 GiB in all; 5 GiB held, so 63 GiB for KV (page-rounded).
  const auto reserved = static_cast<std::uint64_t>(80.0 * kGiB * 0.15);
  const std::uint64_t budget = 75 * kGiB - reserved;
  EXPECT_EQ(plan.kv_pages, static_cast<std::int64_t>(budget / kPageBytes));
  EXPECT_EQ(plan.kv_tokens, plan.kv_pages * 16);
  EXPECT_EQ(plan.kv_bytes, static_cast<std::uint64_t>(plan.kv_pages) * kPageBytes);
  EXPECT_EQ(plan.workspace, 2 * kGiB);
  EXPECT_EQ(plan.device_free_after, 75 * kGiB - plan.kv_bytes);
  const std::string line = describe(plan);
  EXPECT_NE(line.find("Pretend GPU"), std::string::npos) << line;
  EXPECT_NE(line.find("--gpu-memory-fraction 0.85"), std::string::npos) << line;
}

TEST(MemoryPlan, AnExplicitSizeOrShareWins) {
  DeviceModel sized(77 * kGiB, 2 * kGiB);
  EXPECT_EQ(plan_memory(sized, flags(10 * kGiB)).kv_bytes, 10 * kGiB);
  DeviceModel share(77 * kGiB, 2 * kGiB);
  // 50% of the 75 GiB free after prepare().
  EXPECT_EQ(plan_memory(share, flags(0, 50)).kv_pages, static_cast<std::int64_t>(75 * kGiB / 2 / kPageBytes));
}

TEST(MemoryPlan, BudgetsThatCannotFitFailAtStartUp) {
  DeviceModel too_big(77 * kGiB, 2 * kGiB);
  try {
    plan_memory(too_big, flags(80 * kGiB));
    FAIL() << "an 80 GiB KV cache fit in 75 GiB";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  // Another process holds most of the card: 0.5 of it is already spent.
  DeviceModel crowded(35 * kGiB, 2 * kGiB);
  try {
    plan_memory(crowded, flags(0, 0, 0.5));
    FAIL() << "the fraction left room";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--gpu-memory-fraction"), std::string::npos) << e.what();
  }
  DeviceModel model(77 * kGiB, 0);
  EXPECT_THROW(plan_memory(model, flags(0, 0, 0)), Error);
  EXPECT_THROW(plan_memory(model, flags(0, 0, 1.5)), Error);
  EngineConfig no_rows = flags();
  no_rows.scheduler.max_batched_tokens = 0;
  EXPECT_THROW(plan_memory(model, no_rows), Error);
}

// A model on the CPU (no device memory) with the given layers.
class HostModel final : public model::CausalLm {
 public:
  explicit HostModel(model::ModelConfig config) : config_(std::move(config)) {}
  const model::ModelConfig& config() const override { return config_; }
  Tensor forward(const model::ForwardBatch&, model::PagedKvCache&) override { return {}; }
  std::size_t weight_bytes() const override { return 0; }

 private:
  model::ModelConfig config_;
};

// One attention layer of one KV head of 8 (and, for hybrid models, a
// linear-attention layer before it).
model::ModelConfig host_config(bool hybrid) {
  model::ModelConfig c;
  c.num_kv_heads = 1;
  c.head_dim = 8;
  c.layer_types = {model::LayerType::kFullAttention};
  if (hybrid) {
    c.layer_types.insert(c.layer_types.begin(), model::LayerType::kLinearAttention);
    c.linear = {4, 16, 16, 2, 4};  // conv kernel, key dim, value dim, key heads, value heads
  }
  c.num_layers = static_cast<std::int64_t>(c.layer_types.size());
  return c;
}

TEST(MemoryPlan, TheCpuDefaultIsOneGibibyte) {
  HostModel host(host_config(false));
  const MemoryPlan plan = plan_memory(host, flags());
  EXPECT_EQ(plan.kv_bytes, kGiB);  // float32: 64 bytes a token, 1 KiB a page
  EXPECT_EQ(plan.device_total, 0u);
  EXPECT_EQ(describe(plan).find("left free"), std::string::npos);
}

// Hybrid models hold a recurrent-state slot per running sequence and one
// per prefix-cache snapshot (as many as sequences unless --state-snapshots
// says; none without the prefix cache): on top of the CPU default KV
// budget, out of an explicit one, and an error when an explicit budget
// cannot hold them.
TEST(MemoryPlan, HybridStateSlotsComeBesideTheDefaultAndOutOfAnExplicitBudget) {
  HostModel host(host_config(true));
  // Per slot: 4 x 16 x 16 state + 3 x 128 window floats = 5632 bytes.
  const std::uint64_t slot_bytes = (4 * 16 * 16 + 3 * 128) * 4;
  MemoryPlan plan = plan_memory(host, flags());
  EXPECT_EQ(plan.state_slots, 128);  // --max-num-seqs 64, and 64 snapshots
  EXPECT_EQ(plan.state_snapshots, 64);
  EXPECT_EQ(plan.state_bytes, 128 * slot_bytes);
  EXPECT_EQ(plan.kv_bytes, kGiB);  // the state comes on top of the default
  EXPECT_NE(describe(plan).find("recurrent state"), std::string::npos) << describe(plan);
  EXPECT_NE(describe(plan).find("64 prefix-cache snapshots"), std::string::npos) << describe(plan);
  plan = plan_memory(host, flags(128 * slot_bytes + 10 * 64 * 16));  // float32 KV: 64 bytes a token
  EXPECT_EQ(plan.kv_pages, 10);
  try {
    plan_memory(host, flags(128 * slot_bytes));
    FAIL() << "a budget that only holds the state left room for KV";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("recurrent state of 64 sequences and 64 snapshots"), std::string::npos)
        << e.what();
  }

  EngineConfig config = flags();
  config.state_snapshots = 5;
  EXPECT_EQ(plan_memory(host, config).state_slots, 69);
  config.scheduler.prefix_cache = false;  // nothing to keep snapshots for
  plan = plan_memory(host, config);
  EXPECT_EQ(plan.state_slots, 64);
  EXPECT_EQ(plan.state_snapshots, 0);
  config.state_snapshots = -2;
  EXPECT_THROW(plan_memory(host, config), Error);
}

}  // namespace
}  // namespace arle::engine
