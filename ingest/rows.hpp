#pragma once
/// Typed rows decoded from the wire (docs/topics.md), one struct per MQTT stream. Plain data:
/// the decoder fills them, the table codecs turn them into binary COPY tuples.

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace factorysim::ingest {

/// A uuid as its 16 bytes in network order (the PostgreSQL binary form).
using uuid_bytes = std::array<std::uint8_t, 16>;

/// Microseconds since 1970-01-01T00:00:00Z (UTC).
using unix_us = std::int64_t;

/// Marks a float column that the message did not carry (written as NULL).
inline constexpr double missing = std::numeric_limits<double>::quiet_NaN();

/// The stream a topic suffix names: T/energy, T/production, ... (T/truth: the simulator's
/// ground-truth health, docs/topics.md).
enum class stream : std::uint8_t { energy, production, environmental, status, events, truth };
/// Number of streams (for per-stream arrays).
inline constexpr std::size_t stream_count = 6;

/// "energy", "production", ...
std::string_view to_string(stream s) noexcept;
/// Stream named by the last topic level, or nullopt.
std::optional<stream> stream_of_topic(std::string_view topic) noexcept;

/// Fields every message carries.
struct row_header {
  unix_us time_us = 0;
  uuid_bytes machine_id{};
  std::optional<std::int64_t> seq;  ///< our addition; absent from older publishers
};

/// T/energy -> energy_readings.
struct energy_row {
  row_header h;
  double power_kw = missing;
  double energy_kwh = missing;
  double energy_total_kwh = missing;
  double voltage_v = missing;
  double current_a = missing;
  double power_factor = missing;
  double frequency_hz = missing;
  double current_l1_a = missing;  ///< per-phase currents (EnMS columns of the same names)
  double current_l2_a = missing;
  double current_l3_a = missing;
};

/// T/production -> production_data.
struct production_row {
  row_header h;
  std::optional<std::int64_t> production_count;
  std::optional<std::int64_t> production_count_good;
  std::optional<std::int64_t> production_count_bad;
  double throughput_units_per_hour = missing;
  std::string operating_mode;  ///< empty = absent; else a valid operating_mode
  double speed_percent = missing;
  std::string shift;  ///< empty = absent
};

/// Index of each environmental key in environmental_row::values (wire key order).
inline constexpr std::array<std::string_view, 24> environmental_keys{
    "outdoor_temp_c",         "indoor_temp_c",           "machine_temp_c",
    "outdoor_humidity_percent", "indoor_humidity_percent", "pressure_bar",
    "pressure_setpoint_bar",  "flow_rate_m3h",           "supply_air_temp_c",
    "return_air_temp_c",      "chilled_water_supply_temp_c", "chilled_water_return_temp_c",
    "cop",                    "vibration_mm_s",
    // condition monitoring (docs/machines.md)
    "bearing_temp_c",         "vibration_1x_mm_s",       "vibration_2x_mm_s",
    "vibration_accel_peak_g", "vibration_crest_factor",  "vibration_kurtosis",
    "vibration_bearing_defect_ge", "current_unbalance_percent", "run_hours",
    "start_count"};  // the per-phase currents arrive on T/energy (energy_row)

/// Every key absent: the starting point of a decoded environmental row.
constexpr std::array<double, environmental_keys.size()> all_missing() noexcept {
  std::array<double, environmental_keys.size()> a{};
  for (auto& v : a) v = missing;
  return a;
}

/// T/environmental -> environmental_data; any subset of the keys.
struct environmental_row {
  row_header h;
  std::array<double, environmental_keys.size()> values = all_missing();
};

/// T/status (retained, and the broker's last will) -> machine_status upsert.
struct status_row {
  row_header h;
  std::optional<bool> is_running;
  std::string operating_mode;  ///< empty = absent
  double current_power_kw = missing;
  double energy_total_kwh = missing;
};

/// The `event` value of a T/events message.
enum class event_kind : std::uint8_t {
  start,              ///< a fault began
  end,                ///< a fault ended
  failure,            ///< the machine tripped (a component reached its failure threshold)
  maintenance_start,  ///< a work order began
  maintenance_end,    ///< a work order ended
};
/// "start", "end", "failure", ...
std::string_view to_string(event_kind k) noexcept;

/// T/events -> anomalies (fault start/end and failures, the ground truth) and
/// maintenance_events (maintenance start/end).
struct event_row {
  row_header h;
  event_kind kind = event_kind::start;
  bool is_start = true;  ///< kind is start (or another kind that opens a record)
  std::int64_t fault_id = 0;
  std::string anomaly_type;
  std::string severity;  ///< normal | warning | critical; empty = absent
  double severity_value = missing;
  std::string metric_name;
  std::vector<std::string> signals;
  std::optional<unix_us> started_at_us;
  std::optional<unix_us> ended_at_us;
  std::string source;
  // failure / maintenance_* keys (empty / missing when absent)
  std::string component;         ///< failed or maintained component, or "all"
  std::string maintenance_type;  ///< preventive | corrective
  std::string work_order;        ///< stable work-order id
  double health_before = missing;
  double health_after = missing;
  double duration_h = missing;
};

/// T/truth -> health_truth: the simulator's hidden health state, once per energy interval.
struct truth_row {
  row_header h;
  double health_index = missing;   ///< 0..1, the minimum over components
  std::string limiting_component;  ///< empty = absent
  double rul_operating_h = missing;
  double rul_calendar_h = missing;
  std::optional<bool> failed;
  std::vector<std::string> active_faults;
  std::vector<std::string> faulted_signals;
  std::string interruption;  ///< "micro_stop", "changeover"; empty = none (absent)
  /// `health_<component>` keys in payload order: (component, health 0..1).
  std::vector<std::pair<std::string, double>> component_health;
};

/// One measured signal of a reading -> mantis.sensor_data_raw (docs/mantis.md).
struct narrow_row {
  unix_us time_us = 0;
  uuid_bytes sensor_id{};
  double value = missing;
};

/// Every measured payload key, in one order: energy, production, environmental (the index
/// of a key names it in per-machine sensor tables).
inline constexpr std::size_t energy_measured_keys = 10;     ///< first index of production
inline constexpr std::size_t production_measured_keys = 5;  ///< then the environmental keys
inline constexpr auto measured_keys = [] {
  constexpr std::string_view head[energy_measured_keys + production_measured_keys] = {
      "power_kw",         "energy_kwh",           "energy_total_kwh",     "voltage_v",
      "current_a",        "power_factor",         "frequency_hz",         "current_l1_a",
      "current_l2_a",     "current_l3_a",         "production_count",
      "production_count_good", "production_count_bad", "throughput_units_per_hour",
      "speed_percent"};
  std::array<std::string_view, std::size(head) + environmental_keys.size()> out{};
  std::size_t i = 0;
  for (auto k : head) out[i++] = k;
  for (auto k : environmental_keys) out[i++] = k;
  return out;
}();

/// One decoded message of any stream (alternative index == stream index).
using decoded_row =
    std::variant<energy_row, production_row, environmental_row, status_row, event_row, truth_row>;

/// Header of any decoded row.
const row_header& header_of(const decoded_row& r) noexcept;

/// Canonical text of a uuid (lower case, 8-4-4-4-12).
std::string to_string(const uuid_bytes& id);
/// Parses the canonical 8-4-4-4-12 form (either case); nullopt otherwise.
std::optional<uuid_bytes> parse_uuid(std::string_view text) noexcept;

}  // namespace factorysim::ingest
