// Site climate: a pure function of (climate, seed, time); see climate.hpp.
#include "machines/climate.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "machines/rng.hpp"

namespace factorysim::machines {
namespace {

constexpr double two_pi = 2.0 * std::numbers::pi;

}  // namespace

weather weather_at(const climate& c, std::uint64_t site_seed, sim_time t,
                   const local_time& local) noexcept {
  const double season = -std::cos(two_pi * (local.day_of_year - c.coldest_day_of_year) / 365.25);
  const double day = std::cos(two_pi * (local.minute_of_day - c.warmest_minute_of_day) / 1440.0);
  const double noise = smooth_noise(site_seed, t.time_since_epoch().count(), weather_knot_ms, 0);
  weather w;
  w.outdoor_temp_c = c.annual_mean_c + c.annual_amplitude_c * season + c.daily_amplitude_c * day +
                     c.weather_noise_c * noise;
  // Relative humidity falls as the air warms over the day; wet spells come with their own
  // noise, partly the inverse of the temperature's.
  const double humidity_noise =
      0.6 * smooth_noise(site_seed, t.time_since_epoch().count(), weather_knot_ms, 1) - 0.4 * noise;
  w.outdoor_humidity_percent =
      std::clamp(c.humidity_mean_percent - c.humidity_amplitude_percent * day +
                     0.5 * c.humidity_amplitude_percent * humidity_noise,
                 5.0, 100.0);
  return w;
}

}  // namespace factorysim::machines
