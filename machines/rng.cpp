// xoshiro256** (Blackman and Vigna, public domain reference algorithm) seeded through
// splitmix64, plus the distributions the models need. Every function here is part of the
// determinism contract: changing one changes every reading of every scenario.
#include "machines/rng.hpp"

#include <cmath>

namespace factorysim::machines {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

rng::rng(std::uint64_t seed) noexcept {
  std::uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
}

std::uint64_t rng::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double rng::uniform() noexcept {
  // The top 53 bits fill a double's mantissa exactly: uniform on a 2^-53 grid in [0, 1).
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double rng::normal() noexcept {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Marsaglia's polar form of Box-Muller: no sin/cos, two normals per accepted pair.
  double u = 0;
  double v = 0;
  double s = 0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double m = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * m;
  has_spare_ = true;
  return u * m;
}

std::uint64_t hash64(std::string_view s) noexcept {
  std::uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a 64 offset basis
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;  // FNV-1a 64 prime
  }
  return h;
}

std::uint64_t derive_seed(std::uint64_t root_seed, std::string_view key) noexcept {
  // FNV-1a alone mixes poorly in the high bits; two splitmix64 rounds spread both inputs.
  std::uint64_t state = root_seed;
  const std::uint64_t a = splitmix64(state);
  state = a ^ hash64(key);
  return splitmix64(state);
}

}  // namespace factorysim::machines

namespace factorysim::machines {

std::uint64_t hash_pair(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t state = a ^ (b * 0xD1B54A32D192ED03ULL);
  return splitmix64(state);
}

double hashed_normal(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t state = a ^ (b * 0xD1B54A32D192ED03ULL);
  std::uint64_t h = splitmix64(state);
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    sum += static_cast<double>(h & 0xFFFF) * (1.0 / 65536.0);
    h >>= 16;
  }
  return (sum - 2.0) * 1.7320508075688772;  // unit variance: 4 x 1/12 x 3
}

double smooth_noise(std::uint64_t seed, std::int64_t t_ms, std::int64_t knot_ms,
                    std::uint64_t stream) noexcept {
  std::int64_t k = t_ms / knot_ms;
  if (t_ms < 0 && t_ms % knot_ms != 0) --k;  // floor for times before 1970
  const double frac = static_cast<double>(t_ms - k * knot_ms) / static_cast<double>(knot_ms);
  // Smoothstep: as smooth at the knots as a cosine (zero slope there) without a libm call,
  // which showed in the step profile once every machine evaluates its demand factor.
  const double w = frac * frac * (3.0 - 2.0 * frac);
  const std::uint64_t s = seed ^ (stream * 0x9E3779B97F4A7C15ULL);
  const double a = hashed_normal(s, static_cast<std::uint64_t>(k));
  const double b = hashed_normal(s, static_cast<std::uint64_t>(k + 1));
  return a + (b - a) * w;
}

}  // namespace factorysim::machines
