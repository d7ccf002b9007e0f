// Names of the enums as they appear in YAML, on the wire and in SQL enum types, and which
// signals each fault moves (the ground truth published on T/events).
#include "machines/types.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace factorysim::machines {
namespace {

constexpr std::array<std::string_view, 5> machine_type_names{"compressor", "hvac", "motor", "pump",
                                                             "injection_molding"};
constexpr std::array<std::string_view, 5> operating_mode_names{"idle", "running", "maintenance",
                                                               "fault", "offline"};
constexpr std::array<std::string_view, 13> fault_type_names{
    "spike",      "dip",          "drift",     "stuck_sensor", "dropout",        "noise_burst",
    "air_leak",   "bearing_wear", "belt_slip", "cavitation",   "heater_failure", "refrigerant_leak",
    "fouled_coil"};

template <typename E, std::size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names,
                            std::string_view s) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <std::size_t N>
std::string_view name_at(const std::array<std::string_view, N>& names, std::size_t i) noexcept {
  return i < N ? names[i] : std::string_view{"unknown"};
}

// Every key a machine type publishes, in stream order (energy, production, environmental).
constexpr std::string_view energy_keys[] = {"power_kw",     "energy_kwh",   "voltage_v",
                                            "current_a",    "power_factor", "frequency_hz",
                                            "current_l1_a", "current_l2_a", "current_l3_a"};
constexpr std::string_view production_keys[] = {"production_count",     "production_count_good",
                                                "production_count_bad", "throughput_units_per_hour",
                                                "operating_mode",       "speed_percent"};
// Condition monitoring (machines/condition.hpp): every type carries these after its own.
constexpr std::array<std::string_view, 10> condition_keys{
    "bearing_temp_c",         "vibration_1x_mm_s",      "vibration_2x_mm_s",
    "vibration_accel_peak_g", "vibration_crest_factor", "vibration_kurtosis",
    "vibration_bearing_defect_ge", "current_unbalance_percent", "run_hours",
    "start_count"};

/// A type's own environmental keys followed by the condition-monitoring ones.
template <std::size_t N>
constexpr std::array<std::string_view, N + condition_keys.size()> with_condition(
    const std::array<std::string_view, N>& own) {
  std::array<std::string_view, N + condition_keys.size()> out{};
  std::size_t i = 0;
  for (auto k : own) out[i++] = k;
  for (auto k : condition_keys) out[i++] = k;
  return out;
}

constexpr auto compressor_env = with_condition<6>(
    {"outdoor_temp_c", "machine_temp_c", "pressure_bar", "pressure_setpoint_bar",
     "flow_rate_m3h", "vibration_mm_s"});
constexpr auto hvac_env = with_condition<11>(
    {"outdoor_temp_c", "indoor_temp_c", "machine_temp_c", "outdoor_humidity_percent",
     "indoor_humidity_percent", "supply_air_temp_c", "return_air_temp_c",
     "chilled_water_supply_temp_c", "chilled_water_return_temp_c", "cop", "vibration_mm_s"});
constexpr auto motor_env =
    with_condition<3>({"indoor_temp_c", "machine_temp_c", "vibration_mm_s"});
constexpr auto pump_env = with_condition<5>(
    {"machine_temp_c", "pressure_bar", "pressure_setpoint_bar", "flow_rate_m3h",
     "vibration_mm_s"});
constexpr auto molding_env = with_condition<4>(
    {"indoor_temp_c", "machine_temp_c", "pressure_bar", "vibration_mm_s"});

std::span<const std::string_view> environmental_keys(machine_type m) noexcept {
  switch (m) {
    case machine_type::compressor:
      return compressor_env;
    case machine_type::hvac:
      return hvac_env;
    case machine_type::motor:
      return motor_env;
    case machine_type::pump:
      return pump_env;
    case machine_type::injection_molding:
      return molding_env;
  }
  return {};
}

}  // namespace

std::string_view to_string(machine_type t) noexcept {
  return name_at(machine_type_names, static_cast<std::size_t>(t));
}
std::string_view to_string(operating_mode m) noexcept {
  return name_at(operating_mode_names, static_cast<std::size_t>(m));
}
std::string_view to_string(interruption i) noexcept {
  switch (i) {
    case interruption::micro_stop:
      return "micro_stop";
    case interruption::changeover:
      return "changeover";
    case interruption::none:
      break;
  }
  return "";
}
std::string_view to_string(fault_type t) noexcept {
  return name_at(fault_type_names, static_cast<std::size_t>(t));
}
std::optional<machine_type> parse_machine_type(std::string_view s) noexcept {
  return parse_name<machine_type>(machine_type_names, s);
}
std::optional<operating_mode> parse_operating_mode(std::string_view s) noexcept {
  return parse_name<operating_mode>(operating_mode_names, s);
}
std::optional<fault_type> parse_fault_type(std::string_view s) noexcept {
  return parse_name<fault_type>(fault_type_names, s);
}

bool fault_applies(fault_type f, machine_type m) noexcept {
  switch (f) {
    case fault_type::spike:
    case fault_type::dip:
    case fault_type::drift:
    case fault_type::stuck_sensor:
    case fault_type::dropout:
    case fault_type::noise_burst:
      return true;
    case fault_type::air_leak:
      return m == machine_type::compressor;
    case fault_type::bearing_wear:
      return m != machine_type::injection_molding;
    case fault_type::belt_slip:
      return m == machine_type::motor;
    case fault_type::cavitation:
      return m == machine_type::pump;
    case fault_type::heater_failure:
      return m == machine_type::injection_molding;
    case fault_type::refrigerant_leak:
    case fault_type::fouled_coil:
      return m == machine_type::hvac;
  }
  return false;
}

std::vector<std::string> affected_signals(fault_type f, machine_type m, std::string_view signal,
                                          double severity) {
  std::vector<std::string> out = affected_signals(f, m, signal);
  if (!is_generic(f) && severity >= 0.7) out.emplace_back("operating_mode");
  return out;
}

namespace {

std::vector<std::string> process_signals(fault_type f, machine_type m, std::string_view signal) {
  // Found by comparing faulted runs with their unfaulted twins of the same seed at full
  // severity, summer and winter (tests/machines/labels_test.cpp keeps these lists exact).
  using list = std::initializer_list<std::string_view>;
  auto make = [](list keys) {
    std::vector<std::string> out;
    out.reserve(keys.size());
    for (auto k : keys) out.emplace_back(k);
    return out;
  };
  // Everything that follows the machine's real power: the meter, the current, and through
  // the load the power factor and the feeder voltage sag.
  auto with_power = [&](list keys) {
    std::vector<std::string> out = make({"power_kw", "energy_kwh", "energy_total_kwh",
                                         "current_a", "power_factor", "voltage_v"});
    for (auto k : keys) out.emplace_back(k);
    return out;
  };
  auto stream_keys = [&](std::span<const std::string_view> keys, bool energy) {
    std::vector<std::string> out;
    for (auto k : keys) out.emplace_back(k);
    if (energy) out.emplace_back("energy_total_kwh");
    return out;
  };
  const bool on_power = signal.empty() || signal == "power_kw" || signal == "energy_kwh";
  switch (f) {
    case fault_type::dropout: {
      // The whole stream (or every stream) of the key goes silent.
      if (signal.empty()) {
        std::vector<std::string> out = stream_keys(energy_keys, true);
        for (auto k : production_keys) out.emplace_back(k);
        for (auto k : environmental_keys(m)) out.emplace_back(k);
        return out;
      }
      for (auto k : energy_keys)
        if (k == signal) return stream_keys(energy_keys, true);
      for (auto k : production_keys)
        if (k == signal) return stream_keys(production_keys, false);
      return stream_keys(environmental_keys(m), false);
    }
    case fault_type::spike:
    case fault_type::dip:
    case fault_type::drift:
    case fault_type::stuck_sensor:
    case fault_type::noise_burst:
      // A faulty current transformer: the power reading, the interval energy, the meter and
      // the current derived from it; voltage and power factor are measured apart.
      if (on_power)
        return make({"power_kw", "energy_kwh", "energy_total_kwh", "current_a", "current_l1_a",
                     "current_l2_a", "current_l3_a", "current_unbalance_percent"});
      return {std::string(signal)};
    case fault_type::air_leak:
      return with_power({"pressure_bar", "flow_rate_m3h", "machine_temp_c", "vibration_mm_s",
                         "production_count", "production_count_good",
                         "throughput_units_per_hour"});
    case fault_type::bearing_wear:
      // The HVAC's machine temperature is its condensing temperature, which friction does
      // not move.
      if (m == machine_type::hvac) return with_power({"vibration_mm_s"});
      return with_power({"vibration_mm_s", "machine_temp_c"});
    case fault_type::belt_slip:
      return make({"throughput_units_per_hour", "production_count", "production_count_good",
                   "production_count_bad", "vibration_mm_s"});
    case fault_type::cavitation:
      return with_power({"flow_rate_m3h", "pressure_bar", "vibration_mm_s", "machine_temp_c"});
    case fault_type::heater_failure:
      return with_power({"machine_temp_c", "pressure_bar", "vibration_mm_s", "production_count",
                         "production_count_good", "production_count_bad",
                         "throughput_units_per_hour", "speed_percent"});
    case fault_type::refrigerant_leak:
      return with_power({"cop", "supply_air_temp_c", "return_air_temp_c",
                         "chilled_water_supply_temp_c", "chilled_water_return_temp_c",
                         "indoor_temp_c", "indoor_humidity_percent", "machine_temp_c",
                         "vibration_mm_s"});
    case fault_type::fouled_coil:
      // Fouled hard, the unit reaches its rating and can no longer hold the hall.
      return with_power({"cop", "supply_air_temp_c", "return_air_temp_c",
                         "chilled_water_supply_temp_c", "chilled_water_return_temp_c",
                         "indoor_temp_c", "indoor_humidity_percent", "machine_temp_c",
                         "vibration_mm_s"});
  }
  return {};
}

}  // namespace

std::vector<std::string> affected_signals(fault_type f, machine_type m, std::string_view signal) {
  std::vector<std::string> out = process_signals(f, m, signal);
  if (is_generic(f)) return out;  // the transmitters have sensors of their own
  // What the condition-monitoring sensors derive from the process signals a fault moves
  // (machines/condition.hpp); labels_test.cpp keeps this exact too.
  auto has = [&](std::string_view k) {
    return std::any_of(out.begin(), out.end(), [&](const std::string& s) { return s == k; });
  };
  std::vector<std::string_view> more;
  if (has("power_kw"))
    more.insert(more.end(),
                {"current_l1_a", "current_l2_a", "current_l3_a", "current_unbalance_percent"});
  if (has("vibration_mm_s"))
    more.insert(more.end(), {"vibration_1x_mm_s", "vibration_2x_mm_s", "vibration_accel_peak_g"});
  if (has("machine_temp_c") || f == fault_type::bearing_wear) more.push_back("bearing_temp_c");
  if (f == fault_type::bearing_wear)
    more.insert(more.end(),
                {"vibration_bearing_defect_ge", "vibration_crest_factor", "vibration_kurtosis"});
  // A cold barrel stops the shots: the machine stops running, its hours and starts show it.
  if (f == fault_type::heater_failure)
    more.insert(more.end(),
                {"run_hours", "start_count", "vibration_bearing_defect_ge",
                 "vibration_crest_factor"});
  for (auto k : more)
    if (!has(k)) out.emplace_back(k);
  return out;
}

}  // namespace factorysim::machines
