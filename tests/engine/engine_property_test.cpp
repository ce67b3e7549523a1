// Property-based: random interleavings of submit, cancel and step on a small
// pool keep the engine's bookkeeping exact after every step, and the pool is
// whole again at the end.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "engine_test_util.h"

namespace arle::testing {
namespace {

struct Op {
  int kind;  // 0 submit, 1 cancel, 2..4 step
  int prompt_len, max_tokens, n, pick;
  bool greedy;
};

RC_GTEST_PROP(EngineProperties, InvariantsHoldUnderRandomWorkloads, ()) {
  const FixtureModel& m = fixture_model("stories260K");
  engine::EngineConfig config;
  config.kv_pages = *rc::gen::inRange<std::int64_t>(6, 40);
  config.scheduler.max_batched_tokens = *rc::gen::inRange<std::int64_t>(1, 80);
  config.scheduler.max_num_seqs = *rc::gen::inRange<std::int64_t>(1, 12);
  config.scheduler.prefix_cache = *rc::gen::arbitrary<bool>();
  engine::EngineCore core(*m.model, *m.tokenizer, config);
  const std::int64_t total = core.pool().free_pages();

  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 5)), rc::gen::set(&Op::prompt_len, rc::gen::inRange(1, 40)),
      rc::gen::set(&Op::max_tokens, rc::gen::inRange(1, 30)), rc::gen::set(&Op::n, rc::gen::inRange(1, 3)),
      rc::gen::set(&Op::pick, rc::gen::inRange(0, 1000)), rc::gen::set(&Op::greedy, rc::gen::arbitrary<bool>())));
  std::vector<std::shared_ptr<engine::RequestHandle>> handles;
  std::uint64_t next_id = 1;
  for (const Op& op : ops) {
    if (op.kind == 0) {
      engine::Request r;
      r.prompt_ids = {1};
      // Shared beginnings (the prefix cache) from a small alphabet.
      for (int i = 0; i < op.prompt_len; ++i) r.prompt_ids.push_back(300 + (i * 7 + (op.pick % 3)) % 11);
      r.max_tokens = op.max_tokens;
      r.n = op.n;
      r.sampling.temperature = op.greedy ? 0.0 : 1.0;
      r.sampling.seed = static_cast<std::uint64_t>(op.pick);
      r.cache_namespace = "p";
      handles.push_back(std::make_shared<engine::RequestHandle>(next_id++));
      core.add(handles.back(), r);
    } else if (op.kind == 1 && !handles.empty()) {
      handles[static_cast<std::size_t>(op.pick) % handles.size()]->cancel();
    } else {
      core.step();
    }
    core.check_invariants();
  }
  for (int steps = 0; !core.idle(); ++steps) {
    RC_ASSERT(steps < 20000);
    core.step();
    core.check_invariants();
  }
  // Every handle ended, with a finish reason for each sample.
  for (auto& h : handles) {
    bool closed_with_usage = false;
    while (auto d = h->next()) closed_with_usage = closed_with_usage || d->usage.has_value() || d->finish_reason == "error";
    RC_ASSERT(closed_with_usage);
  }
  RC_ASSERT(core.pool().free_pages() + core.cache().cached_pages() == total);
  core.cache().clear();
  RC_ASSERT(core.pool().free_pages() == total);
}

}  // namespace
}  // namespace arle::testing
