// Press pump physics (see pump_model.hpp).
#include "machines/pump_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace factorysim::machines {
namespace {

// approach, press, hold, return, decompress: share of the stroke, pressure and flow shares.
constexpr double phase_fraction[] = {0.2, 0.35, 0.2, 0.15, 0.1};
constexpr double phase_pressure[] = {0.25, 1.0, 0.95, 0.2, 0.1};
constexpr double phase_flow[] = {1.0, 0.35, 0.04, 0.9, 0.1};
constexpr double standby_flow = 0.05;  ///< pressure-compensated pump circulating at standby

}  // namespace

pump_operating_point pump_point(const pump_params& p, int phase) noexcept {
  if (phase < 0 || phase >= 5) return {p.standby_pressure_bar, standby_flow * p.max_flow_m3h};
  const auto i = static_cast<std::size_t>(phase);
  return {std::max(phase_pressure[i] * p.max_pressure_bar, p.standby_pressure_bar),
          phase_flow[i] * p.max_flow_m3h};
}

double pump_power_kw(const pump_params& p, double rated_power_kw,
                     const pump_operating_point& op) noexcept {
  // bar x m3/h: 1e5 Pa x (1/3600) m3/s = 27.78 W = 1/36 kW.
  return op.pressure_bar * op.flow_m3h / 36.0 / std::max(p.efficiency, 0.05) +
         rated_power_kw * p.no_load_power_fraction;
}

model_result step(const pump_params& p, pump_state& s, const model_input& in, rng& r,
                  reading& out) noexcept {
  const double power_noise = r.normal();
  const double vibration_noise = r.normal();

  const double dt = in.dt_s;
  const double rated = in.rated_power_kw;
  const double cav = in.fx.cavitation;
  // Cavitation: vapour bubbles in the inlet starve the pump of oil.
  const double flow_factor = 1.0 - 0.3 * cav;
  // A worn impeller (wider clearances, eroded vanes) recirculates part of what it moves: the
  // same shaft work plus losses, less flow delivered.
  const double delivered_share = 1.0 - 0.15 * in.fx.impeller_wear;

  std::array<cycle_phase, 5> phases{};
  for (int i = 0; i < 5; ++i) {
    pump_operating_point op = pump_point(p, i);
    op.flow_m3h *= flow_factor;
    phases[static_cast<std::size_t>(i)] = {phase_fraction[i], pump_power_kw(p, rated, op)};
  }
  pump_operating_point standby = pump_point(p, -1);
  standby.flow_m3h *= flow_factor;
  const double standby_kw = pump_power_kw(p, rated, standby);

  const double cycle_s = std::max(p.press_cycle_s, 0.1);
  const bool producing = in.enabled && in.load >= press_stop_load;
  const double wait_s = producing ? cycle_wait_s(cycle_s, std::clamp(in.load, 0.0, 1.0), 0.0)
                                  : std::numeric_limits<double>::infinity();
  if (in.first_step) s.phase_s = producing ? 0.0 : cycle_s;

  double power_kw = 0;
  std::int64_t strokes = 0;
  int phase_at_end = -1;
  if (in.enabled) {
    const cycle_advance adv = advance_cycle(phases, standby_kw, cycle_s, wait_s, s.phase_s, dt);
    power_kw = dt > 0 ? adv.energy_kws / dt : 0;
    power_kw *= (1.0 + 0.07 * in.fx.bearing_wear) * (1.0 + 0.2 * in.fx.impeller_wear) *
                (1.0 + 0.01 * power_noise);
    power_kw = std::max(power_kw, 0.0);
    strokes = adv.cycles;
    phase_at_end = adv.phase_at_end;
  } else {
    s.phase_s = cycle_s;  // a stopped press waits at the end of its stroke
  }
  const std::int64_t bad = draw_binomial(r, strokes, p.bad_rate);

  pump_operating_point now = in.enabled ? pump_point(p, phase_at_end) : pump_operating_point{};
  now.flow_m3h *= flow_factor * delivered_share;
  // Collapsing bubbles make the pressure ripple.
  now.pressure_bar *= 1.0 + 0.12 * cav * in.fx.fluctuation;

  const double load_fraction = power_kw / std::max(rated, 1e-9);
  const double oil_target = in.hall_temp_c + (in.enabled ? 15.0 + 25.0 * load_fraction : 0.0) +
                            10.0 * cav + 8.0 * in.fx.bearing_wear;
  if (in.first_step) s.oil_temp_c = oil_target;
  s.oil_temp_c = lag(s.oil_temp_c, oil_target, dt, 1800);

  const double period_s = cycle_s + wait_s;
  out.production.production_count = strokes;
  out.production.production_count_good = strokes - bad;
  out.production.production_count_bad = bad;
  out.production.throughput_units_per_hour = producing ? 3600.0 / period_s : 0.0;
  out.production.speed_percent = producing ? 100.0 * cycle_s / period_s : 0.0;

  auto& env = out.environmental;
  env.machine_temp_c = s.oil_temp_c;
  env.pressure_bar = now.pressure_bar;
  env.pressure_setpoint_bar = p.max_pressure_bar;
  env.flow_rate_m3h = now.flow_m3h;
  const double vibration = in.enabled
                               ? (1.2 + 2.5 * load_fraction) * (1.0 + 3.0 * in.fx.bearing_wear) +
                                     cav * (3.0 + 1.5 * std::abs(in.fx.fluctuation))
                               : 0.05;
  // A vibration transmitter's RMS over its averaging time wanders about 5 % from one
  // reading to the next (the process and the bearing's load zone move); plus its floor.
  env.vibration_mm_s =
      std::max(0.0, vibration * (1.0 + 0.05 * vibration_noise) + 0.02 * vibration_noise);

  return model_result{power_kw, producing};
}

}  // namespace factorysim::machines
