// HVAC physics (see hvac_model.hpp).
#include "machines/hvac_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace factorysim::machines {

double cooling_cop(const hvac_params& p, double outdoor_temp_c) noexcept {
  // Lift = condensing (outdoor + 15 K approach) minus evaporating (chilled water supply).
  const double lift_nominal = p.rating_outdoor_c + 15.0 - p.chilled_water_supply_c;
  const double lift = std::max(outdoor_temp_c + 15.0 - p.chilled_water_supply_c, 10.0);
  return std::clamp(p.nominal_cop * lift_nominal / lift, 1.0, 9.0);
}

model_result step(const hvac_params& p, hvac_state& s, const model_input& in, rng& r,
                  reading& out) noexcept {
  const double power_noise = r.normal();
  const double vibration_noise = r.normal();
  // Sensor noise (Pt100 class A, +-0.15 C at 0 C, read through a 0.1 C transmitter).
  const double indoor_sensor_noise = r.normal();
  const double chw_sensor_noise = r.normal();
  if (s.staging_phase < 0) s.staging_phase = r.uniform();

  const double dt = in.dt_s;
  const double occupancy = std::clamp(in.load, 0.0, 1.0);
  const double t_out = in.outdoor_temp_c;
  const double leak = in.fx.refrigerant_leak;
  const double fouled = in.fx.fouled_coil;
  const double wear = in.fx.bearing_wear;

  const double cool_sp = p.cooling_setpoint_c + p.setback_c * (1.0 - occupancy);
  // Heating and cooling never fight: a misconfigured band still keeps 0.5 K between them.
  const double heat_sp =
      std::min(p.heating_setpoint_c - p.setback_c * (1.0 - occupancy), cool_sp - 0.5);
  if (in.first_step) s.indoor_temp_c = std::clamp(t_out, heat_sp, cool_sp);

  const double ua = p.building_ua_kw_per_k;
  const double mass_kwh_per_k = std::max(ua * p.building_time_constant_h, 1e-6);
  // Sun on the roof from ~6:00 to ~20:00, peaking at 13:00.
  const double sun =
      std::max(0.0, std::cos(2.0 * std::numbers::pi * (in.minute_of_day - 780.0) / 1440.0) - 0.1);
  const double gains_kw =
      p.internal_gains_kw * (0.1 + 0.9 * occupancy) + 0.08 * p.cooling_capacity_kw * sun;
  // Proportional control that pulls the hall back to its set point within ~15 minutes.
  constexpr double pull_h = 0.25;
  // A short charge and a fouled condenser both raise the lift the compressor works against.
  const double fault_cop = (1.0 - 0.35 * leak) * (1.0 - 0.45 * fouled);
  const double cop_cool = cooling_cop(p, t_out) * fault_cop;
  const double cop_heat =
      std::clamp(p.heating_cop * (1.0 + 0.025 * (t_out - 7.0)), 1.0, 6.0) * fault_cop;
  const double fan_share = in.enabled ? 0.25 + 0.75 * occupancy : 0.0;
  const double fan_kw = in.rated_power_kw * p.fan_power_fraction * fan_share *
                        (1.0 + 0.25 * fouled) * (1.0 + 0.1 * wear);
  // The unit's electrical input (compressor + fans) never passes its rating: what the
  // compressor may draw bounds the heat it moves, on top of the thermal capacity.
  const double compressor_kw = std::max(in.rated_power_kw - fan_kw, 0.0);
  const double capacity_kw =
      std::min(p.cooling_capacity_kw * (1.0 - 0.5 * leak) *
                   std::clamp(1.0 - 0.006 * (t_out - p.rating_outdoor_c), 0.7, 1.1),
               compressor_kw * cop_cool);
  // An air-source heat pump loses heating capacity in the cold (about 2 %/K below 7 C, as
  // EN 14511 ratings at 7 / 2 / -7 C show); the backup heater covers the rest.
  const double heat_pump_kw = std::min(
      p.cooling_capacity_kw * (1.0 - 0.4 * leak) * std::clamp(1.0 + 0.02 * (t_out - 7.0), 0.4, 1.1),
      compressor_kw * cop_heat);
  const double heat_capacity_kw = heat_pump_kw + (in.enabled ? p.backup_heater_kw : 0.0);

  // Implicit Euler on the hall temperature, with the controller evaluated at the end of the
  // step: stable for any interval (a 15-minute meter interval is longer than pull_h / 4).
  const double dt_h = dt / 3600.0;
  const double t0 = s.indoor_temp_c;
  const double envelope = dt_h * ua / mass_kwh_per_k;
  auto net_at = [&](double t) { return gains_kw + ua * (t_out - t); };
  // Hall temperature after the step under a fixed HVAC heat flow q_kw (+ heats the hall).
  auto floating = [&](double q_kw) {
    return (t0 + dt_h / mass_kwh_per_k * (gains_kw + ua * t_out + q_kw)) / (1.0 + envelope);
  };
  const double k = dt_h / pull_h;
  double t1 = floating(0.0);
  double cooling_kw = 0;
  double heating_kw = 0;
  if (in.enabled) {
    if (net_at(t1) + mass_kwh_per_k * (t1 - cool_sp) / pull_h > 0) {
      t1 = (t0 + k * cool_sp) / (1.0 + k);
      cooling_kw = net_at(t1) + mass_kwh_per_k * (t1 - cool_sp) / pull_h;
      if (cooling_kw > capacity_kw) {
        cooling_kw = capacity_kw;
        t1 = floating(-capacity_kw);
      }
      cooling_kw = std::max(cooling_kw, 0.0);
    } else if (-net_at(t1) + mass_kwh_per_k * (heat_sp - t1) / pull_h > 0) {
      t1 = (t0 + k * heat_sp) / (1.0 + k);
      heating_kw = -net_at(t1) + mass_kwh_per_k * (heat_sp - t1) / pull_h;
      if (heating_kw > heat_capacity_kw) {
        heating_kw = heat_capacity_kw;
        t1 = floating(heat_capacity_kw);
      }
      heating_kw = std::max(heating_kw, 0.0);
    }
  }
  s.indoor_temp_c = t1;

  // Heat beyond the heat pump's comes from the resistive backup heater (COP 1).
  const double backup_kw = std::max(heating_kw - heat_pump_kw, 0.0);
  const double pumped_heat_kw = heating_kw - backup_kw;
  double unit_kw = cooling_kw / cop_cool + pumped_heat_kw / cop_heat + fan_kw;
  if (in.enabled) unit_kw *= 1.0 + 0.01 * power_noise;
  unit_kw = std::clamp(unit_kw, 0.0, in.rated_power_kw);
  const double power_kw = unit_kw + backup_kw;

  const double cooling_plr = cooling_kw / std::max(p.cooling_capacity_kw, 1e-6);
  const double heating_plr = heating_kw / std::max(p.cooling_capacity_kw, 1e-6);
  const bool short_of_capacity = cooling_kw >= capacity_kw * 0.999 && cooling_kw > 0;
  const double chw_supply = p.chilled_water_supply_c + 3.0 * leak + (short_of_capacity ? 2.0 : 0.0);
  const double coil_drop =
      std::min(1.0, 3.0 * cooling_plr) * std::max(0.0, s.indoor_temp_c - (chw_supply + 6.0));

  out.production.production_count = 0;
  out.production.production_count_good = 0;
  out.production.production_count_bad = 0;
  out.production.throughput_units_per_hour = 0;
  out.production.speed_percent = 100.0 * fan_share;

  auto& env = out.environmental;
  env.outdoor_temp_c = t_out;
  env.outdoor_humidity_percent = in.outdoor_humidity_percent;
  env.indoor_temp_c = s.indoor_temp_c + 0.1 * indoor_sensor_noise;
  env.indoor_humidity_percent = std::clamp(
      45.0 + 0.3 * (in.outdoor_humidity_percent - 60.0) - 8.0 * std::min(1.0, 3 * cooling_plr),
      15.0, 85.0);
  env.supply_air_temp_c = s.indoor_temp_c - coil_drop + 15.0 * heating_plr;
  env.return_air_temp_c = s.indoor_temp_c + 0.8;
  // Staged compressors at part load: the supply temperature saw-tooths +-0.5 K over about
  // 10 minutes as a stage cuts in and out (not at full load, where every stage runs).
  const double staging_k =
      cooling_kw > 0 && cooling_plr < 0.9
          ? 0.5 * (2.0 * std::fmod(in.minute_of_day / 10.0 + s.staging_phase, 1.0) - 1.0)
          : 0.0;
  env.chilled_water_supply_temp_c = chw_supply + staging_k + 0.1 * chw_sensor_noise;
  env.chilled_water_return_temp_c = chw_supply + p.chilled_water_delta_k * cooling_plr;
  // A ratio of heat to power means nothing while the compressor stands still: not measured.
  if (cooling_kw > 0 || pumped_heat_kw > 0) env.cop = heating_kw > cooling_kw ? cop_heat : cop_cool;
  env.machine_temp_c = t_out + 8.0 + 7.0 * cooling_plr + 14.0 * fouled;  // condensing
  env.vibration_mm_s =
      in.enabled ? std::max(0.0, (0.6 + 1.5 * (cooling_plr + heating_plr) + 0.6 * fan_share) *
                                         (1.0 + 3.0 * wear) * (1.0 + 0.05 * vibration_noise) +
                                     0.02 * vibration_noise)
                 : 0.05;

  return model_result{power_kw, in.enabled && (cooling_kw + heating_kw > 0 || occupancy > 0.05),
                      backup_kw};
}

}  // namespace factorysim::machines
