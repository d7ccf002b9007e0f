#pragma once
/// Static description of one machine: ratings from the nameplate and the type-specific
/// parameters a scenario may set. Pure data.

#include <chrono>
#include <ostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "machines/types.hpp"
#include "machines/wear.hpp"

namespace factorysim::machines {

/// Screw compressor with load/unload control on a receiver (see docs/machines.md).
struct compressor_params {
  double pressure_min_bar = 6.5;          ///< load (cut-in) pressure
  double pressure_max_bar = 7.5;          ///< unload (cut-out) pressure
  double loaded_power_fraction = 1.1;     ///< loaded package power at the top of the band / rated
  double unloaded_power_fraction = 0.25;  ///< unloaded (running, not compressing) / rated
  double free_air_delivery_m3_min = 8.8;  ///< delivered free air when loaded
  double receiver_volume_m3 = 2.2;        ///< receiver plus pipework
  double demand_full_fraction = 0.7;      ///< air demand at full production / delivery
  double demand_idle_fraction = 0.08;     ///< base demand and leaks with no production
  double stop_after_unloaded_s = 300;     ///< motor stops after this long unloaded; 0 = never
  double ramp_up_s = 60;                  ///< production start-up time constant
  double ramp_down_s = 300;               ///< production shut-down time constant
};

/// Chiller or heat pump conditioning a hall against outdoor climate and occupancy.
struct hvac_params {
  double cooling_setpoint_c = 23.5;     ///< occupied
  double heating_setpoint_c = 20.0;     ///< occupied
  double setback_c = 4.0;               ///< both set points move apart by this unoccupied
  double cooling_capacity_kw = 450;     ///< thermal, at the rating point
  double nominal_cop = 3.2;             ///< cooling COP at rating_outdoor_c
  double rating_outdoor_c = 35;         ///< outdoor temperature of nominal_cop
  double heating_cop = 3.0;             ///< heat pump COP at 7 C outdoor
  double building_ua_kw_per_k = 13.5;   ///< envelope heat loss coefficient
  double internal_gains_kw = 180;       ///< machines and people at full occupancy
  double building_time_constant_h = 6;  ///< thermal mass / UA
  double fan_power_fraction = 0.15;     ///< fans at full flow / rated
  double backup_heater_kw = 0;          ///< resistive backup heater (0 = none), beside rated
  double chilled_water_supply_c = 7;    ///< design chilled water supply
  double chilled_water_delta_k = 5;     ///< design return - supply at full load
  double ramp_up_s = 900;               ///< occupancy start-up time constant
  double ramp_down_s = 1800;            ///< occupancy shut-down time constant
};

/// Conveyor belt driven by an induction motor on a VFD.
struct motor_params {
  double min_speed_percent = 20;         ///< VFD minimum while the line runs
  double max_speed_percent = 100;        ///< at full throughput
  double friction_load_fraction = 0.25;  ///< empty belt at full speed / rated
  double belt_load_fraction = 0.6;       ///< added by a full belt at full speed / rated
  double units_per_hour = 1200;          ///< at full speed with a full belt
  double bad_rate = 0.005;               ///< damaged units
  double standby_power_fraction = 0.01;  ///< VFD and controls while stopped
  double ramp_up_s = 30;
  double ramp_down_s = 60;
  // Interruptions (machines/interruptions.hpp): jams and missing parts; no changeovers.
  double micro_stops_per_h = 1.5;
  double micro_stop_mean_s = 40;
  double changeover_interval_h = 0;
  double changeover_min = 0;
};

/// Hydraulic power pack of a press: approach, press, hold, return, then wait.
struct pump_params {
  double max_pressure_bar = 210;         ///< pressing pressure
  double standby_pressure_bar = 20;      ///< between cycles
  double max_flow_m3h = 18;              ///< fast approach flow
  double efficiency = 0.85;              ///< pump x motor, hydraulic / electrical
  double press_cycle_s = 12;             ///< one press stroke
  double no_load_power_fraction = 0.08;  ///< losses of the running pump / rated
  double bad_rate = 0.01;
  double ramp_up_s = 30;
  double ramp_down_s = 120;
};

/// Hydraulic injection molding machine with a three-zone barrel.
struct injection_molding_params {
  double cycle_s = 24;  ///< clamp + inject + hold + cool + eject
  int cavities = 4;     ///< parts per shot
  double barrel_setpoint_c = 230;
  double barrel_standby_c = 150;        ///< heaters hold this while not producing
  double heater_power_fraction = 0.25;  ///< all heater bands at full duty / rated
  double drive_power_fraction = 0.85;   ///< hydraulic drive during injection / rated
  double scrap_rate = 0.02;             ///< bad parts with a healthy barrel
  double ramp_up_s = 120;
  double ramp_down_s = 600;
  /// Mass of one part (shot mass / cavities): production mass, so that specific energy
  /// (kWh/kg, sql/071) can be computed. default_params: ~1 kWh/kg at full load.
  double part_mass_g = 50;
  // Interruptions (machines/interruptions.hpp): stuck parts, and a mold change per shift.
  double micro_stops_per_h = 1;
  double micro_stop_mean_s = 60;
  double changeover_interval_h = 8;
  double changeover_min = 30;
};

using model_params = std::variant<compressor_params, hvac_params, motor_params, pump_params,
                                  injection_molding_params>;

/// Default parameters of a machine type, scaled to its rated power where that matters.
model_params default_params(machine_type t, double rated_power_kw);

/// One settable key of a type's parameters, for the scenario loader and the docs.
struct param_field {
  std::string_view key;   ///< YAML key under `parameters:`
  std::string_view unit;  ///< e.g. "bar", "s", "" for ratios
  double min;             ///< inclusive
  double max;             ///< inclusive
  std::string_view doc;   ///< one line for docs/scenarios.md
};

/// Every key a scenario may set under `parameters:` for machine type t.
std::span<const param_field> param_fields(machine_type t) noexcept;

/// Sets one key; returns false if the key is unknown for p's type. Range checks are the
/// caller's (it has the file position for the message), using param_fields().
bool set_param(model_params& p, std::string_view key, double value);
/// Reads one key; nullopt if the key is unknown for p's type.
std::optional<double> get_param(const model_params& p, std::string_view key);

/// Immutable text shared by copies: the replicas of a scenario entry all name one factory,
/// and a private copy of its uuid per machine cost 80 bytes of the 2 KiB budget each.
class shared_text {
 public:
  shared_text() = default;
  shared_text(std::string s) : text_(std::make_shared<const std::string>(std::move(s))) {}
  shared_text(const char* s) : shared_text(std::string(s)) {}
  const std::string& str() const noexcept { return text_ ? *text_ : empty_text(); }
  operator const std::string&() const noexcept { return str(); }
  bool empty() const noexcept { return str().empty(); }
  friend bool operator==(const shared_text& a, std::string_view b) noexcept {
    return a.str() == b;
  }
  friend bool operator==(const shared_text& a, const std::string& b) noexcept {
    return a.str() == b;
  }
  friend bool operator==(const shared_text& a, const char* b) noexcept { return a.str() == b; }
  friend bool operator==(const shared_text& a, const shared_text& b) noexcept {
    return a.str() == b.str();
  }
  friend std::ostream& operator<<(std::ostream& os, const shared_text& t) { return os << t.str(); }

 private:
  static const std::string& empty_text() noexcept {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> text_;
};

struct machine_config {
  std::string id;          ///< uuid
  shared_text factory_id;  ///< uuid
  std::string name;
  machine_type type = machine_type::compressor;
  double rated_power_kw = 0;
  double rated_voltage_v = 400;
  double rated_current_a = 0;
  double rated_frequency_hz = 50;
  double rated_power_factor = 0.86;  ///< at full load; falls at light load
  std::chrono::milliseconds interval{1000};
  std::string topic;  ///< base topic T; streams are T/energy, T/production, ...
  bool is_critical = false;
  model_params params;
  /// Degradation and maintenance plan; null = default_wear_config. Shared, because replicas
  /// of one entry share it and it would otherwise be most of a machine's memory.
  std::shared_ptr<const wear_config> wear;
  const wear_config& wear_plan() const noexcept { return wear ? *wear : default_wear_config; }
};

}  // namespace factorysim::machines
