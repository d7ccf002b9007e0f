#pragma once
/// Our own small random stream and distributions, so that a seed gives the same numbers with
/// every compiler and standard library (std::normal_distribution is not specified bit for bit).
///
/// The generator is xoshiro256** rather than std::mt19937_64: its sequence is just as fixed
/// (the reference algorithm is ours to keep), and its 32-byte state instead of 2.5 KiB keeps a
/// simulated machine under the 2 KiB memory goal with 10,000 of them.

#include <cstdint>
#include <string_view>

namespace factorysim::machines {

class rng {
 public:
  explicit rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  double uniform() noexcept;
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller, our own code).
  double normal() noexcept;
  double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }
  /// True with probability p.
  bool bernoulli(double p) noexcept { return uniform() < p; }

 private:
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

/// Stable 64-bit hash of a string (FNV-1a), part of the determinism contract.
std::uint64_t hash64(std::string_view s) noexcept;
/// Seed of the stream named `key` (e.g. a machine id) under a scenario's root seed.
std::uint64_t derive_seed(std::uint64_t root_seed, std::string_view key) noexcept;
/// A standard-normal-like value (Irwin-Hall of four uniforms, |x| < 3.47) that is a pure
/// function of (a, b): noise that does not draw from, and so cannot shift, any stream.
double hashed_normal(std::uint64_t a, std::uint64_t b) noexcept;

/// 64 well-mixed bits from (a, b): the hash under hashed_normal, for callers that cut
/// several variates from one hash.
std::uint64_t hash_pair(std::uint64_t a, std::uint64_t b) noexcept;

/// Smooth noise from hashed standard-normal knots every knot_ms, smoothstep-interpolated
/// (continuous, flat at the knots); the same for everyone asking with (seed, stream). The
/// weather, the site supply and each machine's demand factor use it.
double smooth_noise(std::uint64_t seed, std::int64_t t_ms, std::int64_t knot_ms,
                    std::uint64_t stream) noexcept;

}  // namespace factorysim::machines
