// The engine on hybrid (Qwen3.5) models, whose linear-attention layers keep
// a recurrent state per sequence: batching against the one-request loop,
// state slots under preemption and cancellation, and prefix reuse through
// state snapshots in the radix cache (multi-turn conversations resume from
// the last turn's snapshot and give what a cold run gives).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/engine.h"
#include "engine_test_util.h"

namespace arle::testing {
namespace {

using engine::Request;

std::string param_name(std::string n) {
  std::replace_if(
      n.begin(), n.end(), [](char c) { return c == '-' || c == '.'; }, '_');
  return n;
}

// With steps wide enough that each prompt is prefilled in one chunk, as
// run_alone does, batching must not change a bit (chunking would change
// rounding: the delta rule's chunked form is not split-invariant), so the
// prefix cache is off here: a resumed prefix is computed in other chunks.
// n > 1 siblings start from a copy of sample 0's state.
class HybridConcurrent : public ::testing::TestWithParam<std::string> {};

TEST_P(HybridConcurrent, RequestsMatchRunningEachAloneAndSiblingsCopyTheState) {
  const FixtureModel& m = fixture_model(GetParam());
  std::vector<Request> requests = random_requests(24, m.model->config().vocab_size, 11);
  engine::Engine e(*m.model, *m.tokenizer, small_config(800, 8192, /*cache=*/false));
  std::vector<engine::RequestResult> results = engine::run_all(e, requests);
  expect_same_as_alone(m, requests, results);
  for (const engine::RequestResult& r : results) EXPECT_EQ(r.usage.cached_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HybridConcurrent, ::testing::Values("qwen3.5-tiny", "qwen3.5-moe-tiny"),
                         [](const auto& info) { return param_name(info.param); });

// Same tokens, and logprobs within float32 rounding of a computation split
// into other chunks (a snapshot resumes mid-history; the chunked delta rule
// then sums in another order).
void expect_close(const engine::Completion& got, const engine::Completion& want, const std::string& what) {
  ASSERT_EQ(got.token_ids, want.token_ids) << what;
  EXPECT_EQ(got.finish_reason, want.finish_reason) << what;
  ASSERT_EQ(got.logprobs.size(), want.logprobs.size()) << what;
  for (std::size_t t = 0; t < want.logprobs.size(); ++t) {
    EXPECT_NEAR(got.logprobs[t].logprob, want.logprobs[t].logprob, 1e-4) << what << " step " << t;
  }
}

engine::Completion completion_of(const engine::GenerateOutput& out) {
  engine::Completion c;
  c.token_ids = out.token_ids;
  c.finish_reason = out.finish_reason;
  c.logprobs = out.logprobs;
  return c;
}

// With the prefix cache on, prompts that extend earlier ones resume from
// their snapshots while other requests run beside them.
class HybridPrefixCache : public ::testing::TestWithParam<std::string> {};

TEST_P(HybridPrefixCache, ConcurrentRequestsResumingFromSnapshotsGiveWhatTheyGiveAlone) {
  const FixtureModel& m = fixture_model(GetParam());
  std::vector<Request> requests = random_requests(24, m.model->config().vocab_size, 11);
  // A first wave fills the cache; the second extends its prompts.
  engine::Engine e(*m.model, *m.tokenizer, small_config(800, 8192));
  engine::run_all(e, requests);
  std::mt19937 rng(4);
  for (auto& r : requests) {
    for (int t = 0; t < 20; ++t) r.prompt_ids.push_back(static_cast<std::int32_t>(3 + rng() % 200));
  }
  const std::vector<engine::RequestResult> results = engine::run_all(e, requests);
  std::int64_t cached = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    cached += results[i].usage.cached_tokens;
    for (int k = 0; k < requests[i].n; ++k) {
      expect_close(results[i].samples[static_cast<std::size_t>(k)], completion_of(run_alone(m, requests[i], k)),
                   "request " + std::to_string(i) + " sample " + std::to_string(k));
    }
  }
  EXPECT_GT(cached, 0);
  EXPECT_GT(e.stats().snapshot_hits, 0);
}

// `count` random ids past BOS (1) and EOS (2).
void append_random_ids(std::vector<std::int32_t>& ids, std::mt19937& rng, std::int64_t vocab, int count) {
  for (int t = 0; t < count; ++t) ids.push_back(static_cast<std::int32_t>(3 + rng() % (vocab - 3)));
}

// A greedy turn of a conversation: BOS and `length - 1` random ids, with
// logprobs (for the closeness checks) and EOS ignored.
Request greedy_turn(std::mt19937& rng, std::int64_t vocab, int length, std::int64_t max_tokens) {
  Request r;
  r.prompt_ids = {1};
  append_random_ids(r.prompt_ids, rng, vocab, length - 1);
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = 0;
  r.sampling.logprobs = 2;
  r.cache_namespace = "chat";
  return r;
}

// A conversation: each turn's prompt is the previous prompt, its answer and
// a new message. Each turn resumes from the snapshot the previous one left
// at the last page boundary it decoded past, and gives the tokens a cold
// engine gives.
TEST_P(HybridPrefixCache, AMultiTurnConversationResumesFromTheLastTurnsSnapshot) {
  const FixtureModel& m = fixture_model(GetParam());
  const std::int64_t vocab = m.model->config().vocab_size;
  engine::EngineConfig config = small_config(200, 8192);
  engine::Engine warm(*m.model, *m.tokenizer, config);
  std::mt19937 rng(8);
  Request turn = greedy_turn(rng, vocab, 45, 30);
  for (int k = 0; k < 3; ++k) {
    const std::int64_t length = static_cast<std::int64_t>(turn.prompt_ids.size());
    const engine::RequestResult got = engine::run_all(warm, {turn})[0];
    engine::Engine cold(*m.model, *m.tokenizer, config);
    const engine::RequestResult want = engine::run_all(cold, {turn})[0];
    expect_close(got.samples[0], want.samples[0], "turn " + std::to_string(k));
    // Turn 1 (45 prompt tokens + 30) ended having computed 74 tokens: its
    // last snapshot is at 64; turn 2 (95 + 30) at 112.
    const std::int64_t expected = k == 0 ? 0 : (length - 20 - 1) / 16 * 16;
    EXPECT_EQ(got.usage.cached_tokens, expected) << "turn " << k;
    EXPECT_EQ(want.usage.cached_tokens, 0);
    turn.prompt_ids.insert(turn.prompt_ids.end(), got.samples[0].token_ids.begin(), got.samples[0].token_ids.end());
    append_random_ids(turn.prompt_ids, rng, vocab, 20);
  }
  EXPECT_EQ(warm.stats().snapshot_hits, 2);
  // Each turn left its prompt's last boundary and its last decoded one.
  EXPECT_EQ(warm.stats().snapshots, 6);
}

// A chat prompt's history ends before the generation prompt, which the
// next turn renders differently: the request says where (snapshot_at), and
// the next turn resumes from the last page boundary before it. Without the
// hint, the only snapshot would lie past the shared part.
TEST_P(HybridPrefixCache, TheNextTurnResumesAtTheHintedEndOfHistory) {
  const FixtureModel& m = fixture_model(GetParam());
  const std::int64_t vocab = m.model->config().vocab_size;
  std::mt19937 rng(10);
  Request first = greedy_turn(rng, vocab, 60, 4);
  Request next = first;
  next.prompt_ids.resize(37);
  append_random_ids(next.prompt_ids, rng, vocab, 30);
  for (const std::int64_t hint : {37, 0}) {
    engine::Engine e(*m.model, *m.tokenizer, small_config(200, 8192));
    first.snapshot_at = hint;
    engine::run_all(e, {first});
    const engine::RequestResult got = engine::run_all(e, {next})[0];
    EXPECT_EQ(got.usage.cached_tokens, hint == 0 ? 0 : 32) << "hint " << hint;
    engine::Engine cold(*m.model, *m.tokenizer, small_config(200, 8192));
    expect_close(got.samples[0], engine::run_all(cold, {next})[0].samples[0], "hint " + std::to_string(hint));
  }
}

// --state-snapshots bounds them: the least recently used go first, and a
// conversation whose snapshots went starts cold (and still right).
TEST_P(HybridPrefixCache, SnapshotsBeyondTheBoundAreEvictedLeastRecentlyUsedFirst) {
  const FixtureModel& m = fixture_model(GetParam());
  const std::int64_t vocab = m.model->config().vocab_size;
  engine::EngineConfig config = small_config(400, 8192);
  config.state_snapshots = 2;
  engine::Engine e(*m.model, *m.tokenizer, config);
  std::mt19937 rng(9);
  std::vector<Request> firsts;
  for (int c = 0; c < 4; ++c) {
    Request r = greedy_turn(rng, vocab, 40, 12);
    const engine::RequestResult out = engine::run_all(e, {r})[0];
    EXPECT_LE(e.stats().snapshots, 2);
    r.prompt_ids.insert(r.prompt_ids.end(), out.samples[0].token_ids.begin(), out.samples[0].token_ids.end());
    r.prompt_ids.push_back(5);
    firsts.push_back(r);
  }
  // The last conversation resumes (40 + 12 tokens: its snapshot is at 48);
  // the first one's snapshots are gone.
  const engine::RequestResult last = engine::run_all(e, {firsts[3]})[0];
  EXPECT_EQ(last.usage.cached_tokens, 48);
  const engine::RequestResult first = engine::run_all(e, {firsts[0]})[0];
  EXPECT_EQ(first.usage.cached_tokens, 0);
  for (const Request* r : {&firsts[3], &firsts[0]}) {
    engine::Engine cold(*m.model, *m.tokenizer, config);
    const engine::RequestResult want = engine::run_all(cold, {*r})[0];
    expect_close(r == &firsts[3] ? last.samples[0] : first.samples[0], want.samples[0], "conversation");
  }
  EXPECT_LE(e.stats().snapshots, 2);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HybridPrefixCache, ::testing::Values("qwen3.5-tiny", "qwen3.5-moe-tiny"),
                         [](const auto& info) { return param_name(info.param); });

// Slots for sequences and snapshots: preemption and cancellation give every
// slot and page back (snapshots stay with the cache); n larger than the
// sequences that run at once is an error.
TEST(HybridPool, PreemptionCancellationAndTooManySamplesKeepSlotsAndPagesRight) {
  const FixtureModel& m = fixture_model("qwen3.5-tiny");
  engine::EngineConfig config = small_config(24, 48);  // few pages: preemption
  config.scheduler.max_num_seqs = 6;
  engine::EngineCore core(*m.model, *m.tokenizer, config);
  const std::int64_t pages = core.pool().free_pages(), slots = core.free_state_slots();
  ASSERT_EQ(slots, 12);  // 6 sequences, 6 snapshots
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  std::vector<Request> requests = random_requests(10, m.model->config().vocab_size, 5, 40, 40);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    requests[i].max_tokens = 40;
    requests[i].ignore_eos = true;
    requests[i].n = i % 4 == 0 ? 3 : 1;
    handles.push_back(std::make_shared<engine::RequestHandle>(i + 1));
    core.add(handles.back(), requests[i]);
  }
  for (int step = 0; step < 12; ++step) {
    core.step();
    core.check_invariants();
  }
  for (std::size_t i = 0; i < handles.size(); i += 3) handles[i]->cancel();
  drain(core);
  EXPECT_GT(core.stats().preemptions, 0);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    engine::RequestResult r = engine::collect(*handles[i], requests[i].n);
    for (const auto& s : r.samples) {
      if (i % 3 != 0) {
        EXPECT_EQ(s.token_ids.size(), 40u) << i;
      }
    }
  }
  EXPECT_GT(core.stats().snapshots_taken, 0);
  EXPECT_EQ(core.free_state_slots() + core.cache().snapshots(), slots);
  core.cache().clear();
  EXPECT_EQ(core.pool().free_pages(), pages);
  EXPECT_EQ(core.free_state_slots(), slots);
  // More samples than sequences that run at once could never start.
  auto handle = std::make_shared<engine::RequestHandle>(99);
  Request wide = requests[1];
  wide.n = 7;
  core.add(handle, wide);
  engine::RequestResult r = engine::collect(*handle, 7);
  ASSERT_FALSE(r.samples.empty());
  EXPECT_EQ(r.samples[0].finish_reason, "error");
}

}  // namespace
}  // namespace arle::testing
