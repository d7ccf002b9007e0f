#pragma once
/// Production interruptions of a line machine (conveyor, molding): short unplanned micro-stops
/// (a jam, a missing part, an operator call) and planned changeovers (a mold or product
/// change). Both are pure functions of (seed, time), like the weather: they need no state, so
/// they cost the 10,000-machine memory budget nothing, and a replay gives the same stops.
/// Internal to machines/.

#include <cstdint>

#include "machines/types.hpp"

namespace factorysim::machines {

/// How often and how long; zeros switch a kind off.
struct interruption_plan {
  double micro_stops_per_h = 0;     ///< mean rate while producing
  double micro_stop_mean_s = 0;     ///< mean length (exponential, 5 s .. 5 x mean)
  double changeover_interval_h = 0;  ///< one changeover in each window of this length
  double changeover_min = 0;        ///< mean length (uniform 0.75 .. 1.25 x mean)
};

/// The interruption under way at t_ms, if any. Micro-stops fall in 10-minute slots, each
/// slot holding at most one at a hashed offset, with probability rate x 10 min (a thinned
/// Poisson process); a changeover falls at a hashed offset in each changeover window.
interruption interruption_at(const interruption_plan& plan, std::uint64_t seed,
                             std::int64_t t_ms) noexcept;

}  // namespace factorysim::machines
