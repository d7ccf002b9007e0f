// One machine: warm start, start-up/shut-down lag, the model's physics, fault effects,
// electrical readings and the energy meter.
#include "machines/machine.hpp"

#include <algorithm>
#include <cmath>

#include "machines/condition.hpp"
#include "machines/electrical.hpp"
#include "machines/interruptions.hpp"

namespace factorysim::machines {
namespace {

model_params params_for(const machine_config& c) {
  // A config whose params variant does not match its type gets the type's defaults.
  const auto want = static_cast<std::size_t>(c.type);
  if (c.params.index() == want) return c.params;
  return default_params(c.type, c.rated_power_kw);
}

std::variant<compressor_state, hvac_state, motor_state, pump_state, injection_molding_state>
initial_state(machine_type t) {
  switch (t) {
    case machine_type::compressor:
      return compressor_state{};
    case machine_type::hvac:
      return hvac_state{};
    case machine_type::motor:
      return motor_state{};
    case machine_type::pump:
      return pump_state{};
    case machine_type::injection_molding:
      return injection_molding_state{};
  }
  return compressor_state{};
}

bool is_gradual(fault_type t) noexcept {
  return t == fault_type::bearing_wear || t == fault_type::refrigerant_leak ||
         t == fault_type::fouled_coil;
}
bool acts_on_power(std::string_view signal) noexcept {
  return signal.empty() || signal == "power_kw" || signal == "energy_kwh";
}

enum class stream : std::uint8_t { energy, production, environmental, none };

/// Where a payload key lives in a reading.
struct signal_slot {
  double* value = nullptr;
  std::int64_t* count = nullptr;
  stream in = stream::none;
  float* small = nullptr;  ///< a condition-monitoring value (types.hpp keeps them as float)
};

signal_slot slot_of(reading& r, std::string_view key) noexcept {
  auto& e = r.energy;
  auto& p = r.production;
  auto& v = r.environmental;
  struct entry {
    std::string_view key;
    double* value;
    std::int64_t* count;
    stream in;
    float* small = nullptr;
  };
  const entry table[] = {
      {"power_kw", &e.power_kw, nullptr, stream::energy},
      {"energy_kwh", &e.power_kw, nullptr, stream::energy},
      {"voltage_v", &e.voltage_v, nullptr, stream::energy},
      {"current_a", &e.current_a, nullptr, stream::energy},
      {"power_factor", &e.power_factor, nullptr, stream::energy},
      {"frequency_hz", &e.frequency_hz, nullptr, stream::energy},
      {"current_l1_a", nullptr, nullptr, stream::energy, &e.current_l1_a},
      {"current_l2_a", nullptr, nullptr, stream::energy, &e.current_l2_a},
      {"current_l3_a", nullptr, nullptr, stream::energy, &e.current_l3_a},
      {"production_count", nullptr, &p.production_count, stream::production},
      {"production_count_good", nullptr, &p.production_count_good, stream::production},
      {"production_count_bad", nullptr, &p.production_count_bad, stream::production},
      {"throughput_units_per_hour", &p.throughput_units_per_hour, nullptr, stream::production},
      {"speed_percent", &p.speed_percent, nullptr, stream::production},
      {"operating_mode", nullptr, nullptr, stream::production},
      {"outdoor_temp_c", &v.outdoor_temp_c, nullptr, stream::environmental},
      {"indoor_temp_c", &v.indoor_temp_c, nullptr, stream::environmental},
      {"machine_temp_c", &v.machine_temp_c, nullptr, stream::environmental},
      {"outdoor_humidity_percent", &v.outdoor_humidity_percent, nullptr, stream::environmental},
      {"indoor_humidity_percent", &v.indoor_humidity_percent, nullptr, stream::environmental},
      {"pressure_bar", &v.pressure_bar, nullptr, stream::environmental},
      {"pressure_setpoint_bar", &v.pressure_setpoint_bar, nullptr, stream::environmental},
      {"flow_rate_m3h", &v.flow_rate_m3h, nullptr, stream::environmental},
      {"supply_air_temp_c", &v.supply_air_temp_c, nullptr, stream::environmental},
      {"return_air_temp_c", &v.return_air_temp_c, nullptr, stream::environmental},
      {"chilled_water_supply_temp_c", &v.chilled_water_supply_temp_c, nullptr,
       stream::environmental},
      {"chilled_water_return_temp_c", &v.chilled_water_return_temp_c, nullptr,
       stream::environmental},
      {"cop", &v.cop, nullptr, stream::environmental},
      {"vibration_mm_s", &v.vibration_mm_s, nullptr, stream::environmental},
      {"bearing_temp_c", nullptr, nullptr, stream::environmental, &v.bearing_temp_c},
      {"vibration_1x_mm_s", nullptr, nullptr, stream::environmental, &v.vibration_1x_mm_s},
      {"vibration_2x_mm_s", nullptr, nullptr, stream::environmental, &v.vibration_2x_mm_s},
      {"vibration_accel_peak_g", nullptr, nullptr, stream::environmental,
       &v.vibration_accel_peak_g},
      {"vibration_crest_factor", nullptr, nullptr, stream::environmental,
       &v.vibration_crest_factor},
      {"vibration_kurtosis", nullptr, nullptr, stream::environmental, &v.vibration_kurtosis},
      {"vibration_bearing_defect_ge", nullptr, nullptr, stream::environmental,
       &v.vibration_bearing_defect_ge},
      {"current_unbalance_percent", nullptr, nullptr, stream::environmental,
       &v.current_unbalance_percent},
      {"run_hours", &v.run_hours, nullptr, stream::environmental},
      {"start_count", &v.start_count, nullptr, stream::environmental},
  };
  for (const auto& t : table) {
    if (t.key == key) return {t.value, t.count, t.in, t.small};
  }
  return {};
}

/// Line machines stop now and then; the others have an empty plan and run on
/// (machines/interruptions.hpp).
interruption_plan interruptions_of(const model_params& p) noexcept {
  if (const auto* m = std::get_if<motor_params>(&p))
    return {m->micro_stops_per_h, m->micro_stop_mean_s, m->changeover_interval_h,
            m->changeover_min};
  if (const auto* m = std::get_if<injection_molding_params>(&p))
    return {m->micro_stops_per_h, m->micro_stop_mean_s, m->changeover_interval_h,
            m->changeover_min};
  return {};
}

double hours_active(const fault& f, sim_time now) noexcept {
  const auto ms = (now - f.start).count();
  return ms > 0 ? static_cast<double>(ms) / 3.6e6 : 0.0;
}

}  // namespace

machine::machine(machine_config config, std::uint64_t root_seed)
    : config_(std::move(config)),
      state_(initial_state(config_.type)),
      rng_(derive_seed(root_seed, config_.id)),
      wear_(config_.type, config_.wear_plan(), derive_seed(root_seed, config_.id + "/wear")),
      noise_seed_(derive_seed(root_seed, config_.id + "/fault-noise")) {
  config_.params = params_for(config_);
  if (config_.rated_current_a <= 0 && config_.rated_voltage_v > 0) {
    config_.rated_current_a =
        config_.rated_power_kw * 1000.0 /
        (std::sqrt(3.0) * config_.rated_voltage_v * std::max(config_.rated_power_factor, 0.05));
  }
}

void machine::set_enabled(bool enabled) noexcept {
  if (enabled_ && !enabled) load_ = 0;  // starting again ramps up from standstill
  enabled_ = enabled;
}

bool machine::enabled() const noexcept {
  return enabled_;
}

double machine::energy_total_kwh() const noexcept {
  return energy_total_kwh_;
}

fault_effects machine::effects_of(const step_input& in, bool& severe) const noexcept {
  fault_effects fx;
  severe = false;
  for (const fault& f : in.faults) {
    if (is_generic(f.type) || !fault_applies(f.type, config_.type) || f.start >= in.time) continue;
    const double sev = std::clamp(f.severity, 0.0, 1.0);
    if (sev >= 0.7) severe = true;
    // Wear and leaks build up over about two hours; the others hit at once.
    const double eff = sev * sev;
    const double strength =
        is_gradual(f.type) ? eff * std::min(1.0, 0.2 + 0.4 * hours_active(f, in.time)) : eff;
    double* target = nullptr;
    switch (f.type) {
      case fault_type::air_leak:
        target = &fx.air_leak;
        break;
      case fault_type::bearing_wear:
        target = &fx.bearing_wear;
        break;
      case fault_type::belt_slip:
        target = &fx.belt_slip;
        break;
      case fault_type::cavitation:
        target = &fx.cavitation;
        break;
      case fault_type::heater_failure:
        target = &fx.heater_failure;
        break;
      case fault_type::refrigerant_leak:
        target = &fx.refrigerant_leak;
        break;
      case fault_type::fouled_coil:
        target = &fx.fouled_coil;
        break;
      default:
        break;
    }
    if (target != nullptr) *target = std::max(*target, strength);
    fx.fluctuation = hashed_normal(noise_seed_ ^ f.id,
                                   static_cast<std::uint64_t>(in.time.time_since_epoch().count()));
  }
  return fx;
}

void machine::add_wear_effects(fault_effects& fx, std::uint64_t time_ms) const noexcept {
  // Effects grow with the square of damage: hardly visible for most of the life, then
  // plain (the potential-failure point of the P-F curve sits near damage 0.3).
  auto sq = [&](component c) {
    const double d = wear_.damage(c);
    return d * d;
  };
  switch (config_.type) {
    case machine_type::compressor:
      fx.bearing_wear = std::max(fx.bearing_wear, sq(component::bearing));
      fx.air_end_wear = sq(component::air_end);
      fx.inlet_valve_wear = sq(component::inlet_valve);
      break;
    case machine_type::hvac:
      fx.bearing_wear = std::max(fx.bearing_wear, sq(component::bearing));
      // Fouling thickness and lost charge act in proportion.
      fx.fouled_coil = std::max(fx.fouled_coil, wear_.damage(component::coil));
      fx.refrigerant_leak = std::max(fx.refrigerant_leak, wear_.damage(component::refrigerant));
      break;
    case machine_type::motor:
      fx.bearing_wear = std::max(fx.bearing_wear, sq(component::bearing));
      break;
    case machine_type::pump: {
      fx.bearing_wear = std::max(fx.bearing_wear, sq(component::bearing));
      fx.impeller_wear = sq(component::impeller);
      // A worn impeller lowers the inlet pressure margin (NPSH): cavitation from damage 0.6.
      const double cav = std::clamp((wear_.damage(component::impeller) - 0.6) / 0.4, 0.0, 1.0);
      if (cav > fx.cavitation) {
        fx.cavitation = cav;
        fx.fluctuation = hashed_normal(noise_seed_ ^ 0xC0FFEEULL, time_ms);
      }
      break;
    }
    case machine_type::injection_molding:
      fx.heater_failure = std::max(fx.heater_failure, sq(component::heater_band));
      fx.check_ring_wear = sq(component::check_ring);
      break;
  }
}

double machine::remember(std::uint64_t fault_id, double value) noexcept {
  for (auto& m : memory_) {
    if (m.fault_id == fault_id) return m.value;
  }
  for (auto& m : memory_) {
    if (m.fault_id == 0) {
      m = {fault_id, value};
      return value;
    }
  }
  // More simultaneous sensor faults than slots: the oldest slot is reused.
  memory_[0] = {fault_id, value};
  return value;
}

void machine::apply_sensor_faults(const step_input& in, reading& out, bool power_only) {
  for (const fault& f : in.faults) {
    if (!is_generic(f.type) || f.start >= in.time) continue;
    if (acts_on_power(f.signal) != power_only) continue;
    const double sev = std::clamp(f.severity, 0.0, 1.0);
    if (f.type == fault_type::dropout) {
      const stream s = f.signal.empty() ? stream::none : slot_of(out, f.signal).in;
      if (f.signal.empty() || s == stream::energy) out.energy_dropped = true;
      if (f.signal.empty() || s == stream::production) out.production_dropped = true;
      if (f.signal.empty() || s == stream::environmental) out.environmental_dropped = true;
      continue;
    }
    const signal_slot slot =
        slot_of(out, f.signal.empty() ? std::string_view{"power_kw"} : std::string_view{f.signal});
    if (slot.value == nullptr && slot.count == nullptr && slot.small == nullptr) continue;
    const double v = slot.value != nullptr   ? *slot.value
                     : slot.small != nullptr ? static_cast<double>(*slot.small)
                                             : static_cast<double>(*slot.count);
    if (std::isnan(v)) continue;  // this machine does not report that signal
    const double at_start = remember(f.id, v);
    double reported = v;
    switch (f.type) {
      case fault_type::spike:
        reported = v * (1.0 + 2.0 * sev);
        break;
      case fault_type::dip:
        reported = v * (1.0 - 0.8 * sev);
        break;
      case fault_type::drift:
        reported = v + sev * 0.2 * hours_active(f, in.time) * std::max(std::abs(at_start), 1.0);
        break;
      case fault_type::stuck_sensor:
        reported = at_start;
        break;
      case fault_type::noise_burst:
        reported =
            v + 0.25 * sev * std::max(std::abs(v), 1.0) *
                    hashed_normal(noise_seed_ ^ (f.id * 0x9E3779B97F4A7C15ULL),
                                  static_cast<std::uint64_t>(in.time.time_since_epoch().count()));
        break;
      default:
        break;
    }
    if (slot.value != nullptr || slot.small != nullptr) {
      // Power and counts cannot go negative on any meter; temperatures can.
      if (power_only || slot.in != stream::environmental) reported = std::max(reported, 0.0);
      if (slot.value != nullptr) *slot.value = reported;
      else *slot.small = static_cast<float>(reported);
    } else {
      *slot.count = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::llround(reported)));
    }
  }
}

reading machine::step(const step_input& in) {
  std::vector<health_event> ignored;
  return step(in, ignored);
}

reading machine::step(const step_input& in, std::vector<health_event>& events) {
  const double dt = std::max(in.dt_s, 1e-3);
  bool severe = false;
  const downtime down = wear_.begin_step(in.time, dt, config_.wear_plan(), events);
  model_input mi;
  mi.dt_s = dt;
  // Tripped or under maintenance: locked out, draws nothing, restarts through the ramp.
  mi.enabled = enabled_ && down == downtime::none;
  if (!mi.enabled) load_ = 0;
  mi.rated_power_kw = std::max(config_.rated_power_kw, 1e-3);
  mi.outdoor_temp_c = in.outdoor.outdoor_temp_c;
  mi.outdoor_humidity_percent = in.outdoor.outdoor_humidity_percent;
  mi.hall_temp_c = hall_temp_from_outdoor(in.outdoor.outdoor_temp_c);
  mi.minute_of_day = in.local.minute_of_day;
  if (!in.faults.empty()) mi.fx = effects_of(in, severe);
  add_wear_effects(mi.fx, static_cast<std::uint64_t>(in.time.time_since_epoch().count()));

  double target = mi.enabled ? std::clamp(in.schedule.load, 0.0, 1.0) : 0.0;
  const std::int64_t t_ms = in.time.time_since_epoch().count();
  // Only a machine that should be producing can be interrupted. A stop is abrupt (no
  // shut-down lag); the restart goes through the start-up ramp.
  interruption stop = interruption::none;
  if (target >= 0.1) {
    stop = interruption_at(interruptions_of(config_.params), noise_seed_ ^ 0x1A7E5ULL, t_ms);
    if (stop != interruption::none) {
      target = 0;
      load_ = 0;
    }
  }
  mi.first_step = !started_;
  if (!started_) {
    load_ = target;  // warm start: the plant was already running when simulation began
    started_ = true;
  }

  // No two days or hours alike: the production load of each machine wanders by about 6 %
  // from day to day (6-hour knots) and 4 % within the hour (5-minute knots), smooth and
  // stateless like the weather, so readings stay correlated from step to step.
  const double demand_factor =
      std::clamp(1.0 + 0.06 * smooth_noise(noise_seed_, t_ms, 6 * 3'600'000, 20) +
                     0.04 * smooth_noise(noise_seed_, t_ms, 5 * 60'000, 21),
                 0.7, 1.3);

  reading out;
  out.time = in.time;
  out.stop = stop;
  model_result result = std::visit(
      [&](auto& state) -> model_result {
        using state_t = std::decay_t<decltype(state)>;
        auto& params = config_.params;
        // Ramps: the load follows the schedule through a first-order lag.
        auto follow = [&](const auto& p) {
          const double tau = target > load_ ? p.ramp_up_s : p.ramp_down_s;
          load_ = lag(load_, target, dt, std::max(tau, 0.0));
          mi.load = std::clamp(load_ * demand_factor, 0.0, 1.0);
        };
        if constexpr (std::is_same_v<state_t, compressor_state>) {
          const auto& p = std::get<compressor_params>(params);
          follow(p);
          return machines::step(p, state, mi, rng_, out);
        } else if constexpr (std::is_same_v<state_t, hvac_state>) {
          const auto& p = std::get<hvac_params>(params);
          follow(p);
          return machines::step(p, state, mi, rng_, out);
        } else if constexpr (std::is_same_v<state_t, motor_state>) {
          const auto& p = std::get<motor_params>(params);
          follow(p);
          return machines::step(p, state, mi, rng_, out);
        } else if constexpr (std::is_same_v<state_t, pump_state>) {
          const auto& p = std::get<pump_params>(params);
          follow(p);
          return machines::step(p, state, mi, rng_, out);
        } else {
          const auto& p = std::get<injection_molding_params>(params);
          follow(p);
          return machines::step(p, state, mi, rng_, out);
        }
      },
      state_);

  // Sensor faults on power act before the electrical derivation, so that current and
  // interval energy read consistently with the faulty power (a bad CT, not a bad display).
  out.energy.power_kw = result.power_kw;
  if (!in.faults.empty()) apply_sensor_faults(in, out, true);
  // The conveyor's motor runs on a VFD (docs/machines.md); the others start direct on line.
  const electrical_rating rating{mi.rated_power_kw, config_.rated_voltage_v,
                                 config_.rated_frequency_hz, config_.rated_power_factor,
                                 config_.type == machine_type::motor};
  // Voltage and power factor follow the real load, not a faulty power reading (issue 10).
  out.energy = electrical_reading(rating, mi.enabled ? out.energy.power_kw : 0.0, dt, rng_,
                                  mi.enabled ? result.power_kw : 0.0, in.grid,
                                  mi.enabled ? result.resistive_kw : 0.0);
  energy_total_kwh_ += out.energy.energy_kwh;  // energy_kwh >= 0: the meter never runs back
  out.energy.energy_total_kwh = energy_total_kwh_;

  const bool tripped =
      wear_.end_step(in.time, dt, load_, result.running, mi.enabled, config_.wear_plan(), events);
  if (!enabled_) {
    out.production.mode = operating_mode::offline;
    out.is_running = false;
  } else if (down == downtime::maintenance) {
    out.production.mode = operating_mode::maintenance;
    out.is_running = false;
  } else if (down == downtime::failed || tripped) {
    // The interval that ends with the trip ran until then; it reads fault already.
    out.production.mode = operating_mode::fault;
    out.is_running = false;
  } else if (severe) {
    out.production.mode = operating_mode::fault;
    out.is_running = result.running;
  } else {
    out.production.mode = result.running ? operating_mode::running : operating_mode::idle;
    out.is_running = result.running;
  }

  // Condition monitoring reads the true machine; a sensor fault on one of its keys acts below.
  // The warm start is not a start: the plant was already running.
  if (!mi.first_step && out.is_running && !was_running_) ++start_count_;
  was_running_ = out.is_running;
  {
    condition_input c;
    c.type = config_.type;
    c.bearing_damage = std::sqrt(std::max(mi.fx.bearing_wear, 0.0));  // effects are damage^2
    c.vibration_mm_s = out.environmental.vibration_mm_s;
    // The rotating models multiply their vibration by 1 + 3 x bearing_wear; molding has no
    // bearing component, so its bearing_wear stays 0 (docs/machines.md).
    c.vibration_healthy_mm_s = out.environmental.vibration_mm_s / (1.0 + 3.0 * mi.fx.bearing_wear);
    c.machine_temp_c = out.environmental.machine_temp_c;
    c.hall_temp_c = mi.hall_temp_c;
    c.current_a = out.energy.current_a;  // the meter's phases: a faulty CT shows in them
    c.speed_fraction = config_.type == machine_type::motor
                           ? out.production.speed_percent / 100.0
                           : 1.0;
    c.running = result.running && mi.enabled;
    // Per machine and fixed: its supply and winding asymmetry, the phase that carries it.
    c.unbalance_offset = static_cast<double>(noise_seed_ >> 11) * 0x1.0p-53;
    c.phase_angle = static_cast<double>((noise_seed_ * 0x9E3779B97F4A7C15ULL) >> 11) * 0x1.0p-53;
    c.noise_seed = noise_seed_ ^ 0xC0D1710ULL;
    c.time_ms = t_ms;
    fill_condition(c, out.energy, out.environmental);
    out.environmental.run_hours = round_to(wear_.run_hours(), 2);
    out.environmental.start_count = static_cast<double>(start_count_);
  }

  if (in.faults.empty()) {
    memory_.fill(sensor_memory{});
  } else {
    apply_sensor_faults(in, out, false);
    // Forget sensor memories of faults that are over.
    for (auto& m : memory_) {
      if (m.fault_id == 0) continue;
      const bool still = std::any_of(in.faults.begin(), in.faults.end(),
                                     [&](const fault& f) { return f.id == m.fault_id; });
      if (!still) m = sensor_memory{};
    }
  }
  return out;
}

}  // namespace factorysim::machines
