// Defaults, the table of settable keys and the setter of every machine type's parameters.
#include "machines/params.hpp"

#include <algorithm>
#include <array>

namespace factorysim::machines {
namespace {

template <typename P>
struct field_def {
  param_field field;
  double P::*member;  ///< nullptr: an integer field handled by name
};

template <typename P, std::size_t N>
constexpr std::array<param_field, N> fields_of(const field_def<P> (&defs)[N]) {
  std::array<param_field, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = defs[i].field;
  return out;
}

constexpr field_def<compressor_params> compressor_defs[] = {
    {{"pressure_min_bar", "bar", 1, 15, "load (cut-in) pressure of the band; default 6.5"},
     &compressor_params::pressure_min_bar},
    {{"pressure_max_bar", "bar", 1.5, 16, "unload (cut-out) pressure of the band; default 7.5"},
     &compressor_params::pressure_max_bar},
    {{"loaded_power_fraction", "", 0.5, 1.2,
      "loaded power at the top of the band, fraction of rated; default 0.95"},
     &compressor_params::loaded_power_fraction},
    {{"unloaded_power_fraction", "", 0.05, 0.6,
      "power while running unloaded, fraction of rated; default 0.25"},
     &compressor_params::unloaded_power_fraction},
    {{"free_air_delivery_m3_min", "m3/min", 0.01, 2000,
      "air delivered when loaded; default 0.16 x rated kW"},
     &compressor_params::free_air_delivery_m3_min},
    {{"receiver_volume_m3", "m3", 0.05, 1000,
      "receiver and pipework volume; default 0.04 x rated kW (min 0.3)"},
     &compressor_params::receiver_volume_m3},
    {{"demand_full_fraction", "", 0, 1.5,
      "air demand at full production, fraction of delivery; default 0.7"},
     &compressor_params::demand_full_fraction},
    {{"demand_idle_fraction", "", 0, 1,
      "air demand (leaks, base users) without production; default 0.08"},
     &compressor_params::demand_idle_fraction},
    {{"stop_after_unloaded_s", "s", 0, 86400,
      "motor stops after running unloaded this long, 0 = never; default 300"},
     &compressor_params::stop_after_unloaded_s},
    {{"ramp_up_s", "s", 0, 86400, "time constant of the production start-up; default 60"},
     &compressor_params::ramp_up_s},
    {{"ramp_down_s", "s", 0, 86400, "time constant of the production shut-down; default 300"},
     &compressor_params::ramp_down_s},
};

constexpr field_def<hvac_params> hvac_defs[] = {
    {{"cooling_setpoint_c", "C", 10, 35, "occupied cooling set point; default 23.5"},
     &hvac_params::cooling_setpoint_c},
    {{"heating_setpoint_c", "C", 5, 30, "occupied heating set point; default 20"},
     &hvac_params::heating_setpoint_c},
    {{"setback_c", "K", 0, 15, "set points widen by this when unoccupied; default 4"},
     &hvac_params::setback_c},
    {{"cooling_capacity_kw", "kW", 1, 100000,
      "thermal cooling capacity at the rating point; default 3 x rated kW"},
     &hvac_params::cooling_capacity_kw},
    {{"nominal_cop", "", 1, 10, "cooling COP at rating_outdoor_c; default 3.2"},
     &hvac_params::nominal_cop},
    {{"rating_outdoor_c", "C", 20, 50, "outdoor temperature of nominal_cop; default 35"},
     &hvac_params::rating_outdoor_c},
    {{"heating_cop", "", 1, 8, "heat pump COP at 7 C outdoor; default 3.0"},
     &hvac_params::heating_cop},
    {{"building_ua_kw_per_k", "kW/K", 0.01, 10000,
      "envelope heat loss coefficient; default 0.03 x capacity"},
     &hvac_params::building_ua_kw_per_k},
    {{"internal_gains_kw", "kW", 0, 100000,
      "heat from machines and people at full occupancy; default 0.4 x capacity"},
     &hvac_params::internal_gains_kw},
    {{"building_time_constant_h", "h", 0.5, 200, "thermal mass of the hall over its UA; default 6"},
     &hvac_params::building_time_constant_h},
    {{"fan_power_fraction", "", 0, 0.6,
      "fan power at full air flow, fraction of rated; default 0.15"},
     &hvac_params::fan_power_fraction},
    {{"backup_heater_kw", "kW", 0, 100000,
      "resistive backup heater for what the heat pump cannot cover in the cold; default 0"},
     &hvac_params::backup_heater_kw},
    {{"chilled_water_supply_c", "C", 2, 18, "design chilled water supply temperature; default 7"},
     &hvac_params::chilled_water_supply_c},
    {{"chilled_water_delta_k", "K", 1, 15, "design return minus supply at full load; default 5"},
     &hvac_params::chilled_water_delta_k},
    {{"ramp_up_s", "s", 0, 86400, "time constant of occupancy start-up; default 900"},
     &hvac_params::ramp_up_s},
    {{"ramp_down_s", "s", 0, 86400, "time constant of occupancy shut-down; default 1800"},
     &hvac_params::ramp_down_s},
};

constexpr field_def<motor_params> motor_defs[] = {
    {{"min_speed_percent", "%", 0, 100, "VFD minimum speed while the line runs; default 20"},
     &motor_params::min_speed_percent},
    {{"max_speed_percent", "%", 1, 150, "VFD speed at full throughput; default 100"},
     &motor_params::max_speed_percent},
    {{"friction_load_fraction", "", 0, 1,
      "power of the empty belt at full speed, fraction of rated; default 0.25"},
     &motor_params::friction_load_fraction},
    {{"belt_load_fraction", "", 0, 1,
      "power added by a full belt at full speed, fraction of rated; default 0.6"},
     &motor_params::belt_load_fraction},
    {{"units_per_hour", "units/h", 0, 1e6, "throughput at full speed and full belt; default 1200"},
     &motor_params::units_per_hour},
    {{"bad_rate", "", 0, 1, "fraction of units damaged; default 0.005"}, &motor_params::bad_rate},
    {{"standby_power_fraction", "", 0, 0.2,
      "VFD and controls while stopped, fraction of rated; default 0.01"},
     &motor_params::standby_power_fraction},
    {{"ramp_up_s", "s", 0, 86400, "time constant of the line start-up; default 30"},
     &motor_params::ramp_up_s},
    {{"ramp_down_s", "s", 0, 86400, "time constant of the line shut-down; default 60"},
     &motor_params::ramp_down_s},
    {{"micro_stops_per_h", "1/h", 0, 6, "mean rate of micro-stops (jams, missing parts) while producing; default 1.5"},
     &motor_params::micro_stops_per_h},
    {{"micro_stop_mean_s", "s", 1, 120, "mean length of a micro-stop; default 40"},
     &motor_params::micro_stop_mean_s},
    {{"changeover_interval_h", "h", 0, 1000,
      "one changeover in each window of this length, 0 = none; default 0"},
     &motor_params::changeover_interval_h},
    {{"changeover_min", "min", 0, 480, "mean length of a changeover; default 0"},
     &motor_params::changeover_min},
};

constexpr field_def<pump_params> pump_defs[] = {
    {{"max_pressure_bar", "bar", 10, 700, "pressing pressure; default 210"},
     &pump_params::max_pressure_bar},
    {{"standby_pressure_bar", "bar", 0, 100, "pressure between cycles; default 20"},
     &pump_params::standby_pressure_bar},
    {{"max_flow_m3h", "m3/h", 0.01, 10000,
      "fast approach flow; default so that pressing draws ~95% of rated power"},
     &pump_params::max_flow_m3h},
    {{"efficiency", "", 0.3, 1, "pump x motor efficiency, hydraulic / electrical; default 0.85"},
     &pump_params::efficiency},
    {{"press_cycle_s", "s", 1, 3600, "duration of one press stroke; default 12"},
     &pump_params::press_cycle_s},
    {{"no_load_power_fraction", "", 0, 0.5,
      "losses of the running pump, fraction of rated; default 0.08"},
     &pump_params::no_load_power_fraction},
    {{"bad_rate", "", 0, 1, "fraction of pressed parts that are bad; default 0.01"},
     &pump_params::bad_rate},
    {{"ramp_up_s", "s", 0, 86400, "time constant of the production start-up; default 30"},
     &pump_params::ramp_up_s},
    {{"ramp_down_s", "s", 0, 86400, "time constant of the production shut-down; default 120"},
     &pump_params::ramp_down_s},
};

constexpr field_def<injection_molding_params> molding_defs[] = {
    {{"cycle_s", "s", 2, 3600, "one shot: clamp, inject, hold, cool, eject; default 24"},
     &injection_molding_params::cycle_s},
    {{"cavities", "", 1, 128, "parts per shot (whole number); default 4"}, nullptr},
    {{"barrel_setpoint_c", "C", 100, 400, "barrel temperature while producing; default 230"},
     &injection_molding_params::barrel_setpoint_c},
    {{"barrel_standby_c", "C", 20, 400, "barrel temperature while not producing; default 150"},
     &injection_molding_params::barrel_standby_c},
    {{"heater_power_fraction", "", 0.01, 1,
      "all heater bands at full duty, fraction of rated; default 0.25"},
     &injection_molding_params::heater_power_fraction},
    {{"drive_power_fraction", "", 0.1, 1.2,
      "hydraulic drive power during injection, fraction of rated; default 0.85"},
     &injection_molding_params::drive_power_fraction},
    {{"scrap_rate", "", 0, 1, "fraction of bad parts with a healthy barrel; default 0.02"},
     &injection_molding_params::scrap_rate},
    {{"ramp_up_s", "s", 0, 86400, "time constant of the production start-up; default 120"},
     &injection_molding_params::ramp_up_s},
    {{"ramp_down_s", "s", 0, 86400, "time constant of the production shut-down; default 600"},
     &injection_molding_params::ramp_down_s},
    {{"part_mass_g", "g", 0.01, 1e6,
      "mass of one part; default 0.85 g per rated kW, about 1 kWh/kg at full load"},
     &injection_molding_params::part_mass_g},
    {{"micro_stops_per_h", "1/h", 0, 6, "mean rate of micro-stops (stuck parts) while producing; default 1"},
     &injection_molding_params::micro_stops_per_h},
    {{"micro_stop_mean_s", "s", 1, 120, "mean length of a micro-stop; default 60"},
     &injection_molding_params::micro_stop_mean_s},
    {{"changeover_interval_h", "h", 0, 1000,
      "one changeover in each window of this length, 0 = none; default 8"},
     &injection_molding_params::changeover_interval_h},
    {{"changeover_min", "min", 0, 480, "mean length of a changeover; default 30"},
     &injection_molding_params::changeover_min},
};

constexpr auto compressor_fields = fields_of(compressor_defs);
constexpr auto hvac_fields = fields_of(hvac_defs);
constexpr auto motor_fields = fields_of(motor_defs);
constexpr auto pump_fields = fields_of(pump_defs);
constexpr auto molding_fields = fields_of(molding_defs);

template <typename P, std::size_t N>
bool set_in(P& p, const field_def<P> (&defs)[N], std::string_view key, double value) {
  for (const auto& d : defs) {
    if (d.field.key != key) continue;
    if (d.member != nullptr) {
      p.*(d.member) = value;
      return true;
    }
    if constexpr (std::is_same_v<P, injection_molding_params>) {
      if (key == "cavities") {
        p.cavities = static_cast<int>(std::clamp(value, 1.0, 128.0) + 0.5);
        return true;
      }
    }
    return false;
  }
  return false;
}

template <typename P, std::size_t N>
std::optional<double> get_in(const P& p, const field_def<P> (&defs)[N], std::string_view key) {
  for (const auto& d : defs) {
    if (d.field.key != key) continue;
    if (d.member != nullptr) return p.*(d.member);
    if constexpr (std::is_same_v<P, injection_molding_params>) {
      if (key == "cavities") return static_cast<double>(p.cavities);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

model_params default_params(machine_type t, double rated_power_kw) {
  const double kw = std::max(rated_power_kw, 0.1);
  switch (t) {
    case machine_type::compressor: {
      compressor_params p;
      p.free_air_delivery_m3_min = 0.16 * kw;  // ~6 kW per m3/min at 7 bar
      p.receiver_volume_m3 = std::max(0.3, 0.04 * kw);
      return p;
    }
    case machine_type::hvac: {
      hvac_params p;
      p.cooling_capacity_kw = 3.0 * kw;
      p.building_ua_kw_per_k = 0.03 * p.cooling_capacity_kw;
      p.internal_gains_kw = 0.4 * p.cooling_capacity_kw;
      return p;
    }
    case machine_type::motor:
      return motor_params{};
    case machine_type::pump: {
      pump_params p;
      // The press phase (full pressure, 35% of the approach flow) draws ~95% of rated power.
      p.max_flow_m3h = 0.95 * kw * p.efficiency * 36.0 / (0.35 * p.max_pressure_bar);
      return p;
    }
    case machine_type::injection_molding: {
      injection_molding_params p;
      // The defaults use 0.00085 kWh per part and rated kW at full load (heaters and drive
      // scale with the rating): parts of 0.85 g per kW make that 1 kWh/kg, mid-range for a
      // hydraulic machine (docs/machines.md).
      p.part_mass_g = 0.85 * kw;
      return p;
    }
  }
  return compressor_params{};
}

std::span<const param_field> param_fields(machine_type t) noexcept {
  switch (t) {
    case machine_type::compressor:
      return compressor_fields;
    case machine_type::hvac:
      return hvac_fields;
    case machine_type::motor:
      return motor_fields;
    case machine_type::pump:
      return pump_fields;
    case machine_type::injection_molding:
      return molding_fields;
  }
  return {};
}

bool set_param(model_params& p, std::string_view key, double value) {
  return std::visit(
      [&](auto& params) -> bool {
        using P = std::decay_t<decltype(params)>;
        if constexpr (std::is_same_v<P, compressor_params>) {
          return set_in(params, compressor_defs, key, value);
        } else if constexpr (std::is_same_v<P, hvac_params>) {
          return set_in(params, hvac_defs, key, value);
        } else if constexpr (std::is_same_v<P, motor_params>) {
          return set_in(params, motor_defs, key, value);
        } else if constexpr (std::is_same_v<P, pump_params>) {
          return set_in(params, pump_defs, key, value);
        } else {
          return set_in(params, molding_defs, key, value);
        }
      },
      p);
}

std::optional<double> get_param(const model_params& p, std::string_view key) {
  return std::visit(
      [&](const auto& params) -> std::optional<double> {
        using P = std::decay_t<decltype(params)>;
        if constexpr (std::is_same_v<P, compressor_params>) {
          return get_in(params, compressor_defs, key);
        } else if constexpr (std::is_same_v<P, hvac_params>) {
          return get_in(params, hvac_defs, key);
        } else if constexpr (std::is_same_v<P, motor_params>) {
          return get_in(params, motor_defs, key);
        } else if constexpr (std::is_same_v<P, pump_params>) {
          return get_in(params, pump_defs, key);
        } else {
          return get_in(params, molding_defs, key);
        }
      },
      p);
}

}  // namespace factorysim::machines
