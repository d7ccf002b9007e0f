#pragma once
/// A loaded, validated scenario: factories, machines (replicas expanded), faults, time mode,
/// seed and MQTT settings. Produced by load_scenario(); see docs/scenarios.md.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "machines/fault_book.hpp"
#include "machines/params.hpp"
#include "machines/types.hpp"

namespace factorysim::scenarios {

enum class time_mode : std::uint8_t { realtime, accelerated, backfill };
std::string_view to_string(time_mode m) noexcept;
/// "realtime", "accelerated" or "backfill".
std::optional<time_mode> parse_time_mode(std::string_view s) noexcept;

struct tariff {
  std::string name;
  double rate_per_kwh = 0;
  std::string currency = "USD";
  bool is_time_of_use = false;
  int start_hour = 0;                ///< local, inclusive (time of use only)
  int end_hour = 24;                 ///< local, exclusive
  std::vector<int> applicable_days;  ///< 0 = Sunday; empty = every day
  double demand_charge_per_kw = 0;
};

struct factory {
  std::string id;  ///< uuid
  std::string name;
  std::string location;
  std::string timezone = "UTC";  ///< IANA name, checked against the tz database
  std::string carbon_region;     ///< carbon_factors.region; empty = "default"
  /// Synchronous grid: factories naming the same grid share one frequency process. Empty in
  /// the file = the carbon region, else the factory's own id.
  std::string grid;
  machines::calendar calendar;
  machines::climate climate;
  std::vector<tariff> tariffs;
};

struct carbon_factor {
  std::string region;
  double kg_co2_per_kwh = 0;
};

/// A fault from the scenario: at a time, or at a random rate.
struct scheduled_fault {
  std::string machine_id;
  machines::fault f;  ///< f.source == "scenario"
  /// Set when the file gave `after` (offset from time.from) instead of `at`; f.start is then
  /// from + after, and plant recomputes it from the scenario's (possibly overridden) `from`.
  std::optional<std::chrono::milliseconds> after;
};
struct random_fault {
  std::string machine_id;  ///< expanded per replica
  machines::random_fault_rate rate;
};

struct tls_settings {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  ///< SNI and the name verified; empty = mqtt.host
  bool insecure = false;    ///< skip hostname verification
};

/// Which MQTT client library publishes (docs/scenarios.md: the trade-off).
enum class mqtt_client_kind : std::uint8_t { native, libmosquitto };

struct mqtt_settings {
  std::string host = "127.0.0.1";
  int port = 1883;
  int qos = 1;
  mqtt_client_kind client = mqtt_client_kind::native;
  /// 5 (reason codes: a message the broker drops is counted) or 4 (= MQTT 3.1.1).
  int protocol_version = 5;
  std::string client_id = "factorysim";
  std::string username;
  std::string password;
  /// A file holding the password (or user name and password, one per line), read at start.
  std::string credentials_file;
  std::optional<tls_settings> tls;
  int keepalive_s = 30;
  int max_inflight = 1000;  ///< unacknowledged QoS>0 messages before stepping pauses
  bool retain_status = true;
  double reconnect_min_s = 0.5;  ///< backoff starts here and doubles
  double reconnect_max_s = 30;
  /// Up to this many machines each gets its own session (its last will = its offline status);
  /// above it, `shared_sessions` sessions carry all machines (see sim/README.md).
  int sessions_per_machine_limit = 64;
  int shared_sessions = 4;
  /// In-band timing (`--stamp-send-time`, docs/topics.md): every PUBLISH carries the MQTT 5
  /// user properties fs-sched-us and fs-sent-us. Needs MQTT 5.
  bool stamp_send_time = false;
};

struct scenario {
  std::string file;  ///< as given to load_scenario
  std::string name;
  std::uint64_t seed = 1;
  time_mode mode = time_mode::realtime;
  double speed = 1;                        ///< accelerated mode
  std::optional<machines::sim_time> from;  ///< accelerated/backfill start
  std::optional<machines::sim_time> to;    ///< backfill end (exclusive); optional otherwise
  mqtt_settings mqtt;
  std::vector<factory> factories;
  std::vector<machines::machine_config> machines;  ///< replicas expanded, in file order
  std::vector<scheduled_fault> faults;
  std::vector<random_fault> random_faults;
  std::vector<carbon_factor> carbon_factors;
  /// `simulation.truth`: publish T/truth (health, RUL, active faults) per energy interval.
  bool truth = true;
};

/// One problem found in a scenario file, printed as `file:line:col: path: message`.
struct scenario_problem {
  std::string file;
  int line = 0;      ///< 1-based
  int column = 0;    ///< 1-based
  std::string path;  ///< e.g. machines[2].rated_power_kw
  std::string message;
  std::string to_string() const;
};

/// Thrown by load_scenario with every problem of the file, not just the first.
class scenario_error : public std::runtime_error {
 public:
  explicit scenario_error(std::vector<scenario_problem> problems);
  const std::vector<scenario_problem>& problems() const noexcept { return problems_; }

 private:
  std::vector<scenario_problem> problems_;
};

/// A machine type as a scenario may spell it: its name, or an alias (`conveyor` = motor).
std::optional<machines::machine_type> parse_machine_type_name(std::string_view s) noexcept;
/// The spellings parse_machine_type_name accepts, for messages.
inline constexpr std::string_view machine_type_spellings =
    "compressor, hvac, motor (or conveyor), pump, injection_molding";

/// Most machines a scenario may expand to, replicas included (issue 12: a 4 KB file must not
/// make `validate` allocate gigabytes); `--max-machines` raises it (docs/scenarios.md).
inline constexpr std::size_t default_max_machines = 100'000;

/// Changes made while reading a file, before validation and replication, so that the result
/// passes the same checks as a file that said so (`run --replicas`, docs/cli.md).
struct load_options {
  /// Every machine entry is read as if it had `replicas: N` (an entry's own count is replaced).
  std::optional<std::size_t> replicas;
  /// The scenario's machines after replication may not exceed this (checked before expanding).
  std::size_t max_machines = default_max_machines;
};

/// Reads, validates and expands a scenario file. Throws scenario_error (bad content, with
/// positions) or std::system_error (cannot read the file).
scenario load_scenario(const std::string& path);
/// Same, from text; `name` is used as the file name in messages.
scenario parse_scenario(const std::string& yaml_text, const std::string& name);
/// Same as above, with load options.
scenario load_scenario(const std::string& path, const load_options& options);
scenario parse_scenario(const std::string& yaml_text, const std::string& name,
                        const load_options& options);

}  // namespace factorysim::scenarios
