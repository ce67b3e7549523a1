// A sequence's logits are bitwise identical whether it runs alone or beside
// other sequences, however its prompt is chunked, wherever its pages are and
// however many threads run the kernels. Hybrid (Qwen3.5) models keep the
// first and last of these; their chunking changes the delta rule's float
// operations (chunked form vs token by token), so it changes results only
// by rounding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "common/error.h"
#include "common/json_file.h"
#include "common/thread_pool.h"
#include "model/causal_lm.h"
#include "model_reference.h"

namespace arle::testing {
namespace {

using Logits = std::vector<std::vector<float>>;  // per position

// Runs sequences through the model in steps; each step takes the next
// `chunk[s]` tokens of every unfinished sequence s into one batch.
std::vector<Logits> run_interleaved(model::CausalLm& m, const std::vector<std::vector<std::int32_t>>& prompts,
                                    const std::vector<std::int64_t>& chunk, bool scatter_pages) {
  std::int64_t total_pages = 0;
  for (const auto& p : prompts) total_pages += model::pages_for_tokens(static_cast<std::int64_t>(p.size()));
  model::PagedKvCache cache(m.config(), total_pages + 3, model::kDefaultPageSize, {},
                            static_cast<std::int64_t>(prompts.size()));
  std::vector<std::int32_t> state_slots;
  if (cache.has_state()) {
    // Slots in reverse, so a sequence's slot differs from when it runs alone.
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      state_slots.push_back(static_cast<std::int32_t>(prompts.size() - 1 - s));
      cache.zero_state(state_slots.back());
    }
  }
  std::vector<std::int32_t> free_pages(static_cast<std::size_t>(cache.num_pages()));
  std::iota(free_pages.begin(), free_pages.end(), 0);
  if (scatter_pages) std::reverse(free_pages.begin(), free_pages.end());
  std::vector<std::vector<std::int32_t>> tables(prompts.size());
  // Hand out pages round-robin so sequences' pages interleave in memory.
  for (std::size_t round = 0, given = 0; given < free_pages.size(); ++round) {
    for (std::size_t s = 0; s < prompts.size() && given < free_pages.size(); ++s) {
      if (static_cast<std::int64_t>(tables[s].size()) <
          model::pages_for_tokens(static_cast<std::int64_t>(prompts[s].size())))
        tables[s].push_back(free_pages[given++]);
    }
    if (round > free_pages.size()) break;
  }
  std::vector<Logits> out(prompts.size());
  std::vector<std::size_t> done(prompts.size(), 0);
  for (;;) {
    model::ForwardBatch batch;
    batch.state_slots = state_slots;
    std::vector<std::size_t> owner;
    for (std::size_t s = 0; s < prompts.size(); ++s) {
      batch.page_tables.push_back(&tables[s]);
      const std::size_t end = std::min(prompts[s].size(), done[s] + static_cast<std::size_t>(chunk[s]));
      for (std::size_t p = done[s]; p < end; ++p) {
        batch.add_row(prompts[s][p], static_cast<std::int64_t>(p), static_cast<std::int32_t>(s), true);
        owner.push_back(s);
      }
      done[s] = end;
    }
    if (batch.rows() == 0) break;
    Tensor logits = m.forward(batch, cache);
    for (std::int64_t r = 0; r < logits.size(0); ++r) {
      const float* row = logits.data<float>() + r * logits.size(1);
      out[owner[r]].emplace_back(row, row + logits.size(1));
    }
  }
  return out;
}

bool bitwise_equal(const Logits& a, const Logits& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  }
  return true;
}

class BatchInvariance : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchInvariance, AloneChunkedBatchedAndThreadedGiveTheSameBits) {
  const std::string dir = fixture_model_dir(GetParam());
  auto m = model::load_causal_lm(dir);
  std::vector<ReferenceCase> cases = load_reference_cases(dir);
  std::vector<std::vector<std::int32_t>> prompts;
  for (const ReferenceCase& c : cases) prompts.push_back(c.input_ids);
  ASSERT_GE(prompts.size(), 3u);

  // Each sequence alone, whole prompt in one step.
  std::vector<Logits> alone;
  for (const auto& p : prompts) alone.push_back(run_interleaved(*m, {p}, {1 << 20}, false)[0]);

  // All together, odd chunk sizes (1 = decode-like rows), scattered pages.
  std::vector<std::int64_t> chunks{13, 1, 5};
  chunks.resize(prompts.size(), 3);
  std::vector<Logits> together = run_interleaved(*m, prompts, chunks, true);
  for (std::size_t s = 0; s < prompts.size(); ++s)
    EXPECT_TRUE(bitwise_equal(alone[s], together[s])) << "sequence " << s;

  set_kernel_threads(1);
  std::vector<Logits> single_thread = run_interleaved(*m, prompts, chunks, false);
  set_kernel_threads(default_kernel_threads());
  for (std::size_t s = 0; s < prompts.size(); ++s)
    EXPECT_TRUE(bitwise_equal(alone[s], single_thread[s])) << "sequence " << s;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BatchInvariance,
                         ::testing::Values("stories260K", "qwen3-small-vocab", "qwen3-moe-tiny"),
                         [](const auto& info) { return fixture_param_name(info.param); });

double max_relative_difference(const Logits& a, const Logits& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double diff = 0, norm = 0;
    for (std::size_t j = 0; j < a[i].size(); ++j) {
      diff += (a[i][j] - b[i][j]) * static_cast<double>(a[i][j] - b[i][j]);
      norm += a[i][j] * static_cast<double>(a[i][j]);
    }
    worst = std::max(worst, std::sqrt(diff / std::max(norm, 1e-30)));
  }
  return worst;
}

class HybridBatchInvariance : public ::testing::TestWithParam<std::string> {};

TEST_P(HybridBatchInvariance, AloneAndBatchedGiveTheSameBitsAndChunkingOnlyRounds) {
  const std::string dir = fixture_model_dir(GetParam());
  auto m = model::load_causal_lm(dir);
  std::vector<std::vector<std::int32_t>> prompts;
  for (const ReferenceCase& c : load_reference_cases(dir)) prompts.push_back(c.input_ids);
  ASSERT_GE(prompts.size(), 3u);
  std::vector<std::int64_t> chunks{13, 1, 70};  // 70: the chunked form with a partial second chunk
  chunks.resize(prompts.size(), 3);

  std::vector<Logits> together = run_interleaved(*m, prompts, chunks, true);
  set_kernel_threads(1);
  std::vector<Logits> single_thread = run_interleaved(*m, prompts, chunks, false);
  set_kernel_threads(default_kernel_threads());
  for (std::size_t s = 0; s < prompts.size(); ++s) {
    const Logits alone = run_interleaved(*m, {prompts[s]}, {chunks[s]}, false)[0];
    EXPECT_TRUE(bitwise_equal(alone, together[s])) << "sequence " << s;
    EXPECT_TRUE(bitwise_equal(alone, single_thread[s])) << "sequence " << s;
    // Whole prompt in one step against this chunking: rounding only.
    const Logits whole = run_interleaved(*m, {prompts[s]}, {1 << 20}, false)[0];
    EXPECT_LT(max_relative_difference(whole, alone), 1e-4) << "sequence " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HybridBatchInvariance, ::testing::Values("qwen3.5-tiny", "qwen3.5-moe-tiny"),
                         [](const auto& info) { return fixture_param_name(info.param); });

TEST(ForwardBatch, HybridBatchesNeedAStateSlotPerSequenceAndAdjacentRows) {
  auto m = model::load_causal_lm(fixture_model_dir("qwen3.5-tiny"));
  model::PagedKvCache cache(m->config(), 4, model::kDefaultPageSize, {}, 2);
  cache.zero_state(0);
  cache.zero_state(1);
  std::vector<std::int32_t> a{0}, b{1};
  auto two_sequences = [&] {
    model::ForwardBatch batch;
    batch.page_tables = {&a, &b};
    batch.state_slots = {0, 1};
    batch.add_row(5, 0, 0, true);
    batch.add_row(6, 1, 0, true);
    batch.add_row(7, 0, 1, true);
    return batch;
  };
  auto expect_invalid = [&](const model::ForwardBatch& batch, const std::string& needle) {
    try {
      m->forward(batch, cache);
      ADD_FAILURE() << "accepted a bad batch: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  model::ForwardBatch batch = two_sequences();
  batch.state_slots.clear();
  expect_invalid(batch, "but 0 state slots");
  batch = two_sequences();
  batch.state_slots = {0, 2};
  expect_invalid(batch, "state slot 2");
  batch.state_slots = {1, 1};
  expect_invalid(batch, "used twice");
  batch = two_sequences();
  batch.add_row(8, 2, 0, true);  // sequence 0 again, after sequence 1's row
  expect_invalid(batch, "adjacent");
  batch = two_sequences();
  batch.positions[1] = 3;  // a gap
  expect_invalid(batch, "consecutive positions");
  EXPECT_EQ(m->forward(two_sequences(), cache).size(0), 3);  // still usable
}

TEST(ForwardBatch, InconsistentBatchesAreRejected) {
  auto m = model::load_causal_lm(fixture_model_dir("stories260K"));
  model::PagedKvCache cache(m->config(), 4);
  std::vector<std::int32_t> table{0, 1};
  std::vector<std::int32_t> bad_table{0, 9};
  auto batch_with = [&](std::int32_t token, std::int64_t position, const std::vector<std::int32_t>* t) {
    model::ForwardBatch b;
    b.page_tables.push_back(t);
    b.add_row(token, position, 0, true);
    return b;
  };
  auto expect_invalid = [&](const model::ForwardBatch& b, const std::string& needle) {
    try {
      m->forward(b, cache);
      ADD_FAILURE() << "accepted a bad batch: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_invalid(batch_with(512, 0, &table), "outside the vocabulary");
  expect_invalid(batch_with(-1, 0, &table), "outside the vocabulary");
  expect_invalid(batch_with(5, 32, &table), "outside its 2 pages");
  expect_invalid(batch_with(5, -1, &table), "position -1");
  expect_invalid(batch_with(5, 20, &bad_table), "outside the cache");
  model::ForwardBatch b = batch_with(5, 0, &table);
  b.row_sequence[0] = 3;
  expect_invalid(b, "names sequence 3");
  b = batch_with(5, 0, &table);
  b.logit_rows.push_back(4);
  expect_invalid(b, "logit row 4");
  EXPECT_EQ(m->forward(batch_with(5, 0, &table), cache).size(0), 1);  // still usable
}

// A model folder whose files are broken in one way each.
class BrokenModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("arle_broken_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(fixture_model_dir("stories260K"), dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
  ErrorCode load_error(std::string& message) {
    try {
      model::load_causal_lm(dir_);
    } catch (const Error& e) {
      message = e.what();
      return e.code();
    }
    return ErrorCode::kInternal;
  }
  std::filesystem::path dir_;
};

TEST_F(BrokenModel, ConfigThatDoesNotFitTheWeights) {
  std::string config = read_text_file(dir_ / "config.json");
  config.replace(config.find("\"intermediate_size\": 172"), 24, "\"intermediate_size\": 170");
  write("config.json", config);
  std::string message;
  EXPECT_EQ(load_error(message), ErrorCode::kInvalidModel);
  EXPECT_NE(message.find("mlp.gate_proj.weight is [172, 64] but the config needs [170, 64]"), std::string::npos)
      << message;
}

TEST_F(BrokenModel, MissingAndTruncatedWeights) {
  std::string message;
  std::filesystem::resize_file(dir_ / "model.safetensors", 5000);
  EXPECT_EQ(load_error(message), ErrorCode::kInvalidModel) << message;
  std::filesystem::remove(dir_ / "model.safetensors");
  EXPECT_EQ(load_error(message), ErrorCode::kNotFound) << message;
}

TEST(CausalLm, HybridQwen35RunsOnTheCpu) {
  for (const char* name : {"qwen3.5-tiny", "qwen3.5-moe-tiny"}) {
    auto m = model::load_causal_lm(fixture_model_dir(name));
    EXPECT_EQ(m->device_name(), "cpu");
    EXPECT_GT(m->weight_bytes(), 0u);
    // A cache without state slots is a caller's bug, not a bad request.
    model::PagedKvCache no_state(m->config(), 1);
    std::vector<std::int32_t> table{0};
    model::ForwardBatch batch;
    batch.page_tables.push_back(&table);
    batch.add_row(5, 0, 0, true);
    try {
      m->forward(batch, no_state);
      ADD_FAILURE() << name << " ran without state";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInternal) << e.what();
    }
  }
}

}  // namespace
}  // namespace arle::testing
