#pragma once
/// Static description of one machine: ratings from the nameplate and the type-specific
/// parameters a scenario may set. Pure data.

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "machines/types.hpp"

namespace factorysim::machines {

struct compressor_params {
  // filled in by the compressor model; every field has a documented default and range
};
struct hvac_params {};
struct motor_params {};
struct pump_params {};
struct injection_molding_params {};

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

struct machine_config {
  std::string id;          ///< uuid
  std::string factory_id;  ///< uuid
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
};

}  // namespace factorysim::machines
