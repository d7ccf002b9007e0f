#include "machines/interruptions.hpp"

#include <algorithm>
#include <cmath>

#include "machines/rng.hpp"

namespace factorysim::machines {
namespace {

constexpr std::int64_t micro_slot_ms = 600'000;

double unit(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

/// Floor division: slots before 1970 (a backfill can start there) count down, not to zero.
std::int64_t slot_of(std::int64_t t_ms, std::int64_t slot_ms) noexcept {
  return t_ms >= 0 ? t_ms / slot_ms : -((-t_ms + slot_ms - 1) / slot_ms);
}

bool in_micro_stop(const interruption_plan& p, std::uint64_t seed, std::int64_t slot,
                   std::int64_t t_ms) noexcept {
  const double chance = std::min(0.9, p.micro_stops_per_h * (micro_slot_ms / 3.6e6));
  const std::uint64_t h = hash_pair(seed ^ 0x5D0B5EED5ULL, static_cast<std::uint64_t>(slot));
  // Three variates from one hash: occurrence, offset, length (21 bits each).
  const double occurs = static_cast<double>(h & 0x1FFFFF) * 0x1.0p-21;
  if (occurs >= chance) return false;
  const double offset_ms = static_cast<double>((h >> 21) & 0x1FFFFF) * 0x1.0p-21 * micro_slot_ms;
  const double u = (static_cast<double>((h >> 42) & 0x1FFFFF) + 0.5) * 0x1.0p-21;
  const double mean_s = std::max(p.micro_stop_mean_s, 1.0);
  const double length_ms = 1000.0 * std::clamp(-mean_s * std::log(u), 5.0, 5.0 * mean_s);
  const double since_ms =
      static_cast<double>(t_ms - slot * micro_slot_ms) - offset_ms;  // may reach the next slot
  return since_ms >= 0 && since_ms < length_ms;
}

}  // namespace

interruption interruption_at(const interruption_plan& p, std::uint64_t seed,
                             std::int64_t t_ms) noexcept {
  if (p.changeover_interval_h > 0 && p.changeover_min > 0) {
    const auto window_ms = static_cast<std::int64_t>(p.changeover_interval_h * 3.6e6);
    if (window_ms > 0) {
      const std::int64_t w = slot_of(t_ms, window_ms);
      const std::uint64_t h = hash_pair(seed ^ 0xC4A26E0FULL, static_cast<std::uint64_t>(w));
      const double length_ms = std::min(p.changeover_min * 60'000.0 * (0.75 + 0.5 * unit(h)),
                                        0.5 * static_cast<double>(window_ms));
      const double offset_ms =
          unit(hash_pair(h, 1)) * (static_cast<double>(window_ms) - length_ms);
      const double since_ms = static_cast<double>(t_ms - w * window_ms) - offset_ms;
      if (since_ms >= 0 && since_ms < length_ms) return interruption::changeover;
    }
  }
  if (p.micro_stops_per_h > 0 && p.micro_stop_mean_s > 0) {
    // A stop can run over the end of its slot (at most 5 x mean, capped below one slot).
    const std::int64_t slot = slot_of(t_ms, micro_slot_ms);
    if (in_micro_stop(p, seed, slot, t_ms) || in_micro_stop(p, seed, slot - 1, t_ms))
      return interruption::micro_stop;
  }
  return interruption::none;
}

}  // namespace factorysim::machines
