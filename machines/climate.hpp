#pragma once
/// Outdoor weather of a site: seasonal and daily cycles plus slow, smooth weather noise.
/// Stateless: every machine of a site evaluates it at its own instants and they all agree.

#include <cstdint>

#include "machines/types.hpp"

namespace factorysim::machines {

/// Weather at UTC instant t (local: the same instant on the site's clock). The noise comes
/// from hashed values of (site_seed, 6-hour knot) interpolated smoothly between knots, so
/// it is continuous in t and the same whoever asks. Humidity falls when the day warms.
weather weather_at(const climate& c, std::uint64_t site_seed, sim_time t,
                   const local_time& local) noexcept;

/// Spacing of the weather-noise knots.
inline constexpr std::int64_t weather_knot_ms = 6LL * 3600 * 1000;

}  // namespace factorysim::machines
