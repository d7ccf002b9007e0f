// Conveyor physics (see motor_model.hpp).
#include "machines/motor_model.hpp"

#include <algorithm>
#include <cmath>

namespace factorysim::machines {

model_result step(const motor_params& p, motor_state& s, const model_input& in, rng& r,
                  reading& out) noexcept {
  const double fill_noise = r.normal();
  const double power_noise = r.normal();
  const double vibration_noise = r.normal();

  const double dt = in.dt_s;
  const bool moving = in.enabled && in.load >= conveyor_stop_load;
  const double speed = moving ? (p.min_speed_percent + (p.max_speed_percent - p.min_speed_percent) *
                                                           std::clamp(in.load, 0.0, 1.0)) /
                                    100.0
                              : 0.0;
  const double fill = moving ? std::clamp(0.35 + 0.65 * in.load + 0.04 * fill_noise, 0.0, 1.2) : 0;
  // A slipping belt runs slower than its pulley: less product moves for the same power.
  const double slip = 0.35 * in.fx.belt_slip;
  const double belt_speed = speed * (1.0 - slip);

  const double rated = in.rated_power_kw;
  double power_kw = 0;
  if (in.enabled) {
    power_kw = rated * (p.standby_power_fraction +
                        speed * (p.friction_load_fraction + p.belt_load_fraction * fill) +
                        0.05 * speed * speed * speed);
    power_kw *= (1.0 + 0.08 * in.fx.bearing_wear) * (1.0 + 0.01 * power_noise);
    power_kw = std::max(power_kw, 0.0);
  }

  const double throughput = p.units_per_hour * belt_speed * std::min(fill, 1.0);
  s.units_remainder += throughput * dt / 3600.0;
  const auto units = static_cast<std::int64_t>(s.units_remainder);
  s.units_remainder -= static_cast<double>(units);
  const std::int64_t bad = draw_binomial(r, units, p.bad_rate);

  const double load_fraction = power_kw / std::max(rated, 1e-9);
  if (in.first_step) s.winding_temp_c = in.hall_temp_c + 55.0 * load_fraction * load_fraction;
  s.winding_temp_c = lag(
      s.winding_temp_c,
      in.hall_temp_c + 55.0 * load_fraction * load_fraction + 12.0 * in.fx.bearing_wear, dt, 1200);

  out.production.production_count = units;
  out.production.production_count_good = units - bad;
  out.production.production_count_bad = bad;
  out.production.throughput_units_per_hour = throughput;
  out.production.speed_percent = 100.0 * speed;

  auto& env = out.environmental;
  env.indoor_temp_c = in.hall_temp_c;
  env.machine_temp_c = s.winding_temp_c;
  const double vibration =
      speed > 0 ? (0.6 + 2.2 * speed + 3.0 * slip * speed) * (1.0 + 3.0 * in.fx.bearing_wear)
                : 0.05;
  // A vibration transmitter's RMS over its averaging time wanders about 5 % from one
  // reading to the next (the process and the bearing's load zone move); plus its floor.
  env.vibration_mm_s =
      std::max(0.0, vibration * (1.0 + 0.05 * vibration_noise) + 0.02 * vibration_noise);

  return model_result{power_kw, moving};
}

}  // namespace factorysim::machines
