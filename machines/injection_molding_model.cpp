// Injection molding physics (see injection_molding_model.hpp).
#include "machines/injection_molding_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace factorysim::machines {
namespace {

// clamp, inject, hold, cool (+ screw recovery), eject.
constexpr double phase_fraction[] = {0.08, 0.12, 0.2, 0.5, 0.1};
constexpr double phase_drive[] = {0.5, 1.0, 0.45, 0.3, 0.25};  ///< x drive power
constexpr double phase_pressure_bar[] = {140, 160, 90, 25, 40};
constexpr double wait_drive = 0.04;  ///< pump idling between shots
constexpr double wait_pressure_bar = 5;

// Zone thermal model, per zone: heat loss at the set point of a healthy barrel is ~55% of
// the zone heater's full power while producing, so a lost heater lets the zone cool.
constexpr double loss_share_at_setpoint = 0.3;  ///< of zone heater power, to the hall
constexpr double material_share = 0.25;         ///< of zone heater power, into the plastic
constexpr double zone_time_constant_s = 3600;   ///< thermal mass / loss coefficient
constexpr double control_band_k = 5;            ///< proportional band of the heater control

}  // namespace

model_result step(const injection_molding_params& p, injection_molding_state& s,
                  const model_input& in, rng& r, reading& out) noexcept {
  const double power_noise = r.normal();
  const double vibration_noise = r.normal();
  const double barrel_sensor_noise = r.normal();
  if (s.hunting_phase < 0) s.hunting_phase = r.uniform();

  const double dt = in.dt_s;
  const double rated = in.rated_power_kw;
  const double cycle_s = std::max(p.cycle_s, 0.5);
  const bool wants_production = in.enabled && in.load >= molding_stop_load;
  const double setpoint = wants_production ? p.barrel_setpoint_c : p.barrel_standby_c;
  if (in.first_step) {
    s.zone_temp_c.fill(setpoint);
    s.phase_s = wants_production ? 0.0 : cycle_s;
  }

  const double coldest = *std::min_element(s.zone_temp_c.begin(), s.zone_temp_c.end());
  const bool barrel_ready = coldest >= p.barrel_setpoint_c - molding_cold_interlock_k;
  const bool producing = wants_production && barrel_ready;

  // Drive: the shot's phases.
  // A worn check ring lets melt flow back: the screw holds longer for the same shot.
  const double drive_kw = rated * p.drive_power_fraction * (1.0 + 0.1 * in.fx.check_ring_wear);
  std::array<cycle_phase, 5> phases{};
  for (std::size_t i = 0; i < 5; ++i) phases[i] = {phase_fraction[i], drive_kw * phase_drive[i]};
  const double wait_s = producing ? cycle_wait_s(cycle_s, std::clamp(in.load, 0.0, 1.0), 0.0)
                                  : std::numeric_limits<double>::infinity();
  double drive_avg_kw = 0;
  std::int64_t shots = 0;
  int phase_at_end = -1;
  if (in.enabled) {
    const cycle_advance adv =
        advance_cycle(phases, drive_kw * wait_drive, cycle_s, wait_s, s.phase_s, dt);
    drive_avg_kw = dt > 0 ? adv.energy_kws / dt : 0;
    shots = adv.cycles;
    phase_at_end = adv.phase_at_end;
  } else {
    s.phase_s = cycle_s;
  }
  const double period_s = cycle_s + wait_s;
  const double shot_share = producing ? cycle_s / period_s : 0.0;

  // Heaters: implicit Euler on each zone with proportional control plus feed-forward,
  // stable for any step length.
  const double zone_max_kw = rated * p.heater_power_fraction / 3.0;
  const double loss_kw_per_k =
      zone_max_kw * loss_share_at_setpoint / std::max(p.barrel_setpoint_c - 20.0, 10.0);
  const double capacity_kws_per_k = loss_kw_per_k * zone_time_constant_s;
  const double material_kw = zone_max_kw * material_share * shot_share;
  // The plastic takes heat in proportion to how far the zone is above the pellets (hall).
  const double leak_kw_per_k =
      loss_kw_per_k + material_kw / std::max(setpoint - in.hall_temp_c, 10.0);
  double heater_kw = 0;
  for (std::size_t z = 0; z < 3; ++z) {
    const double t0 = s.zone_temp_c[z];
    // A failed heater band: the zone nearest the feed throat (zone 0) loses its power.
    const double available_kw = z == 0 ? zone_max_kw * (1.0 - in.fx.heater_failure) : zone_max_kw;
    const double feed_forward = leak_kw_per_k * (setpoint - in.hall_temp_c) / zone_max_kw;
    const double gain_kw_per_k = zone_max_kw / control_band_k;
    const double a = capacity_kws_per_k / dt;
    double heat_kw = 0;
    if (in.enabled) {
      // Unsaturated solution, then clamp the duty and solve again with fixed power.
      const double t1 = (a * t0 + zone_max_kw * feed_forward + gain_kw_per_k * setpoint +
                         leak_kw_per_k * in.hall_temp_c) /
                        (a + gain_kw_per_k + leak_kw_per_k);
      const double duty = std::clamp(feed_forward + (setpoint - t1) / control_band_k, 0.0, 1.0);
      heat_kw = std::min(duty * zone_max_kw, available_kw);
    }
    s.zone_temp_c[z] = (a * t0 + heat_kw + leak_kw_per_k * in.hall_temp_c) / (a + leak_kw_per_k);
    heater_kw += heat_kw;
  }

  double power_kw = 0;
  if (in.enabled) {
    power_kw = (drive_avg_kw * (1.0 + 0.01 * power_noise) + heater_kw + 0.01 * rated);
    power_kw = std::max(power_kw, 0.0);
  }

  // Parts: a barrel below its set point leaves short shots, sink marks, unmelted pellets.
  const double coldest_now = *std::min_element(s.zone_temp_c.begin(), s.zone_temp_c.end());
  const double cold_k = p.barrel_setpoint_c - coldest_now;
  const double bad_share =
      std::clamp(p.scrap_rate + 0.9 * std::clamp((cold_k - 3.0) / 37.0, 0.0, 1.0) +
                     0.25 * in.fx.check_ring_wear,
                 0.0, 1.0);
  const std::int64_t parts = shots * std::max(p.cavities, 1);
  const std::int64_t bad = draw_binomial(r, parts, bad_share);

  out.production.production_count = parts;
  out.production.production_count_good = parts - bad;
  out.production.production_count_bad = bad;
  out.production.throughput_units_per_hour =
      producing ? 3600.0 / period_s * std::max(p.cavities, 1) : 0.0;
  out.production.speed_percent = 100.0 * shot_share;

  auto& env = out.environmental;
  env.indoor_temp_c = in.hall_temp_c;
  // The heater bands' time-proportioning controllers hunt around the set point: a limit
  // cycle of about +-1.5 K over 4 minutes while they regulate (not while heating up or off),
  // read by a type J thermocouple (+-0.3 K noise, 0.1 K resolution on the wire).
  const double mean_zone_c = (s.zone_temp_c[0] + s.zone_temp_c[1] + s.zone_temp_c[2]) / 3.0;
  const bool regulating = in.enabled && std::abs(mean_zone_c - setpoint) < 5.0;
  const double hunting_k =
      regulating
          ? 1.5 * std::sin(2.0 * std::numbers::pi * (in.minute_of_day / 4.0 + s.hunting_phase))
          : 0.0;
  env.machine_temp_c = mean_zone_c + hunting_k + 0.3 * barrel_sensor_noise;
  env.pressure_bar = !in.enabled ? 0.0
                     : phase_at_end >= 0
                         ? phase_pressure_bar[static_cast<std::size_t>(phase_at_end)]
                         : wait_pressure_bar;
  const double drive_share = drive_avg_kw / std::max(drive_kw, 1e-9);
  env.vibration_mm_s =
      in.enabled ? std::max(0.0, (0.8 + 1.8 * drive_share) * (1.0 + 0.05 * vibration_noise) +
                                     0.02 * vibration_noise)
                 : 0.05;

  return model_result{power_kw, producing, in.enabled ? heater_kw : 0.0};
}

}  // namespace factorysim::machines
