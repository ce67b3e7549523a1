#pragma once
// The order an evaluation's requests go in, so that a prefix cache computes
// each shared prefix once. Requests sharing a long prefix (a question's
// choices share its whole context; a subject's questions share the few-shot
// examples) do not start together: the first of them, their leader, goes
// alone, and the others follow once it is done and its prefix is cached.
// Both backends use this: the local engine's radix cache and a server's.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace arle::eval {

// Shorter shared prefixes are not worth a wait (a cache page is 16 tokens).
inline constexpr std::size_t kMinSharedPrefix = 32;

// leader[i] for each prompt: the earlier request it waits for, or i itself.
// Candidates are the previous request and its chain of leaders; the one
// sharing the longest prefix (at least min_shared tokens) wins, the earliest
// on ties, so a subject's questions all wait for its first one and a
// question's later choices for its first choice.
std::vector<std::size_t> prefix_leaders(const std::vector<const std::vector<std::int32_t>*>& prompts,
                                        std::size_t min_shared = kMinSharedPrefix);

// Hands out requests whose leader is done: leaders in order first, and the
// followers of a finished leader before anything else (their prefix is in
// the cache now and may be evicted later). Not thread-safe.
class FollowerQueue {
 public:
  explicit FollowerQueue(const std::vector<std::size_t>& leader);
  // A request that may start now, if any (none while every remaining one waits).
  std::optional<std::size_t> next();
  void finished(std::size_t i);
  bool all_finished() const { return finished_ == followers_.size(); }

 private:
  std::vector<std::vector<std::size_t>> followers_;
  std::deque<std::size_t> ready_;
  std::size_t finished_ = 0;
};

}  // namespace arle::eval
