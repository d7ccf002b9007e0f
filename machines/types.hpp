#pragma once
/// Value types shared by every machine model: time, readings, faults, step inputs.
/// Nothing here reads a clock, touches I/O or logs; see machines/README.md.

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace factorysim::machines {

/// Simulated UTC time with millisecond resolution; only the engine advances it.
using sim_time = std::chrono::sys_time<std::chrono::milliseconds>;
using std::chrono::milliseconds;

/// Marks a reading field that this machine type does not produce (skipped on the wire).
inline constexpr double absent = std::numeric_limits<double>::quiet_NaN();
inline constexpr float absent_f = std::numeric_limits<float>::quiet_NaN();

enum class machine_type : std::uint8_t { compressor, hvac, motor, pump, injection_molding };
enum class operating_mode : std::uint8_t { idle, running, maintenance, fault, offline };
/// Why a machine that should produce does not, besides faults and maintenance: a short
/// unplanned micro-stop or a planned changeover (machines/interruptions.hpp, T/truth).
enum class interruption : std::uint8_t { none, micro_stop, changeover };

std::string_view to_string(machine_type t) noexcept;
std::string_view to_string(operating_mode m) noexcept;
std::string_view to_string(interruption i) noexcept;  ///< "", "micro_stop", "changeover"
std::optional<machine_type> parse_machine_type(std::string_view s) noexcept;
std::optional<operating_mode> parse_operating_mode(std::string_view s) noexcept;

/// Wall-free description of a simulated instant on the factory's local clock.
/// The engine derives it from sim_time and the factory's time zone.
struct local_time {
  int year = 2024;
  int month = 1;             ///< 1..12
  int day = 1;               ///< 1..31
  int weekday = 1;           ///< 0 = Sunday .. 6 = Saturday (as energy_tariffs.applicable_days)
  int day_of_year = 0;       ///< 0..365
  double minute_of_day = 0;  ///< 0 <= m < 1440, fractional
};

/// A shift on the local clock; end_minute < start_minute wraps past midnight.
struct shift {
  std::string name;
  int start_minute = 0;
  int end_minute = 0;
  double load = 1.0;  ///< production demand 0..1 during this shift
};

/// A break inside shifts during which demand drops to break_load.
struct break_period {
  int start_minute = 0;
  int duration_min = 0;
  double load = 0.2;
};

struct civil_date {
  int year = 0;
  int month = 0;
  int day = 0;
  friend bool operator==(const civil_date&, const civil_date&) = default;
};

/// Three-shift calendar with weekends and holidays; data from the scenario.
struct calendar {
  std::vector<shift> shifts;  ///< empty = one continuous shift at load 1
  std::vector<break_period> breaks;
  std::array<bool, 7> working_days{false, true, true, true, true, true, false};  ///< [0] = Sunday
  double off_shift_load = 0.05;  ///< working day, outside every shift
  double weekend_load = 0.05;    ///< non-working day
  double holiday_load = 0.02;
  std::vector<civil_date> holidays;  ///< local dates
};

/// What the calendar says about one instant.
struct schedule_point {
  double load = 0;       ///< production demand 0..1 the machine should follow
  int shift_index = -1;  ///< into calendar::shifts, -1 outside shifts
  bool working_day = false;
  bool holiday = false;
};

/// Seasonal and daily outdoor climate of a site; data from the scenario.
struct climate {
  double annual_mean_c = 15.0;
  double annual_amplitude_c = 9.0;  ///< half the summer-winter swing of daily means
  int coldest_day_of_year = 15;     ///< ~mid January in the northern hemisphere
  double daily_amplitude_c = 5.0;   ///< half the day-night swing
  double warmest_minute_of_day = 15 * 60;
  double weather_noise_c = 2.0;  ///< slow day-to-day weather deviation (std dev)
  double humidity_mean_percent = 60.0;
  double humidity_amplitude_percent = 15.0;  ///< higher at night, lower in the afternoon
};

struct weather {
  double outdoor_temp_c = 15;
  double outdoor_humidity_percent = 60;
};

/// The supply a site's machines share at one instant (machines/grid.hpp).
struct grid_supply {
  double voltage_pu = 1;           ///< of each machine's rated voltage, before its own feeder
  double frequency_offset_hz = 0;  ///< added to each machine's rated frequency
};

// ---------------------------------------------------------------------------------------
// Faults

enum class fault_type : std::uint8_t {
  // generic, any machine, act on one reported signal (the sensor, not the physics)
  spike,
  dip,
  drift,
  stuck_sensor,
  dropout,
  noise_burst,
  // machine-specific, act on the physics
  air_leak,          ///< compressor
  bearing_wear,      ///< compressor, hvac, motor, pump (rotating machines)
  belt_slip,         ///< motor
  cavitation,        ///< pump
  heater_failure,    ///< injection_molding
  refrigerant_leak,  ///< hvac
  fouled_coil,       ///< hvac
};

std::string_view to_string(fault_type t) noexcept;
std::optional<fault_type> parse_fault_type(std::string_view s) noexcept;

/// Every fault type, in enum order (for listings and error messages).
inline constexpr std::array<fault_type, 13> all_fault_types{
    fault_type::spike,          fault_type::dip,
    fault_type::drift,          fault_type::stuck_sensor,
    fault_type::dropout,        fault_type::noise_burst,
    fault_type::air_leak,       fault_type::bearing_wear,
    fault_type::belt_slip,      fault_type::cavitation,
    fault_type::heater_failure, fault_type::refrigerant_leak,
    fault_type::fouled_coil};

/// Generic faults act on one reported signal (the sensor); the others on the physics.
constexpr bool is_generic(fault_type t) noexcept {
  return t <= fault_type::noise_burst;
}

/// Every payload key a generic fault may target (machine.cpp acts on these; a dropout drops
/// the whole stream of the key it names, or every stream without a signal).
inline constexpr std::array<std::string_view, 39> fault_signal_names{"power_kw",
                                                                     "energy_kwh",
                                                                     "voltage_v",
                                                                     "current_a",
                                                                     "power_factor",
                                                                     "frequency_hz",
                                                                     "production_count",
                                                                     "production_count_good",
                                                                     "production_count_bad",
                                                                     "throughput_units_per_hour",
                                                                     "speed_percent",
                                                                     "operating_mode",
                                                                     "outdoor_temp_c",
                                                                     "indoor_temp_c",
                                                                     "machine_temp_c",
                                                                     "outdoor_humidity_percent",
                                                                     "indoor_humidity_percent",
                                                                     "pressure_bar",
                                                                     "pressure_setpoint_bar",
                                                                     "flow_rate_m3h",
                                                                     "supply_air_temp_c",
                                                                     "return_air_temp_c",
                                                                     "chilled_water_supply_temp_c",
                                                                     "chilled_water_return_temp_c",
                                                                     "cop",
                                                                     "vibration_mm_s",
                                                                     // condition monitoring
                                                                     "current_l1_a",
                                                                     "current_l2_a",
                                                                     "current_l3_a",
                                                                     "bearing_temp_c",
                                                                     "vibration_1x_mm_s",
                                                                     "vibration_2x_mm_s",
                                                                     "vibration_accel_peak_g",
                                                                     "vibration_crest_factor",
                                                                     "vibration_kurtosis",
                                                                     "vibration_bearing_defect_ge",
                                                                     "current_unbalance_percent",
                                                                     "run_hours",
                                                                     "start_count"};
/// True when a fault of type f can occur on a machine of type m.
bool fault_applies(fault_type f, machine_type m) noexcept;
/// The wire signals (payload keys) fault f moves on machine type m; `signal` names the
/// target of a generic fault (empty = that fault's default signal, power_kw).
std::vector<std::string> affected_signals(fault_type f, machine_type m, std::string_view signal);
/// Same, for a fault of this severity: a machine-specific fault of severity >= 0.7 also puts
/// the machine in operating mode fault (so operating_mode is listed).
std::vector<std::string> affected_signals(fault_type f, machine_type m, std::string_view signal,
                                          double severity);

/// One fault, scheduled or injected. severity is 0..1 (see docs/scenarios.md for the scale).
struct fault {
  std::uint64_t id = 0;
  fault_type type = fault_type::spike;
  double severity = 0.5;
  sim_time start{};
  std::optional<sim_time> end;  ///< none = until cleared
  std::string signal;           ///< generic faults: payload key to act on; empty = default
  std::string source;           ///< "scenario", "random" or "api"
};

// ---------------------------------------------------------------------------------------
// Readings

/// Electrical reading of one interval. power_kw is the interval's average real power, so
/// energy_kwh == power_kw * dt_s / 3600 and P = sqrt(3) * V * I * PF / 1000.
struct energy_reading {
  double power_kw = 0;
  double energy_kwh = 0;        ///< energy in this interval
  double energy_total_kwh = 0;  ///< cumulative meter, never decreases
  double voltage_v = 0;         ///< line-to-line
  double current_a = 0;
  double power_factor = 0;
  double frequency_hz = 0;
  // Per-phase currents of the meter (machines/condition.hpp); absent until filled. Floats,
  // like the condition features: 2 decimals of up to 65,000 A fit, and the engine keeps the
  // last reading of every machine (2 KiB per machine at 10,000, bench/memory_bench).
  float current_l1_a = absent_f;
  float current_l2_a = absent_f;
  float current_l3_a = absent_f;
};

struct production_reading {
  std::int64_t production_count = 0;  ///< units finished in this interval
  std::int64_t production_count_good = 0;
  std::int64_t production_count_bad = 0;
  double throughput_units_per_hour = 0;
  operating_mode mode = operating_mode::idle;
  double speed_percent = 0;
};

/// Every environmental key of docs/topics.md; a model fills those it has, the rest stay absent.
struct environmental_reading {
  double outdoor_temp_c = absent;
  double indoor_temp_c = absent;
  double machine_temp_c = absent;
  double outdoor_humidity_percent = absent;
  double indoor_humidity_percent = absent;
  double pressure_bar = absent;
  double pressure_setpoint_bar = absent;
  double flow_rate_m3h = absent;
  double supply_air_temp_c = absent;
  double return_air_temp_c = absent;
  double chilled_water_supply_temp_c = absent;
  double chilled_water_return_temp_c = absent;
  double cop = absent;
  double vibration_mm_s = absent;
  // Condition monitoring, every type (machines/condition.hpp). Floats where the wire's
  // decimals fit in 7 significant digits (see energy_reading); hours and starts stay double.
  float bearing_temp_c = absent_f;
  float vibration_1x_mm_s = absent_f;
  float vibration_2x_mm_s = absent_f;
  float vibration_accel_peak_g = absent_f;
  float vibration_crest_factor = absent_f;
  float vibration_kurtosis = absent_f;
  float vibration_bearing_defect_ge = absent_f;
  float current_unbalance_percent = absent_f;  ///< of the energy stream's phase currents
  double run_hours = absent;
  double start_count = absent;  ///< whole starts since the simulation began
};

/// Everything one step of one machine produces.
struct reading {
  sim_time time{};  ///< end of the interval the reading covers
  energy_reading energy;
  production_reading production;
  environmental_reading environmental;
  bool is_running = false;
  interruption stop = interruption::none;  ///< under way at the end of the interval
  /// A dropout fault suppresses whole streams: the engine does not publish them.
  bool energy_dropped = false;
  bool production_dropped = false;
  bool environmental_dropped = false;
};

/// Everything a model needs from outside for one step.
struct step_input {
  sim_time time{};                ///< end of the interval being simulated
  double dt_s = 1;                ///< interval length
  local_time local;               ///< `time` on the factory's clock
  schedule_point schedule;        ///< calendar at `time`
  weather outdoor;                ///< site climate at `time`
  grid_supply grid;               ///< site supply at `time`
  std::span<const fault> faults;  ///< faults active at `time`
};

/// Ground truth for T/events: one per fault start and one per fault end.
struct fault_event {
  enum class kind : std::uint8_t { start, end };
  kind what = kind::start;
  sim_time at{};
  fault f;
  std::vector<std::string> signals;
};

}  // namespace factorysim::machines
