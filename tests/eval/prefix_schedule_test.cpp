// The order eval requests go in: who waits for whom (prefix_leaders), and
// that FollowerQueue hands every request out once, followers right after
// their leader, whatever order requests finish in.
#include "eval/prefix_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace arle::eval {
namespace {

std::vector<std::int32_t> run(std::int32_t value, std::size_t n) { return std::vector<std::int32_t>(n, value); }

std::vector<std::int32_t> cat(std::vector<std::int32_t> a, const std::vector<std::int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::size_t> leaders_of(const std::vector<std::vector<std::int32_t>>& prompts) {
  std::vector<const std::vector<std::int32_t>*> pointers;
  for (const auto& p : prompts) pointers.push_back(&p);
  return prefix_leaders(pointers);
}

TEST(PrefixSchedule, MmluQuestionsWaitForTheirSubjectsFirstAndChoicesForTheirQuestion) {
  // Two subjects of two questions: shots (40 tokens) + question (10) + choice (1).
  std::vector<std::vector<std::int32_t>> prompts;
  for (int subject = 0; subject < 2; ++subject) {
    for (int question = 0; question < 2; ++question) {
      for (int choice = 0; choice < 4; ++choice) {
        prompts.push_back(cat(cat(run(100 + subject, 40), run(200 + question, 10)), {300 + choice}));
      }
    }
  }
  const std::vector<std::size_t> expected = {0, 0, 0, 0, 0, 4,  4,  4,  // subject 0
                                             8, 8, 8, 8, 8, 12, 12, 12};
  EXPECT_EQ(leaders_of(prompts), expected);
}

TEST(PrefixSchedule, ShortSharedPrefixesDoNotWait) {
  const std::vector<std::vector<std::int32_t>> prompts = {cat(run(1, kMinSharedPrefix - 1), {5}),
                                                          cat(run(1, kMinSharedPrefix - 1), {6}),
                                                          cat(run(1, kMinSharedPrefix), {7}),
                                                          cat(run(1, kMinSharedPrefix), {8}),
                                                          {},
                                                          {}};
  const std::vector<std::size_t> expected = {0, 1, 2, 2, 4, 5};
  EXPECT_EQ(leaders_of(prompts), expected);
}

TEST(PrefixSchedule, FollowersGoRightAfterTheirLeader) {
  FollowerQueue queue({0, 0, 0, 3, 3, 5});
  EXPECT_EQ(queue.next(), 0u);
  EXPECT_EQ(queue.next(), 3u);
  EXPECT_EQ(queue.next(), 5u);
  EXPECT_EQ(queue.next(), std::nullopt);  // the rest wait
  queue.finished(3);
  EXPECT_EQ(queue.next(), 4u);
  queue.finished(0);
  EXPECT_EQ(queue.next(), 1u);
  EXPECT_EQ(queue.next(), 2u);
  for (std::size_t i : {1u, 2u, 4u}) queue.finished(i);
  EXPECT_FALSE(queue.all_finished());
  queue.finished(5);
  EXPECT_TRUE(queue.all_finished());
}

TEST(PrefixSchedule, EveryRequestStartsOnceAfterItsLeaderWhateverTheFinishingOrder) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + rng() % 60;
    std::vector<std::vector<std::int32_t>> prompts;
    for (std::size_t i = 0; i < n; ++i) {
      // Few distinct prefixes of varied lengths, so chains form.
      prompts.push_back(cat(run(static_cast<std::int32_t>(rng() % 3), 20 + rng() % 40),
                            run(static_cast<std::int32_t>(rng() % 4), rng() % 5)));
    }
    const std::vector<std::size_t> leader = leaders_of(prompts);
    FollowerQueue queue(leader);
    std::vector<bool> started(n, false), finished(n, false);
    std::vector<std::size_t> in_flight;
    const std::size_t concurrency = 1 + rng() % 8;
    while (!queue.all_finished()) {
      while (in_flight.size() < concurrency) {
        const std::optional<std::size_t> i = queue.next();
        if (!i) break;
        ASSERT_FALSE(started[*i]);
        ASSERT_LE(leader[*i], *i);
        ASSERT_TRUE(leader[*i] == *i || finished[leader[*i]]) << "request " << *i << " before its leader";
        started[*i] = true;
        in_flight.push_back(*i);
      }
      ASSERT_FALSE(in_flight.empty()) << "stuck";
      const std::size_t pick = rng() % in_flight.size();
      finished[in_flight[pick]] = true;
      queue.finished(in_flight[pick]);
      in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    EXPECT_TRUE(std::all_of(started.begin(), started.end(), [](bool b) { return b; }));
  }
}

}  // namespace
}  // namespace arle::eval
