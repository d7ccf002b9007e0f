// Compressor physics (see compressor_model.hpp). The receiver is isothermal: one cubic
// metre of free air raises the pressure of a receiver of V m3 by 1.01325 / V bar.
#include "machines/compressor_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace factorysim::machines {

model_result step(const compressor_params& p, compressor_state& s, const model_input& in, rng& r,
                  reading& out) noexcept {
  const double demand_noise = r.normal();
  const double power_noise = r.normal();
  const double vibration_noise = r.normal();

  const double dt = in.dt_s;
  // A worn screw element leaks back internally: less air for the same shaft power. Warmer
  // intake air is thinner: about 1 % less free air per 4 K above 20 C (the compressor room
  // follows the hall), so the same demand keeps it loaded longer in summer.
  const double intake_factor = std::clamp(1.0 - 0.0025 * (in.hall_temp_c - 20.0), 0.85, 1.1);
  const double fad_m3_s =
      p.free_air_delivery_m3_min / 60.0 * intake_factor * (1.0 - 0.25 * in.fx.air_end_wear);
  const double band_lo = p.pressure_min_bar;
  const double band_hi = std::max(p.pressure_max_bar, band_lo + 0.05);
  const double bar_per_m3 = 1.01325 / std::max(p.receiver_volume_m3, 1e-3);
  const double leak = in.fx.air_leak;

  // Air tools and blow-offs switch on and off: the plant's demand wanders around its mean
  // with a memory of about two minutes (an exact Ornstein-Uhlenbeck step for any dt), so
  // load/unload cycles differ from one to the next as they do on a real air net.
  const double keep = std::exp(-dt / 120.0);
  s.demand_wander = keep * s.demand_wander + std::sqrt(1.0 - keep * keep) * demand_noise;
  // Air drawn by the plant: base use and leaks, plus what production needs.
  const double nominal_fad_m3_s = p.free_air_delivery_m3_min / 60.0;
  double demand_m3_s =
      nominal_fad_m3_s *
          (p.demand_idle_fraction + (p.demand_full_fraction - p.demand_idle_fraction) * in.load) *
          std::max(0.2, 1.0 + 0.15 * s.demand_wander) +
      nominal_fad_m3_s * 0.35 * leak;
  demand_m3_s = std::max(demand_m3_s, 0.0);

  if (in.first_step) {
    s.pressure_bar = 0.5 * (band_lo + band_hi);
    s.loaded = false;
    s.motor_on = true;
    s.unloaded_for_s = 0;
    s.machine_temp_c =
        72 + 10 * std::min(1.0, demand_m3_s / fad_m3_s) + 0.2 * (in.hall_temp_c - 20);
  }

  double loaded_s = 0;
  double running_s = 0;
  if (!in.enabled) {
    s.loaded = false;
    s.motor_on = false;
    s.pressure_bar = std::max(0.0, s.pressure_bar - demand_m3_s * bar_per_m3 * dt);
  } else {
    // Exact piecewise integration: the step may contain several load/unload switches.
    constexpr double inf = std::numeric_limits<double>::infinity();
    double t = 0;
    for (int guard = 0; t < dt && guard < 256; ++guard) {
      const double rest = dt - t;
      if (s.loaded) {
        const double rate = (fad_m3_s - demand_m3_s) * bar_per_m3;
        const double to_top = rate > 0 ? (band_hi - s.pressure_bar) / rate : inf;
        const double len = std::clamp(to_top, 0.0, rest);
        s.pressure_bar = std::max(0.0, s.pressure_bar + rate * len);
        loaded_s += len;
        running_s += len;
        t += len;
        if (to_top <= rest) {
          s.pressure_bar = band_hi;
          s.loaded = false;
          s.unloaded_for_s = 0;
        }
      } else {
        const double rate = demand_m3_s * bar_per_m3;  // falling
        const double to_bottom = rate > 0 ? (s.pressure_bar - band_lo) / rate : inf;
        const double to_stop = (s.motor_on && p.stop_after_unloaded_s > 0)
                                   ? p.stop_after_unloaded_s - s.unloaded_for_s
                                   : inf;
        const double len = std::clamp(std::min(to_bottom, to_stop), 0.0, rest);
        s.pressure_bar = std::max(0.0, s.pressure_bar - rate * len);
        if (s.motor_on) running_s += len;
        s.unloaded_for_s += len;
        t += len;
        if (to_bottom <= rest && to_bottom <= to_stop) {
          s.pressure_bar = std::min(s.pressure_bar, band_lo);
          s.loaded = true;
          s.motor_on = true;
        } else if (to_stop <= rest) {
          s.motor_on = false;
        }
      }
    }
  }

  const double rated = in.rated_power_kw;
  const double position = std::clamp((s.pressure_bar - band_lo) / (band_hi - band_lo), 0.0, 1.0);
  // Loaded power climbs with discharge pressure; worn bearings add friction.
  const double wear = 1.0 + 0.08 * in.fx.bearing_wear;
  const double loaded_kw = rated * p.loaded_power_fraction * (0.92 + 0.08 * position) * wear *
                           (1.0 + 0.05 * in.fx.air_end_wear);
  // An inlet valve that no longer closes keeps compressing part of the air while unloaded.
  const double unloaded_kw =
      rated * p.unloaded_power_fraction * wear * (1.0 + 0.6 * in.fx.inlet_valve_wear);
  const double controls_kw = in.enabled ? 0.005 * rated : 0.0;
  double power_kw = 0;
  if (dt > 0) {
    power_kw = (loaded_s * loaded_kw + (running_s - loaded_s) * unloaded_kw +
                (dt - running_s) * controls_kw) /
               dt;
  }
  power_kw = std::max(0.0, power_kw * (1.0 + 0.01 * power_noise));

  const double loaded_share = dt > 0 ? loaded_s / dt : 0;
  const double running_share = dt > 0 ? running_s / dt : 0;
  const double delivered_m3 = loaded_s * fad_m3_s;
  s.air_remainder_m3 += delivered_m3;
  const auto whole_m3 = static_cast<std::int64_t>(s.air_remainder_m3);
  s.air_remainder_m3 -= static_cast<double>(whole_m3);

  // Oil: the thermostatic valve bypasses the cooler below about 72 C, so a running
  // compressor holds its oil between 70 and 85 C (warmer when loaded, a little with the
  // room); a stopped one cools to the room. Worn bearings run hotter.
  const double loaded_of_running = running_s > 0 ? loaded_s / running_s : 0;
  const double oil_running_c = 72 + 10 * loaded_of_running + 0.2 * (in.hall_temp_c - 20);
  const double temp_target =
      in.hall_temp_c + (oil_running_c - in.hall_temp_c) * running_share + 20 * in.fx.bearing_wear;
  s.machine_temp_c = lag(s.machine_temp_c, temp_target, dt, 600);

  out.production.production_count = whole_m3;  // a compressor's product: m3 of free air
  out.production.production_count_good = whole_m3;
  out.production.production_count_bad = 0;
  out.production.throughput_units_per_hour = dt > 0 ? delivered_m3 / dt * 3600.0 : 0;
  out.production.speed_percent = 100.0 * running_share;

  auto& env = out.environmental;
  env.outdoor_temp_c = in.outdoor_temp_c;
  env.machine_temp_c = s.machine_temp_c;
  env.pressure_bar = s.pressure_bar;
  env.pressure_setpoint_bar = band_hi;
  env.flow_rate_m3h = out.production.throughput_units_per_hour;
  const double vibration = running_share > 0 ? (1.2 * running_share + 1.4 * loaded_share) *
                                                   (1.0 + 3.0 * in.fx.bearing_wear)
                                             : 0.1;
  // A vibration transmitter's RMS over its averaging time wanders about 5 % from one
  // reading to the next (the process and the bearing's load zone move); plus its floor.
  env.vibration_mm_s =
      std::max(0.0, vibration * (1.0 + 0.05 * vibration_noise) + 0.02 * vibration_noise);

  return model_result{power_kw, running_share > 0};
}

}  // namespace factorysim::machines
