// The scenario loader: the demo plant of docs/plant.md, every class of broken file with its exact
// position, key path and message, and replication. Issue 2.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "scenarios/scenario.hpp"
#include "scenarios/text_formats.hpp"

namespace fs = factorysim::scenarios;
namespace fm = factorysim::machines;
using namespace std::chrono_literals;

namespace {

const std::string source_dir = FACTORYSIM_SOURCE_DIR;

std::vector<fs::scenario_problem> problems_of(const std::string& yaml) {
  try {
    fs::parse_scenario(yaml, "broken.yaml");
  } catch (const fs::scenario_error& e) {
    return e.problems();
  }
  return {};
}

std::string dump(const std::vector<fs::scenario_problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.to_string();
  return out;
}

// A valid scenario of one factory and one machine; the broken cases below start from it.
const std::string factory_block = R"(factories:
  - id: 11111111-1111-1111-1111-111111111111
    name: F
)";
const std::string machine_block = R"(machines:
  - id: c0000000-0000-0000-0000-000000000001
    type: compressor
    rated_power_kw: 55
    topic: t/c1
)";

}  // namespace

TEST(loader, demo_plant_matches_spec) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/demo-plant.yaml");
  EXPECT_EQ(s.mode, fs::time_mode::realtime);
  ASSERT_EQ(s.factories.size(), 2u);
  EXPECT_EQ(s.factories[0].id, "11111111-1111-1111-1111-111111111111");
  EXPECT_EQ(s.factories[0].name, "Demo Manufacturing Plant");
  EXPECT_EQ(s.factories[0].location, "Silicon Valley, CA, USA");
  EXPECT_EQ(s.factories[0].timezone, "America/Los_Angeles");
  EXPECT_EQ(s.factories[1].id, "22222222-2222-2222-2222-222222222222");
  EXPECT_EQ(s.factories[1].name, "European Production Facility");
  EXPECT_EQ(s.factories[1].location, "Munich, Germany");
  EXPECT_EQ(s.factories[1].timezone, "Europe/Berlin");
  EXPECT_EQ(s.factories[0].calendar.shifts.size(), 3u);
  EXPECT_EQ(s.factories[1].calendar.shifts.size(), 3u);

  struct row {
    const char* id;
    const char* factory;
    const char* name;
    fm::machine_type type;
    double kw, amps;
    std::chrono::milliseconds interval;
    const char* topic;
  };
  const char* f1 = "11111111-1111-1111-1111-111111111111";
  const char* f2 = "22222222-2222-2222-2222-222222222222";
  const row spec[] = {
      {"c0000000-0000-0000-0000-000000000001", f1, "Compressor-1", fm::machine_type::compressor, 55, 76.0, 1s, "factory/demo/compressor-1"},
      {"c0000000-0000-0000-0000-000000000002", f1, "HVAC-Main", fm::machine_type::hvac, 150, 207.4, 10s, "factory/demo/hvac-main"},
      {"c0000000-0000-0000-0000-000000000003", f1, "Conveyor-A", fm::machine_type::motor, 22, 30.4, 10s, "factory/demo/conveyor-a"},
      {"c0000000-0000-0000-0000-000000000004", f1, "Hydraulic-Pump-1", fm::machine_type::pump, 45, 62.2, 30s, "factory/demo/hydraulic-pump-1"},
      {"c0000000-0000-0000-0000-000000000005", f1, "Injection-Molding-1", fm::machine_type::injection_molding, 120, 165.9, 30s, "factory/demo/injection-molding-1"},
      {"c0000000-0000-0000-0000-000000000006", f2, "Compressor-EU-1", fm::machine_type::compressor, 90, 149.3, 1s, "factory/europe/compressor-1"},
      {"c0000000-0000-0000-0000-000000000007", f2, "HVAC-EU-North", fm::machine_type::hvac, 200, 331.8, 10s, "factory/europe/hvac-north"},
  };
  ASSERT_EQ(s.machines.size(), std::size(spec));
  for (std::size_t i = 0; i < std::size(spec); ++i) {
    const auto& m = s.machines[i];
    SCOPED_TRACE(spec[i].name);
    EXPECT_EQ(m.id, spec[i].id);
    EXPECT_EQ(m.factory_id, spec[i].factory);
    EXPECT_EQ(m.name, spec[i].name);
    EXPECT_EQ(m.type, spec[i].type);
    EXPECT_DOUBLE_EQ(m.rated_power_kw, spec[i].kw);
    EXPECT_DOUBLE_EQ(m.rated_current_a, spec[i].amps);
    // The Californian site runs 480 V / 60 Hz, Munich 400 V / 50 Hz (docs/plant.md).
    const bool california = m.factory_id == f1;
    EXPECT_DOUBLE_EQ(m.rated_voltage_v, california ? 480 : 400);
    EXPECT_DOUBLE_EQ(m.rated_frequency_hz, california ? 60 : 50);
    EXPECT_EQ(m.interval, spec[i].interval);
    EXPECT_EQ(m.topic, spec[i].topic);
    // The nameplate current of the rated input at a power factor of 0.87, to a tenth.
    EXPECT_NEAR(m.rated_current_a,
                m.rated_power_kw * 1000 / (std::sqrt(3.0) * m.rated_voltage_v * 0.87), 0.05);
  }

  // Tariffs: demo plant time of use 0.25 USD weekdays 09-21, else 0.10; Munich flat 0.18 EUR.
  const auto& t1 = s.factories[0].tariffs;
  ASSERT_EQ(t1.size(), 2u);
  EXPECT_TRUE(t1[0].is_time_of_use);
  EXPECT_DOUBLE_EQ(t1[0].rate_per_kwh, 0.25);
  EXPECT_EQ(t1[0].currency, "USD");
  EXPECT_EQ(t1[0].start_hour, 9);
  EXPECT_EQ(t1[0].end_hour, 21);
  EXPECT_EQ(t1[0].applicable_days, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(t1[1].is_time_of_use);
  EXPECT_DOUBLE_EQ(t1[1].rate_per_kwh, 0.10);
  EXPECT_EQ(t1[1].currency, "USD");
  const auto& t2 = s.factories[1].tariffs;
  ASSERT_EQ(t2.size(), 1u);
  EXPECT_FALSE(t2[0].is_time_of_use);
  EXPECT_DOUBLE_EQ(t2[0].rate_per_kwh, 0.18);
  EXPECT_EQ(t2[0].currency, "EUR");

  ASSERT_EQ(s.carbon_factors.size(), 3u);
  EXPECT_EQ(s.carbon_factors[0].region, s.factories[0].carbon_region);
  EXPECT_DOUBLE_EQ(s.carbon_factors[0].kg_co2_per_kwh, 0.22);
  EXPECT_EQ(s.carbon_factors[1].region, s.factories[1].carbon_region);
  EXPECT_DOUBLE_EQ(s.carbon_factors[1].kg_co2_per_kwh, 0.35);
  EXPECT_EQ(s.carbon_factors[2].region, "default");
  EXPECT_DOUBLE_EQ(s.carbon_factors[2].kg_co2_per_kwh, 0.45);

  // "*" expands the spike rule to every machine; the others name one machine each.
  EXPECT_EQ(s.random_faults.size(), 7u + 3u);
  for (const auto& rf : s.random_faults) EXPECT_NE(rf.rate.type, fm::fault_type::dropout);
}

TEST(loader, shipped_scenarios_load) {
  for (const char* name : {"demo-plant", "load-test", "quick-test", "run-to-failure"}) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(fs::load_scenario(source_dir + "/scenarios/" + name + ".yaml"));
  }
}

TEST(loader, quick_test_fault_after_counts_from_time_from) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/quick-test.yaml");
  ASSERT_EQ(s.faults.size(), 1u);
  ASSERT_TRUE(s.from);
  EXPECT_EQ(s.faults[0].after, 20s);
  EXPECT_EQ(s.faults[0].f.start, *s.from + 20s);
  ASSERT_TRUE(s.faults[0].f.end);
  EXPECT_EQ(*s.faults[0].f.end, *s.from + 50s);
  EXPECT_EQ(s.faults[0].f.source, "scenario");
  EXPECT_EQ(s.machines[2].type, fm::machine_type::motor);  // "conveyor" is a motor
  EXPECT_EQ(s.machines[2].factory_id, s.factories[0].id);  // the only factory is the default
}

TEST(loader, defaults_apply_to_a_minimal_file) {
  const fs::scenario s = fs::parse_scenario(factory_block + machine_block, "dir/minimal.yaml");
  EXPECT_EQ(s.name, "minimal");
  EXPECT_EQ(s.file, "dir/minimal.yaml");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.mode, fs::time_mode::realtime);
  EXPECT_EQ(s.mqtt.port, 1883);
  EXPECT_EQ(s.mqtt.qos, 1);
  EXPECT_EQ(s.factories[0].timezone, "UTC");
  ASSERT_EQ(s.machines.size(), 1u);
  EXPECT_EQ(s.machines[0].interval, 1s);
  EXPECT_EQ(s.machines[0].name, s.machines[0].id);
  EXPECT_NEAR(s.machines[0].rated_current_a, 79.39, 0.01);
}

TEST(loader, mqtt_session_layout_keys_are_read_and_range_checked) {
  const fs::scenario s = fs::parse_scenario(
      "mqtt:\n  sessions_per_machine_limit: 8\n  shared_sessions: 2\n" + factory_block +
          machine_block,
      "sessions.yaml");
  EXPECT_EQ(s.mqtt.sessions_per_machine_limit, 8);
  EXPECT_EQ(s.mqtt.shared_sessions, 2);
  try {
    fs::parse_scenario("mqtt:\n  shared_sessions: 0\n" + factory_block + machine_block, "b.yaml");
    FAIL() << "shared_sessions: 0 was accepted";
  } catch (const fs::scenario_error& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0].line, 2);
    EXPECT_EQ(e.problems()[0].path, "mqtt.shared_sessions");
  }
}

TEST(loader, unreadable_file_is_a_system_error) {
  EXPECT_THROW(fs::load_scenario(source_dir + "/scenarios/no-such-file.yaml"), std::system_error);
  EXPECT_THROW(fs::load_scenario(source_dir + "/scenarios"), std::system_error);
}

TEST(loader, parameters_are_set_and_range_checked_from_param_fields) {
  const auto fields = fm::param_fields(fm::machine_type::compressor);
  ASSERT_FALSE(fields.empty());
  const auto& f = fields[0];
  const double inside = (f.min + f.max) / 2;
  const std::string ok = factory_block + machine_block + "    parameters:\n      " +
                         std::string{f.key} + ": " + std::to_string(inside) + "\n";
  const fs::scenario s = fs::parse_scenario(ok, "p.yaml");
  EXPECT_NE(s.machines[0].params.index(), std::variant_npos);

  const std::string too_big = factory_block + machine_block + "    parameters:\n      " +
                              std::string{f.key} + ": " + std::to_string(f.max + 1) + "\n";
  const auto problems = problems_of(too_big);
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].line, 10);
  EXPECT_EQ(problems[0].column, 9 + static_cast<int>(f.key.size()));
  EXPECT_EQ(problems[0].path, "machines[0].parameters." + std::string{f.key});
  EXPECT_NE(problems[0].message.find("must be between"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Broken files: one case per class of error, each with its exact position and path.

struct broken_case {
  const char* name;
  std::string yaml;
  int line;
  int column;
  std::string path;
  std::string fragment;  ///< must occur in the message
};

std::ostream& operator<<(std::ostream& os, const broken_case& c) { return os << c.name; }

class broken_file : public ::testing::TestWithParam<broken_case> {};

TEST_P(broken_file, reports_position_path_and_message) {
  const broken_case& c = GetParam();
  const auto problems = problems_of(c.yaml);
  ASSERT_EQ(problems.size(), 1u) << "expected exactly one problem:" << dump(problems);
  const auto& p = problems[0];
  EXPECT_EQ(p.file, "broken.yaml");
  EXPECT_EQ(p.line, c.line) << p.to_string();
  EXPECT_EQ(p.column, c.column) << p.to_string();
  EXPECT_EQ(p.path, c.path) << p.to_string();
  EXPECT_NE(p.message.find(c.fragment), std::string::npos) << p.to_string();
  const std::string prefix = "broken.yaml:" + std::to_string(c.line) + ":" +
                             std::to_string(c.column) + ": " + (c.path.empty() ? "" : c.path + ": ");
  EXPECT_EQ(p.to_string(), prefix + p.message);
}

const std::string fb = factory_block;
const std::string mb = machine_block;

INSTANTIATE_TEST_SUITE_P(
    scenario_errors, broken_file,
    ::testing::Values(
        broken_case{"yaml_syntax", fb + "machines: [a, b\n", 5, 1, "", "YAML syntax error"},
        broken_case{"yaml_bad_indentation", fb + mb + "   bad: 1\n", 9, 4, "", "YAML syntax error"},
        broken_case{"unknown_key_with_suggestion",
                    fb + mb + "    rated_powr_kw: 3\n", 9, 5, "machines[0].rated_powr_kw",
                    "unknown key \"rated_powr_kw\" (did you mean \"rated_power_kw\"?)"},
        broken_case{"unknown_key_missing_unit", fb + mb + "    rated_voltage: 400\n", 9, 5,
                    "machines[0].rated_voltage", "did you mean \"rated_voltage_v\"?"},
        broken_case{"unknown_top_level_key", "colour: red\n" + fb + mb, 1, 1, "colour",
                    "unknown key \"colour\""},
        broken_case{"duplicate_key", fb + mb + "    topic: t/c2\n", 9, 5, "machines[0].topic",
                    "duplicate key \"topic\""},
        broken_case{"missing_required_key",
                    fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                         "    type: compressor\n    topic: t/c1\n",
                    5, 5, "machines[0].rated_power_kw", "missing required key"},
        broken_case{"wrong_type_number", fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                    "    type: compressor\n    rated_power_kw: lots\n    topic: t/c1\n",
                    7, 21, "machines[0].rated_power_kw", "must be a number, got \"lots\""},
        broken_case{"wrong_type_list", fb + "machines:\n  id: c0000000-0000-0000-0000-000000000001\n",
                    5, 3, "machines", "must be a list, got a map"},
        broken_case{"out_of_range", fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                    "    type: compressor\n    rated_power_kw: -3\n    topic: t/c1\n",
                    7, 21, "machines[0].rated_power_kw", "must be > 0, got -3"},
        broken_case{"unknown_machine_type", fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                    "    type: lathe\n    rated_power_kw: 5\n    topic: t/c1\n",
                    6, 11, "machines[0].type", "unknown machine type \"lathe\""},
        broken_case{"unknown_fault_type",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: meltdown\n    at: 2024-06-01T00:00:00Z\n",
                    11, 11, "faults[0].type", "unknown fault type \"meltdown\""},
        broken_case{"fault_not_applicable",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: belt_slip\n    at: 2024-06-01T00:00:00Z\n",
                    11, 11, "faults[0].type", "does not apply to compressor machines"},
        broken_case{"random_fault_not_applicable",
                    fb + mb + "random_faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: cavitation\n    per_day: 1\n",
                    11, 11, "random_faults[0].type", "does not apply to compressor machines"},
        broken_case{"fault_names_unknown_machine",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000009\n"
                              "    type: spike\n    at: 2024-06-01T00:00:00Z\n",
                    10, 14, "faults[0].machine", "no machine has id c0000000-0000-0000-0000-000000000009"},
        broken_case{"machine_names_unknown_factory",
                    fb + mb + "    factory: 11111111-1111-1111-1111-111111111112\n", 9, 14,
                    "machines[0].factory", "no factory has id 11111111-1111-1111-1111-111111111112"},
        broken_case{"duplicate_machine_id",
                    fb + mb + "  - id: C0000000-0000-0000-0000-000000000001\n    type: pump\n"
                              "    rated_power_kw: 5\n    topic: t/c2\n",
                    9, 9, "machines[1].id", "duplicate machine id c0000000-0000-0000-0000-000000000001 (first used by machines[0])"},
        broken_case{"duplicate_topic",
                    fb + mb + "  - id: c0000000-0000-0000-0000-000000000002\n    type: pump\n"
                              "    rated_power_kw: 5\n    topic: t/c1\n",
                    12, 12, "machines[1].topic", "duplicate topic \"t/c1\""},
        broken_case{"duplicate_factory_id",
                    fb + "  - id: 11111111-1111-1111-1111-111111111111\n    name: G\n" + mb +
                        "    factory: 11111111-1111-1111-1111-111111111111\n",
                    4, 9, "factories[1].id", "duplicate factory id"},
        broken_case{"bad_duration", fb + mb + "    interval: 10 sec\n", 9, 15, "machines[0].interval",
                    "must be a duration such as \"90s\""},
        broken_case{"interval_too_short", fb + mb + "    interval: 50ms\n", 9, 15,
                    "machines[0].interval", "must be at least 100ms, got \"50ms\""},
        broken_case{"interval_not_whole_ms", fb + mb + "    interval: 0.1005\n", 9, 15,
                    "machines[0].interval", "must be a whole number of milliseconds"},
        broken_case{"bad_time", fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                    "    type: spike\n    at: 2024-06-01 10:00\n",
                    12, 9, "faults[0].at", "must be an RFC 3339 time"},
        broken_case{"unknown_time_zone", fb + "    timezone: Mars/Olympus_Mons\n" + mb, 4, 15,
                    "factories[0].timezone", "unknown time zone \"Mars/Olympus_Mons\""},
        broken_case{"invalid_uuid", "factories:\n  - id: 1111-2222\n    name: F\n" + mb, 2, 9,
                    "factories[0].id", "must be a uuid"},
        broken_case{"backfill_without_to",
                    "time:\n  mode: backfill\n  from: 2024-06-01T00:00:00Z\n" + fb + mb, 2, 3,
                    "time.to", "backfill mode needs to"},
        broken_case{"to_not_after_from",
                    "time:\n  mode: backfill\n  from: 2024-06-01T00:00:00Z\n  to: 2024-06-01T02:00:00+02:00\n" + fb + mb,
                    4, 7, "time.to", "must be after time.from (2024-06-01T00:00:00.000Z)"},
        broken_case{"bad_mode", "time:\n  mode: fast\n" + fb + mb, 2, 9, "time.mode",
                    "must be one of realtime, accelerated, backfill, got \"fast\""},
        broken_case{"speed_not_positive", "time:\n  mode: accelerated\n  speed: 0\n" + fb + mb, 3, 10,
                    "time.speed", "must be > 0"},
        broken_case{"qos_out_of_range", "mqtt:\n  qos: 3\n" + fb + mb, 2, 8, "mqtt.qos",
                    "must be between 0 and 2, got 3"},
        broken_case{"port_out_of_range", "mqtt:\n  port: 70000\n" + fb + mb, 2, 9, "mqtt.port",
                    "must be between 1 and 65535, got 70000"},
        broken_case{"port_not_whole", "mqtt:\n  port: 1883.5\n" + fb + mb, 2, 9, "mqtt.port",
                    "must be a whole number, got 1883.5"},
        broken_case{"after_without_from",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: spike\n    after: 10m\n",
                    12, 12, "faults[0].after", "needs time.from"},
        broken_case{"fault_without_start",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: spike\n",
                    10, 5, "faults[0].at", "give at (RFC 3339 time) or after"},
        broken_case{"signal_on_physical_fault",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: air_leak\n    at: 2024-06-01T00:00:00Z\n    signal: power_kw\n",
                    13, 13, "faults[0].signal", "only generic faults"},
        broken_case{"unknown_parameter", fb + mb + "    parameters:\n      warp_factor: 9\n", 10, 7,
                    "machines[0].parameters.warp_factor", "unknown parameter \"warp_factor\" for compressor"},
        broken_case{"bad_shift_time",
                    "factories:\n  - id: 11111111-1111-1111-1111-111111111111\n    name: F\n"
                    "    calendar:\n      shifts:\n        - { start: \"6am\", end: \"14:00\" }\n" + mb,
                    6, 20, "factories[0].calendar.shifts[0].start", "must be a local clock time HH:MM"},
        broken_case{"bad_working_day",
                    "factories:\n  - id: 11111111-1111-1111-1111-111111111111\n    name: F\n"
                    "    calendar:\n      working_days: [mon, 7]\n" + mb,
                    5, 27, "factories[0].calendar.working_days[1]", "must be a day 0..6"},
        broken_case{"tariff_window_wraps",
                    "factories:\n  - id: 11111111-1111-1111-1111-111111111111\n    name: F\n"
                    "    tariffs:\n      - { rate_per_kwh: 0.2, time_of_use: true, start_hour: 21, end_hour: 9 }\n" + mb,
                    5, 75, "factories[0].tariffs[0].end_hour", "must be > start_hour (21), got 9"},
        broken_case{"random_severity_reversed",
                    fb + mb + "random_faults:\n  - machine: \"*\"\n    type: spike\n    per_day: 1\n"
                              "    severity: [0.8, 0.2]\n",
                    13, 21, "random_faults[0].severity[1]", "max must be >= min (0.8), got 0.2"},
        broken_case{"empty_file", "", 1, 1, "", "empty scenario"},
        broken_case{"empty_value",
                    fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                         "    type: compressor\n    rated_power_kw:\n    topic: t/c1\n",
                    7, 5, "machines[0].rated_power_kw", "must have a value"},
        broken_case{"replicas_out_of_range", fb + mb + "    replicas: 0\n", 9, 15,
                    "machines[0].replicas", "must be between 1 and 100000, got 0"},
        broken_case{"top_level_list", "- a\n- b\n", 1, 1, "", "must be a map, got a list"},
        broken_case{"unknown_signal",
                    fb + mb + "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                              "    type: spike\n    at: 2024-06-01T00:00:00Z\n    signal: power\n",
                    13, 13, "faults[0].signal", "did you mean \"power_kw\"?"},
        broken_case{"bad_holiday",
                    "factories:\n  - id: 11111111-1111-1111-1111-111111111111\n    name: F\n"
                    "    calendar:\n      holidays: [2024-12-25, 2024-02-30]\n" + mb,
                    5, 30, "factories[0].calendar.holidays[1]", "must be a date YYYY-MM-DD"},
        broken_case{"tls_cert_without_key", "mqtt:\n  tls:\n    cert_file: c.pem\n" + fb + mb, 3, 5,
                    "mqtt.tls", "cert_file and key_file go together"},
        broken_case{"duplicate_factory_name",
                    fb + "  - id: 11111111-1111-1111-1111-111111111112\n    name: F\n" + mb +
                        "    factory: 11111111-1111-1111-1111-111111111111\n",
                    5, 11, "factories[1].name", "duplicate factory name \"F\""},
        broken_case{"unknown_carbon_region",
                    "carbon_factors:\n  - { region: Germany, kg_co2_per_kwh: 0.35 }\n" + fb +
                        "    carbon_region: Bavaria\n" + mb,
                    6, 20, "factories[0].carbon_region", "no carbon_factors entry has region \"Bavaria\""},
        broken_case{"wildcard_in_topic",
                    fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                         "    type: compressor\n    rated_power_kw: 5\n    topic: factory/+/x\n",
                    8, 12, "machines[0].topic", "must not contain the wildcards"},
        broken_case{"random_fault_applies_to_nothing",
                    fb + mb + "random_faults:\n  - machine: \"*\"\n    type: heater_failure\n    per_day: 1\n",
                    11, 11, "random_faults[0].type", "applies to no machine of this scenario"},
        broken_case{"missing_factory_with_two_factories",
                    fb + "  - id: 11111111-1111-1111-1111-111111111112\n    name: G\n" + mb, 7, 5,
                    "machines[0].factory", "missing required key"}),
    [](const ::testing::TestParamInfo<broken_case>& param_info) { return std::string{param_info.param.name}; });

TEST(loader, reports_every_problem_not_just_the_first) {
  const std::string yaml = R"(time:
  mode: sometimes
mqtt:
  qos: 7
factories:
  - id: not-a-uuid
    name: F
    timezone: Nowhere/Special
machines:
  - id: c0000000-0000-0000-0000-000000000001
    factory: 11111111-1111-1111-1111-111111111111
    type: compressor
    rated_power_kw: -3
    interval: soon
    topic: t/c1
faults:
  - machine: c0000000-0000-0000-0000-000000000001
    type: belt_slip
    at: tomorrow
)";
  const auto problems = problems_of(yaml);
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "time.mode"},
      {4, "mqtt.qos"},
      {6, "factories[0].id"},
      {8, "factories[0].timezone"},
      {11, "machines[0].factory"},
      {13, "machines[0].rated_power_kw"},
      {14, "machines[0].interval"},
      {18, "faults[0].type"},
      {19, "faults[0].at"},
  };
  ASSERT_EQ(problems.size(), expected.size()) << dump(problems);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(problems[i].line, expected[i].first) << problems[i].to_string();
    EXPECT_EQ(problems[i].path, expected[i].second) << problems[i].to_string();
  }
  // The exception's text lists them all, one per line, as `validate` prints them.
  try {
    fs::parse_scenario(yaml, "broken.yaml");
    FAIL() << "no exception";
  } catch (const fs::scenario_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(std::count(what.begin(), what.end(), '\n') + 1,
              static_cast<std::ptrdiff_t>(expected.size()));
    EXPECT_NE(what.find("broken.yaml:13:21: machines[0].rated_power_kw: must be > 0, got -3"),
              std::string::npos)
        << what;
  }
}

TEST(loader, whole_number_parameters_reject_fractions) {
  const auto fields = fm::param_fields(fm::machine_type::injection_molding);
  const auto cavities = std::find_if(fields.begin(), fields.end(),
                                     [](const auto& f) { return f.key == "cavities"; });
  ASSERT_NE(cavities, fields.end());
  const std::string base = fb + "machines:\n  - id: c0000000-0000-0000-0000-000000000001\n"
                                "    type: injection_molding\n    rated_power_kw: 50\n"
                                "    topic: t/im\n    parameters:\n      cavities: ";
  EXPECT_NO_THROW(fs::parse_scenario(base + "8\n", "ok.yaml"));
  const auto problems = problems_of(base + "4.5\n");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "machines[0].parameters.cavities");
  EXPECT_NE(problems[0].message.find("whole number"), std::string::npos);
}

TEST(loader, docs_example_is_a_valid_scenario) {
  std::ifstream in(source_dir + "/docs/scenarios.md");
  const std::string docs{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto begin = docs.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = docs.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const fs::scenario s = fs::parse_scenario(docs.substr(begin + 8, end - begin - 8), "example");
  EXPECT_EQ(s.machines.size(), 1u);
  EXPECT_EQ(s.faults.size(), 1u);
  EXPECT_EQ(s.random_faults.size(), 1u);
}

TEST(loader, docs_describe_every_parameter_key) {
  std::ifstream in(source_dir + "/docs/scenarios.md");
  ASSERT_TRUE(in);
  const std::string docs{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  for (auto type : {fm::machine_type::compressor, fm::machine_type::hvac, fm::machine_type::motor,
                    fm::machine_type::pump, fm::machine_type::injection_molding})
    for (const auto& f : fm::param_fields(type))
      EXPECT_NE(docs.find("`" + std::string{f.key} + "`"), std::string::npos)
          << fm::to_string(type) << "." << f.key << " is missing from docs/scenarios.md";
}

// ---------------------------------------------------------------------------------------
// Replication

TEST(replication, load_test_expands_ten_thousand_unique_machines) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/load-test.yaml");
  ASSERT_EQ(s.machines.size(), 10000u);
  EXPECT_EQ(s.mode, fs::time_mode::backfill);
  std::set<std::string> ids, topics, names;
  for (const auto& m : s.machines) {
    EXPECT_TRUE(fs::is_uuid(m.id));
    ids.insert(m.id);
    topics.insert(m.topic);
    names.insert(m.name);
    EXPECT_EQ(m.type, fm::machine_type::compressor);
    EXPECT_EQ(m.interval, 1s);
  }
  EXPECT_EQ(ids.size(), 10000u);
  EXPECT_EQ(topics.size(), 10000u);
  EXPECT_EQ(names.size(), 10000u);
  // Documented derivation: uuid5(given id, 5-digit number); values from Python's uuid5.
  EXPECT_EQ(s.machines.front().id, "a6e6fc2d-e793-566c-81b0-b8319d86ecf1");
  EXPECT_EQ(s.machines.front().topic, "factory/load/compressor-00001");
  EXPECT_EQ(s.machines.front().name, "Compressor-00001");
  EXPECT_EQ(s.machines.back().id, "92634186-0b54-54d4-9e39-fb8cf023b381");
  EXPECT_EQ(s.machines.back().topic, "factory/load/compressor-10000");
}

TEST(replication, is_deterministic_and_faults_reach_every_replica) {
  const std::string yaml = fb + mb + "    name: C\n    replicas: 3\n" +
                           "faults:\n  - machine: c0000000-0000-0000-0000-000000000001\n"
                           "    type: air_leak\n    at: 2024-06-01T00:00:00Z\n"
                           "random_faults:\n  - machine: \"*\"\n    type: spike\n    per_day: 2\n";
  const fs::scenario a = fs::parse_scenario(yaml, "r.yaml");
  const fs::scenario b = fs::parse_scenario(yaml, "r.yaml");
  ASSERT_EQ(a.machines.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.machines[i].id, b.machines[i].id);
    EXPECT_EQ(a.machines[i].id,
              fs::uuid5("c0000000-0000-0000-0000-000000000001", "0000" + std::to_string(i + 1)));
    EXPECT_EQ(a.machines[i].topic, "t/c1-0000" + std::to_string(i + 1));
    EXPECT_EQ(a.machines[i].name, "C-0000" + std::to_string(i + 1));
  }
  ASSERT_EQ(a.faults.size(), 3u);
  ASSERT_EQ(a.random_faults.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.faults[i].machine_id, a.machines[i].id);
    EXPECT_EQ(a.random_faults[i].machine_id, a.machines[i].id);
    EXPECT_DOUBLE_EQ(a.random_faults[i].rate.per_day, 2);
  }
  // A single replica can be named by its own id.
  const std::string one = fb + mb + "    replicas: 2\n" +
                          "faults:\n  - machine: " + a.machines[1].id + "\n"
                          "    type: spike\n    at: 2024-06-01T00:00:00Z\n";
  const fs::scenario c = fs::parse_scenario(one, "r.yaml");
  ASSERT_EQ(c.faults.size(), 1u);
  EXPECT_EQ(c.faults[0].machine_id, c.machines[1].id);
}

TEST(replication, clash_with_an_explicit_topic_is_reported_once) {
  const std::string yaml = fb + mb + "    replicas: 100\n" +
                           "  - id: c0000000-0000-0000-0000-000000000002\n    type: pump\n"
                           "    rated_power_kw: 5\n    topic: t/c1-00042\n";
  const auto problems = problems_of(yaml);
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "machines[1].topic");
  EXPECT_NE(problems[0].message.find("first used by machines[0]"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Robustness: whatever the text, the loader returns a scenario or a scenario_error with
// positions; it never throws anything else and never crashes.

TEST(loader, mutated_demo_plant_gives_a_scenario_or_a_scenario_error) {
  std::ifstream in(source_dir + "/scenarios/demo-plant.yaml");
  const std::string original{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(original.empty());
  std::uint64_t state = 12345;  // fixed: the same mutations every run
  auto next = [&state](std::uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  const char alphabet[] = " -:#[]{}\"'\n\t0123456789abcxyz.*&!|>";
  std::size_t rejected = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text = original;
    const int edits = 1 + static_cast<int>(next(4));
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = next(text.size());
      switch (next(3)) {
        case 0: text[pos] = alphabet[next(sizeof alphabet - 1)]; break;
        case 1: text.erase(pos, 1 + next(20)); break;
        default: text.insert(pos, 1, alphabet[next(sizeof alphabet - 1)]); break;
      }
    }
    try {
      fs::parse_scenario(text, "mutant.yaml");
    } catch (const fs::scenario_error& e) {
      ++rejected;
      ASSERT_FALSE(e.problems().empty());
      for (const auto& p : e.problems()) {
        EXPECT_EQ(p.file, "mutant.yaml");
        EXPECT_GE(p.line, 1) << p.to_string();
        EXPECT_GE(p.column, 1) << p.to_string();
        EXPECT_FALSE(p.message.empty());
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "round " << round << ": unexpected " << e.what() << "\n" << text;
    }
  }
  EXPECT_GT(rejected, 100u);  // the mutations do break files
}

// Issue 13: `run --replicas N` reads every machine entry as if it had `replicas: N`; the
// result is checked like a file that said so (ids, topics, faults on the group).
TEST(load_options, replicas_replace_every_entrys_count) {
  fs::load_options o;
  o.replicas = 3;
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/demo-plant.yaml", o);
  ASSERT_EQ(s.machines.size(), 21u);
  EXPECT_EQ(s.machines[0].id, fs::uuid5("c0000000-0000-0000-0000-000000000001", "00001"));
  EXPECT_EQ(s.machines[2].topic, "factory/demo/compressor-1-00003");
  EXPECT_EQ(s.machines[3].name, "HVAC-Main-00001");
  // The air leak rate names Compressor-1's id: it now applies to its three replicas.
  std::size_t air_leak = 0;
  for (const auto& f : s.random_faults)
    if (f.rate.type == factorysim::machines::fault_type::air_leak) ++air_leak;
  EXPECT_EQ(air_leak, 3u);

  o.replicas = 5;  // load-test.yaml says replicas: 10000
  EXPECT_EQ(fs::load_scenario(source_dir + "/scenarios/load-test.yaml", o).machines.size(), 5u);
  o.replicas = 0;
  EXPECT_THROW(fs::load_scenario(source_dir + "/scenarios/load-test.yaml", o),
               std::invalid_argument);
}

namespace {

/// One machine of `replicas` replicas, then `aliases` YAML aliases of that same entry.
std::string aliased_replicas(int replicas, int aliases) {
  std::string y = R"(name: bomb
seed: 1
time:
  mode: backfill
  from: 2024-06-03T08:00:00Z
  to: 2024-06-03T09:00:00Z
factories:
  - id: 11111111-1111-1111-1111-111111111111
    name: F
    timezone: UTC
machines:
  - &m
    id: c0000000-0000-0000-0000-000000000001
    type: compressor
    rated_power_kw: 30
    topic: f/c
    replicas: )" + std::to_string(replicas) +
                  "\n";
  for (int i = 0; i < aliases; ++i) y += "  - *m\n";
  return y;
}

}  // namespace

// Issue 12: a 4 KB file (one machine of 100,000 replicas aliased 19 times) made `validate`
// allocate 1.5 GB for 19 s. The total is checked before expanding, with a position.
TEST(load_options, the_total_machine_count_is_bounded_before_expanding_issue_12) {
  const std::string yaml = aliased_replicas(100000, 19);
  ASSERT_LT(yaml.size(), 4096u);
  std::vector<fs::scenario_problem> problems;
  try {
    fs::parse_scenario(yaml, "bomb.yaml");
    FAIL() << "a scenario of 2,000,000 machines was accepted";
  } catch (const fs::scenario_error& e) {
    problems = e.problems();
  }
  const auto limit = std::find_if(problems.begin(), problems.end(), [](const auto& p) {
    return p.message.find("limit is 100000") != std::string::npos;
  });
  ASSERT_NE(limit, problems.end());
  EXPECT_EQ(limit->file, "bomb.yaml");
  EXPECT_EQ(limit->path, "machines[1].replicas");
  EXPECT_EQ(limit->line, 17);  // the anchored entry's `replicas:`, which the alias repeats
  EXPECT_GT(limit->column, 0);
  EXPECT_NE(limit->message.find("200000"), std::string::npos) << limit->to_string();
  EXPECT_NE(limit->message.find("--max-machines"), std::string::npos);
  // Reported once, not once per alias.
  EXPECT_EQ(
      std::count_if(problems.begin(), problems.end(),
                    [](const auto& p) { return p.message.find("limit is") != std::string::npos; }),
      1);

  // The option moves the limit; exactly at it is fine.
  fs::load_options o;
  o.max_machines = 5;
  EXPECT_EQ(fs::parse_scenario(aliased_replicas(5, 0), "ok.yaml", o).machines.size(), 5u);
  try {
    fs::parse_scenario(aliased_replicas(6, 0), "small.yaml", o);
    FAIL() << "6 machines passed a limit of 5";
  } catch (const fs::scenario_error& e) {
    EXPECT_NE(e.problems().front().to_string().find("small.yaml:17:"), std::string::npos)
        << e.problems().front().to_string();
  }
  o.replicas = 6;  // `--replicas 6` on a file that says 1: positioned at the entry
  try {
    fs::parse_scenario(aliased_replicas(1, 0), "small.yaml", o);
    FAIL() << "--replicas 6 passed a limit of 5";
  } catch (const fs::scenario_error& e) {
    EXPECT_EQ(e.problems().front().path, "machines[0].replicas");
  }
}

// ---------------------------------------------------------------------------------------
// Degradation and maintenance (issue 10)

TEST(loader, degradation_and_maintenance_are_read_per_machine) {
  const std::string yaml = fb + mb + R"(    degradation:
      initial_wear: { bearing: 0.4, inlet_valve: 0.1 }
      life_scale: 0.01
      unit_variation: 0.1
    maintenance:
      preventive: { every: 30d, every_run_hours: 500, duration: 6h, restore: 0.8,
                    components: [bearing] }
      corrective: { response: 30m, duration: 12h, restore: 0.9 }
simulation: { truth: false }
)";
  const fs::scenario s = fs::parse_scenario(yaml, "w.yaml");
  EXPECT_FALSE(s.truth);
  ASSERT_TRUE(s.machines[0].wear);
  const fm::wear_config& w = *s.machines[0].wear;
  EXPECT_FLOAT_EQ(w.initial_wear[static_cast<std::size_t>(fm::component::bearing)], 0.4f);
  EXPECT_FLOAT_EQ(w.initial_wear[static_cast<std::size_t>(fm::component::inlet_valve)], 0.1f);
  EXPECT_EQ(w.initial_wear[static_cast<std::size_t>(fm::component::air_end)], 0.0);
  EXPECT_EQ(w.life_scale, 0.01);
  EXPECT_EQ(w.unit_variation, 0.1);
  EXPECT_FALSE(w.run_to_failure);
  EXPECT_EQ(w.pm_every_h, 720);
  EXPECT_EQ(w.pm_every_run_h, 500);
  EXPECT_EQ(w.pm_duration_h, 6);
  EXPECT_EQ(w.pm_restore, 0.8);
  EXPECT_TRUE(w.pm_components[static_cast<std::size_t>(fm::component::bearing)]);
  EXPECT_FALSE(w.pm_components[static_cast<std::size_t>(fm::component::air_end)]);
  EXPECT_EQ(w.repair_response_h, 0.5);
  EXPECT_EQ(w.repair_duration_h, 12);
  EXPECT_EQ(w.repair_restore, 0.9);
  // Defaults: truth on, a new machine, no preventive maintenance.
  const fs::scenario d = fs::parse_scenario(fb + mb, "d.yaml");
  EXPECT_TRUE(d.truth);
  EXPECT_EQ(d.machines[0].wear, nullptr);
  EXPECT_EQ(d.machines[0].wear_plan().pm_every_h, 0);
  EXPECT_EQ(d.machines[0].wear_plan().initial_wear[0], 0);
}

TEST(loader, bad_wear_values_are_reported_with_their_position) {
  struct wear_case {
    std::string tail;
    int line, column;
    std::string path, fragment;
  };
  const std::vector<wear_case> cases = {
      {"    degradation: { initial_wear: 1.5 }\n", 9, 34, "machines[0].degradation.initial_wear",
       "between"},
      {"    degradation: { initial_wear: { impeller: 0.2 } }\n", 9, 36,
       "machines[0].degradation.initial_wear.impeller", "unknown component \"impeller\""},
      {"    degradation: { life_scale: 0 }\n", 9, 32, "machines[0].degradation.life_scale",
       "must be"},
      {"    maintenance: { preventive: { duration: 2h } }\n", 9, 32,
       "machines[0].maintenance.preventive", "needs every"},
      {"    maintenance: { run_to_failure: maybe }\n", 9, 36,
       "machines[0].maintenance.run_to_failure", ""},
      {"    maintenance: { corrective: { restore: 2 } }\n", 9, 43,
       "machines[0].maintenance.corrective.restore", "between"},
      {"    maintenance: { preventive: { every: 1d, components: [coil] } }\n", 9, 58,
       "machines[0].maintenance.preventive.components[0]", "unknown component \"coil\""},
      {"    maintenance: { repair: 1h }\n", 9, 20, "machines[0].maintenance.repair", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tail);
    const auto problems = problems_of(fb + mb + c.tail);
    ASSERT_EQ(problems.size(), 1u) << dump(problems);
    EXPECT_EQ(problems[0].line, c.line) << problems[0].to_string();
    EXPECT_EQ(problems[0].column, c.column) << problems[0].to_string();
    EXPECT_EQ(problems[0].path, c.path) << problems[0].to_string();
    EXPECT_NE(problems[0].message.find(c.fragment), std::string::npos) << problems[0].to_string();
  }
}
