#pragma once
/// Typed rows decoded from the wire (docs/topics.md), one struct per MQTT stream. Plain data:
/// the decoder fills them, the table codecs turn them into binary COPY tuples.

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace factorysim::ingest {

/// A uuid as its 16 bytes in network order (the PostgreSQL binary form).
using uuid_bytes = std::array<std::uint8_t, 16>;

/// Microseconds since 1970-01-01T00:00:00Z (UTC).
using unix_us = std::int64_t;

/// Marks a float column that the message did not carry (written as NULL).
inline constexpr double missing = std::numeric_limits<double>::quiet_NaN();

/// The stream a topic suffix names: T/energy, T/production, ...
enum class stream : std::uint8_t { energy, production, environmental, status, events };
/// Number of streams (for per-stream arrays).
inline constexpr std::size_t stream_count = 5;

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
inline constexpr std::array<std::string_view, 14> environmental_keys{
    "outdoor_temp_c",         "indoor_temp_c",           "machine_temp_c",
    "outdoor_humidity_percent", "indoor_humidity_percent", "pressure_bar",
    "pressure_setpoint_bar",  "flow_rate_m3h",           "supply_air_temp_c",
    "return_air_temp_c",      "chilled_water_supply_temp_c", "chilled_water_return_temp_c",
    "cop",                    "vibration_mm_s"};

/// T/environmental -> environmental_data; any subset of the keys.
struct environmental_row {
  row_header h;
  std::array<double, environmental_keys.size()> values{
      missing, missing, missing, missing, missing, missing, missing,
      missing, missing, missing, missing, missing, missing, missing};
};

/// T/status (retained, and the broker's last will) -> machine_status upsert.
struct status_row {
  row_header h;
  std::optional<bool> is_running;
  std::string operating_mode;  ///< empty = absent
  double current_power_kw = missing;
  double energy_total_kwh = missing;
};

/// T/events -> anomalies (fault start/end ground truth).
struct event_row {
  row_header h;
  bool is_start = true;  ///< "event": "start" | "end"
  std::int64_t fault_id = 0;
  std::string anomaly_type;
  std::string severity;  ///< normal | warning | critical; empty = absent
  double severity_value = missing;
  std::string metric_name;
  std::vector<std::string> signals;
  std::optional<unix_us> started_at_us;
  std::optional<unix_us> ended_at_us;
  std::string source;
};

/// One decoded message of any stream.
using decoded_row = std::variant<energy_row, production_row, environmental_row, status_row,
                                 event_row>;

/// Header of any decoded row.
const row_header& header_of(const decoded_row& r) noexcept;

/// Canonical text of a uuid (lower case, 8-4-4-4-12).
std::string to_string(const uuid_bytes& id);
/// Parses the canonical 8-4-4-4-12 form (either case); nullopt otherwise.
std::optional<uuid_bytes> parse_uuid(std::string_view text) noexcept;

}  // namespace factorysim::ingest
