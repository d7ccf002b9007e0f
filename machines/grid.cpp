// Site supply: a pure function of (seeds, time); see grid.hpp.
#include "machines/grid.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "machines/rng.hpp"

namespace factorysim::machines {

grid_supply grid_at(std::uint64_t site_seed, std::uint64_t grid_seed, sim_time t,
                    const local_time& local) noexcept {
  constexpr std::int64_t minute_ms = 60'000;
  const std::int64_t ms = t.time_since_epoch().count();
  grid_supply g;
  // Lowest at 14:00 local, when the feeder carries the most load.
  const double daily =
      -0.008 * std::cos(2.0 * std::numbers::pi * (local.minute_of_day - 840.0) / 1440.0);
  g.voltage_pu = 1.0 + daily + 0.005 * smooth_noise(site_seed, ms, 15 * minute_ms, 0) +
                 0.0015 * smooth_noise(site_seed, ms, minute_ms, 1);
  g.frequency_offset_hz = std::clamp(0.012 * smooth_noise(grid_seed, ms, minute_ms / 2, 2) +
                                         0.015 * smooth_noise(grid_seed, ms, 5 * minute_ms, 3),
                                     -0.2, 0.2);
  return g;
}

}  // namespace factorysim::machines
