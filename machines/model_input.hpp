#pragma once
/// What every model's step function receives from its machine, and small shared helpers.
/// Internal to machines/: the engine talks to `machine`, not to the models.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "machines/rng.hpp"
#include "machines/types.hpp"

namespace factorysim::machines {

/// Strength 0..1 of each physics fault at this step (0 = not active). Gradual faults have
/// already been scaled by how long they have been active.
struct fault_effects {
  double air_leak = 0;
  double bearing_wear = 0;
  double belt_slip = 0;
  double cavitation = 0;
  double heater_failure = 0;
  double refrigerant_leak = 0;
  double fouled_coil = 0;
  // Wear of components (machines/wear.hpp) that no fault type stands for, 0..1.
  double air_end_wear = 0;      ///< compressor: less delivery, more power per m3
  double inlet_valve_wear = 0;  ///< compressor: leaking unloader, unloaded power rises
  double impeller_wear = 0;     ///< pump: less flow, lower efficiency
  double check_ring_wear = 0;   ///< molding: melt leaks back, bad parts, longer hold
  double fluctuation = 0;  ///< a hashed standard normal for faults that make a signal wobble
};

/// Inputs of one model step.
struct model_input {
  double dt_s = 1;
  double load = 0;          ///< production load after the start-up/shut-down lag, 0..1
  bool enabled = true;      ///< false: switched off, draws nothing
  bool first_step = false;  ///< start from the steady state of `load` (warm start)
  double rated_power_kw = 1;
  double outdoor_temp_c = 15;
  double outdoor_humidity_percent = 60;
  double hall_temp_c = 22;   ///< air around the machine
  double minute_of_day = 0;  ///< local
  fault_effects fx;
};

/// What a model step returns besides the readings it fills in.
struct model_result {
  double power_kw = 0;   ///< true average real power over the step
  bool running = false;  ///< doing its job (false: idle but powered)
  double resistive_kw = 0;  ///< part of power_kw drawn by heaters (unity power factor)
};

/// First-order lag over dt_s with time constant tau_s. Implicit Euler: stable for any dt.
inline double lag(double value, double target, double dt_s, double tau_s) noexcept {
  return value + (target - value) * (dt_s / (tau_s + dt_s));
}

/// Temperature of the hall around production machines: conditioned, but not fully.
inline double hall_temp_from_outdoor(double outdoor_temp_c) noexcept {
  return 21.0 + 0.3 * (outdoor_temp_c - 15.0);
}

/// Standard normal quantile (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4).
inline double normal_quantile(double u) noexcept {
  const double q = std::clamp(u, 1e-12, 1.0 - 1e-12);
  const double tail = q < 0.5 ? q : 1.0 - q;
  const double t = std::sqrt(-2.0 * std::log(tail));
  const double z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                           (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return q < 0.5 ? -z : z;
}

/// Bad units among n, each bad with probability p. Always exactly one uniform draw, so
/// the random stream stays aligned whatever n and p are (a twin machine without a fault
/// keeps drawing the same numbers). Exact inverse CDF for small n*p*(1-p), normal beyond.
inline std::int64_t draw_binomial(rng& r, std::int64_t n, double p) noexcept {
  const double u = r.uniform();
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const double nd = static_cast<double>(n);
  const double variance = nd * p * (1 - p);
  if (variance > 25) {
    const double x = nd * p + std::sqrt(variance) * normal_quantile(u);
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(x + 0.5)), 0, n);
  }
  // (1-p)^n by squaring: exact enough, and no libm pow call per step.
  double pmf = 1;
  double base = 1 - p;
  for (std::int64_t e = n; e > 0; e >>= 1) {
    if (e & 1) pmf *= base;
    base *= base;
  }
  double cdf = pmf;
  const double odds = p / (1 - p);
  std::int64_t k = 0;
  while (u >= cdf && k < n) {
    pmf *= static_cast<double>(n - k) / static_cast<double>(k + 1) * odds;
    ++k;
    cdf += pmf;
  }
  return k;
}

}  // namespace factorysim::machines
