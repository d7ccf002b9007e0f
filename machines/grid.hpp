#pragma once
/// The supply every machine of a site shares (issue 10): one voltage process per site and one
/// frequency process per synchronous grid. Stateless like the weather (climate.hpp): a pure
/// function of (seeds, time), so every machine of a site that asks at the same instant gets
/// the same value, whatever the order or the number of machines.
///
/// Voltage (per unit of nominal): a daily pattern (the feeder sags under the afternoon load
/// and recovers at night, +-0.8 %) plus slow (15-minute) and fast (1-minute) smooth noise,
/// about 0.5 % and 0.15 %: well inside EN 50160's +-10 %, the spread a substation meter shows.
/// Frequency (offset from nominal, Hz): 30-second and 5-minute smooth noise of 12 and 15 mHz,
/// about 19 mHz in all and correlated over minutes, as ENTSO-E and NERC frequency records show
/// in normal operation; bounded to +-0.2 Hz (beyond it, load shedding).

#include <cstdint>

#include "machines/types.hpp"

namespace factorysim::machines {

/// Supply at UTC instant t: site_seed drives the voltage, grid_seed the frequency.
grid_supply grid_at(std::uint64_t site_seed, std::uint64_t grid_seed, sim_time t,
                    const local_time& local) noexcept;

}  // namespace factorysim::machines
