// Issue 11, both data layers end to end with the real simulator: `factorysim run --mode
// backfill` on a small wearing plant (failures, corrective and preventive maintenance, truth
// on) -> mosquitto -> `factorysim ingest` into a database initialised with `--profile
// enms,mantis`. Nothing is lost: every reading is its EnMS row, every measured signal of every
// reading is one mantis.sensor_data_raw row of its sensor, every truth message a health_truth
// row, and the failure/maintenance events are the MANTIS system_events, work_orders and
// maintenance_history. What was published comes from the deterministic file output of the same
// run; which signals are measured comes from the sensor catalogue db init wrote (mantis.sensors),
// not from a list in this file, so signals added to the payloads are counted too.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/ingest_harness.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

// Two machines, two days at 60 s: a compressor that wears out within hours (life_scale), with
// preventive maintenance every 12 h and a repair after each failure, and a pump that does not.
constexpr const char* wearing_plant = R"(name: e2e-layers
seed: 7
time: { mode: backfill, from: 2025-03-03T00:00:00Z, to: 2025-03-05T00:00:00Z }
simulation: { truth: true }
factories:
  - id: 33333333-3333-3333-3333-333333333333
    name: Wear Shop
    location: Munich, Germany
    timezone: Europe/Berlin
machines:
  - id: d0000000-0000-0000-0000-000000000001
    name: Compressor-W
    type: compressor
    rated_power_kw: 55
    interval: 60s
    topic: factory/w/compressor
    degradation: { life_scale: 0.0005 }
    maintenance:
      preventive: { every: 12h, duration: 1h }
      corrective: { response: 30m, duration: 2h }
  - id: d0000000-0000-0000-0000-000000000004
    name: Pump-W
    type: pump
    rated_power_kw: 45
    interval: 60s
    topic: factory/w/pump
)";

struct published {
  long messages = 0;
  std::map<std::pair<std::string, std::string>, long> per_stream;  // (stream, machine) -> n
  std::vector<nlohmann::json> readings;                            // energy/production/env.
  std::map<std::string, long> events_by_kind;                      // event -> n
  std::set<std::pair<std::string, std::string>> work_orders;       // (machine, work order)
  long maintenance_ends = 0;
};

published read_file_output(const std::filesystem::path& file) {
  published p;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error("no tab in output line: " + line);
    const std::string topic = line.substr(0, tab);
    auto j = nlohmann::json::parse(line.substr(tab + 1));
    const std::string stream = topic.substr(topic.rfind('/') + 1);
    const std::string machine = j.at("machine_id");
    ++p.messages;
    ++p.per_stream[{stream, machine}];
    if (stream == "energy" || stream == "production" || stream == "environmental")
      p.readings.push_back(std::move(j));
    else if (stream == "events") {
      const std::string kind = j.at("event");
      ++p.events_by_kind[kind];
      if (kind == "maintenance_start" || kind == "maintenance_end")
        p.work_orders.emplace(machine, j.at("work_order").get<std::string>());
      if (kind == "maintenance_end") ++p.maintenance_ends;
    }
  }
  return p;
}

TEST(ingest_layers_e2e, simulator_backfill_fills_enms_and_mantis_without_loss) {
  postgres_server pg;
  const std::string db = pg.conninfo();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fs-layers-e2e-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto scenario = (dir / "wearing-plant.yaml").string();
  std::ofstream(scenario) << wearing_plant;
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario", scenario,
                         "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  const std::string m = query_value(db, "SELECT quote_ident(value) FROM factorysim_settings"
                                        " WHERE key = 'mantis_schema'");
  ASSERT_FALSE(m.empty());

  // The catalogue: (machine, signal key) -> sensor id, as db init wrote it.
  std::map<std::pair<std::string, std::string>, std::string> sensor_of;
  for (const auto& r : query_rows(db, "SELECT asset_id::text, signal_key, id::text FROM " + m +
                                          ".sensors WHERE signal_key IS NOT NULL"))
    sensor_of[{r.at(0).value_or(""), r.at(1).value_or("")}] = r.at(2).value_or("");
  ASSERT_FALSE(sensor_of.empty());

  const std::vector<std::string> window = {"--no-progress", "--control", "off"};
  std::vector<std::string> file_run = {FACTORYSIM_BINARY, "run", scenario, "--output",
                                       (dir / "expected.tsv").string()};
  file_run.insert(file_run.end(), window.begin(), window.end());
  ASSERT_EQ(run_command(file_run, out), 0) << out;
  const published p = read_file_output(dir / "expected.tsv");
  // The scenario does what this test is about (else it would prove nothing).
  ASSERT_GT(p.events_by_kind.count("failure") ? p.events_by_kind.at("failure") : 0, 0);
  ASSERT_GT(p.maintenance_ends, 0);
  ASSERT_GT(p.readings.size(), 1000u);

  // Expected narrow rows per sensor: every numeric value of a catalogued key in a reading.
  std::map<std::string, long> expected_narrow;  // sensor id -> rows
  long expected_narrow_total = 0;
  std::set<std::string> numeric_keys_not_catalogued;
  for (const auto& j : p.readings) {
    const std::string machine = j.at("machine_id");
    for (const auto& [key, v] : j.items()) {
      if (!v.is_number() || key == "seq") continue;
      const auto s = sensor_of.find({machine, key});
      if (s == sensor_of.end()) {
        numeric_keys_not_catalogued.insert(key);
        continue;
      }
      ++expected_narrow[s->second];
      ++expected_narrow_total;
    }
  }
  ASSERT_GT(expected_narrow_total, static_cast<long>(p.readings.size()));

  mosquitto_server broker;
  // The ingestor stops by itself once it took every published message (and committed them).
  child_process ingest({FACTORYSIM_BINARY, "ingest", "--db", db, "--mqtt-port",
                        std::to_string(broker.port()), "--client-id", "layers-e2e", "--spool-dir",
                        (dir / "spool").string(), "--max-messages", std::to_string(p.messages),
                        "--summary-json", (dir / "summary.json").string()},
                       dir / "ingest.log");
  ASSERT_TRUE(ingest.wait_for_log("subscribed", 20s)) << ingest.log();
  std::vector<std::string> mqtt_run = {FACTORYSIM_BINARY, "run", scenario, "--mqtt-port",
                                       std::to_string(broker.port())};
  mqtt_run.insert(mqtt_run.end(), window.begin(), window.end());
  ASSERT_EQ(run_command(mqtt_run, out, 300s), 0) << out;
  ASSERT_EQ(ingest.wait(180s), 0) << ingest.log();

  EXPECT_EQ(query_int(db, "SELECT count(*) FROM ingest_rejects"), 0)
      << query_value(db, "SELECT string_agg(reason || ': ' || detail, '; ') FROM ingest_rejects");

  // EnMS: one row per reading, per machine and stream.
  const std::map<std::string, std::string> table_of = {{"energy", "energy_readings"},
                                                       {"production", "production_data"},
                                                       {"environmental", "environmental_data"},
                                                       {"truth", "health_truth"}};
  for (const auto& [key, n] : p.per_stream) {
    const auto& [stream, machine] = key;
    const auto t = table_of.find(stream);
    if (t == table_of.end()) continue;
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + t->second + " WHERE machine_id = '" +
                                machine + "'"),
              n)
        << stream << ' ' << machine;
  }

  // MANTIS narrow rows: exactly one per measured signal of each reading, per sensor.
  std::map<std::string, long> stored_narrow;
  for (const auto& r : query_rows(db, "SELECT sensor_id::text, count(*) FROM " + m +
                                          ".sensor_data_raw GROUP BY 1"))
    stored_narrow[r.at(0).value_or("")] = std::stol(r.at(1).value_or("0"));
  EXPECT_EQ(stored_narrow, expected_narrow);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".sensor_data_raw"),
            expected_narrow_total);
  // No reading value went into a sensor that db init did not catalogue (the ingestor registers
  // unforeseen keys with ensure_sensor: none may have been needed here).
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".sensors WHERE signal_key IS NOT NULL"),
            static_cast<long long>(sensor_of.size()));
  // The same value, not just the same count: one narrow row against its reading.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings e JOIN " + m +
                              ".sensors s ON s.asset_id = e.machine_id AND s.signal_key ="
                              " 'power_kw' JOIN " + m + ".sensor_data_raw r ON r.sensor_id = s.id"
                              " AND r.time = e.time WHERE r.value IS DISTINCT FROM"
                              " e.power_kw::double precision"),
            0);

  // MANTIS events: every failure and maintenance start/end a system event, one work order per
  // order id, one history row per completed order.
  const auto kind_count = [&](const std::string& k) {
    const auto it = p.events_by_kind.find(k);
    return it == p.events_by_kind.end() ? 0L : it->second;
  };
  for (const std::string k : {"failure", "maintenance_start", "maintenance_end"})
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".system_events WHERE event_type = '" +
                                k + "'"),
              kind_count(k))
        << k;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".work_orders"),
            static_cast<long long>(p.work_orders.size()));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".maintenance_history"),
            p.maintenance_ends);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + ".anomalies"), kind_count("failure"));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM anomalies WHERE source = 'failure'"),
            kind_count("failure"));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM maintenance_events WHERE ended_at IS NOT NULL"),
            p.maintenance_ends);

  // Numeric keys of readings without a sensor are worth seeing when the catalogue lags.
  if (!numeric_keys_not_catalogued.empty()) {
    std::string keys;
    for (const auto& k : numeric_keys_not_catalogued) keys += k + ' ';
    std::cout << "numeric reading keys without a MANTIS sensor: " << keys << '\n';
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace factorysim::test
