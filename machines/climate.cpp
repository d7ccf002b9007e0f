// Site climate: a pure function of (climate, seed, time); see climate.hpp.
#include "machines/climate.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "machines/rng.hpp"

namespace factorysim::machines {
namespace {

constexpr double two_pi = 2.0 * std::numbers::pi;

// Approximately standard normal value of a knot, the same for everyone asking.
double knot_value(std::uint64_t seed, std::int64_t knot, std::uint64_t stream) noexcept {
  return hashed_normal(seed ^ (stream * 0x9E3779B97F4A7C15ULL), static_cast<std::uint64_t>(knot));
}

// Smooth noise: cosine interpolation between knots (continuous, flat at the knots).
double smooth_noise(std::uint64_t seed, sim_time t, std::uint64_t stream) noexcept {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t k = ms / weather_knot_ms;
  if (ms < 0 && ms % weather_knot_ms != 0) --k;  // floor for times before 1970
  const double frac =
      static_cast<double>(ms - k * weather_knot_ms) / static_cast<double>(weather_knot_ms);
  const double w = 0.5 - 0.5 * std::cos(std::numbers::pi * frac);
  const double a = knot_value(seed, k, stream);
  const double b = knot_value(seed, k + 1, stream);
  return a + (b - a) * w;
}

}  // namespace

weather weather_at(const climate& c, std::uint64_t site_seed, sim_time t,
                   const local_time& local) noexcept {
  const double season = -std::cos(two_pi * (local.day_of_year - c.coldest_day_of_year) / 365.25);
  const double day = std::cos(two_pi * (local.minute_of_day - c.warmest_minute_of_day) / 1440.0);
  const double noise = smooth_noise(site_seed, t, 0);
  weather w;
  w.outdoor_temp_c = c.annual_mean_c + c.annual_amplitude_c * season + c.daily_amplitude_c * day +
                     c.weather_noise_c * noise;
  // Relative humidity falls as the air warms over the day; wet spells come with their own
  // noise, partly the inverse of the temperature's.
  const double humidity_noise = 0.6 * smooth_noise(site_seed, t, 1) - 0.4 * noise;
  w.outdoor_humidity_percent =
      std::clamp(c.humidity_mean_percent - c.humidity_amplitude_percent * day +
                     0.5 * c.humidity_amplitude_percent * humidity_noise,
                 5.0, 100.0);
  return w;
}

}  // namespace factorysim::machines
