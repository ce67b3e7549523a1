#pragma once
// Random: xoshiro256** seeded through SplitMix64. Chosen over <random>
// because its output is specified bit for bit, so a request's seed gives the
// same samples on every platform and standard library.

#include <cstdint>

namespace arle::engine {

class Random {
 public:
  explicit Random(std::uint64_t seed);
  std::uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

  // A seed from the OS for requests that did not give one.
  static std::uint64_t entropy_seed();

 private:
  std::uint64_t s_[4];
};

}  // namespace arle::engine
