// Issue 11, end to end with the real simulator storing both data layers: `factorysim run
// --mode backfill` of a small plant that wears, fails and is maintained (truth on) -> a real
// mosquitto -> `factorysim ingest` into a database initialised with `--profile enms,mantis`.
// Nothing is lost: every reading is an EnMS row, every measured signal of every reading one
// mantis.sensor_data_raw row with the published value, every truth message a health_truth
// row, every failure and maintenance event a system_event, work order and history record.
// What "measured signal" means comes from the MANTIS signal catalog that db init installs,
// not from a list written here, so new payload keys are counted once the catalog has them.
// On plain PostgreSQL 15 (label integration) and on ../shared/tsdb (label timescale).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/ingest_harness.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

// A compressor whose components wear out within hours (failures, corrective and preventive
// maintenance), an HVAC that never fails and a run-to-failure pump: every event kind occurs.
constexpr const char* scenario_yaml = R"(name: both-layers-e2e
seed: 7
time:
  mode: backfill
  from: 2025-03-03T00:00:00Z
  to: 2025-03-05T00:00:00Z
simulation:
  truth: true
factories:
  - id: 55555555-5555-5555-5555-555555555555
    name: Both Layers Shop
    timezone: UTC
machines:
  - id: c3000000-0000-0000-0000-000000000001
    name: Compressor-W1
    type: compressor
    rated_power_kw: 55
    interval: 60s
    topic: factory/both/compressor-1
    degradation: { life_scale: 0.0005 }
    maintenance:
      preventive: { every: 20h, duration: 1h }
      corrective: { response: 1h, duration: 2h }
  - id: c3000000-0000-0000-0000-000000000002
    name: HVAC-W1
    type: hvac
    rated_power_kw: 150
    interval: 60s
    topic: factory/both/hvac-1
  - id: c3000000-0000-0000-0000-000000000003
    name: Pump-W1
    type: pump
    rated_power_kw: 45
    interval: 120s
    topic: factory/both/pump-1
    degradation: { life_scale: 0.002 }
    maintenance: { run_to_failure: true }
  - id: c3000000-0000-0000-0000-000000000004
    name: Molding-W1
    type: injection_molding
    rated_power_kw: 120
    interval: 60s
    topic: factory/both/molding-1
)";

const std::map<std::string, std::string> enms_table = {{"energy", "energy_readings"},
                                                       {"production", "production_data"},
                                                       {"environmental", "environmental_data"}};

/// What the run published, read back from the deterministic --output of the same run.
struct published {
  long messages = 0;
  std::map<std::pair<std::string, std::string>, long> per_stream;  // (stream, machine) -> n
  // (machine, key) -> how many readings carried the key as a number, and their sum.
  std::map<std::pair<std::string, std::string>, std::pair<long, double>> numeric;
  std::map<std::string, long> events;  // event kind -> n
  std::map<std::string, long> interruptions;  // truth `interruption` value -> n
  std::set<std::pair<std::string, std::string>> work_orders;  // (machine, code)
  std::set<std::pair<std::string, std::string>> ended_orders;
};

published read_output(const std::filesystem::path& tsv) {
  published p;
  std::ifstream in(tsv);
  std::string line;
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error("no tab in " + line);
    const std::string topic = line.substr(0, tab);
    const auto j = nlohmann::json::parse(line.substr(tab + 1));
    const std::string stream = topic.substr(topic.rfind('/') + 1);
    const std::string machine = j.at("machine_id");
    ++p.messages;
    ++p.per_stream[{stream, machine}];
    if (enms_table.count(stream) != 0) {
      for (const auto& [key, v] : j.items()) {
        if (key == "seq" || !v.is_number()) continue;
        auto& n = p.numeric[{machine, key}];
        ++n.first;
        n.second += v.get<double>();
      }
    } else if (stream == "truth" && j.contains("interruption")) {
      ++p.interruptions[j.at("interruption").get<std::string>()];
    } else if (stream == "events") {
      const std::string kind = j.at("event");
      ++p.events[kind];
      if (kind == "maintenance_start" || kind == "maintenance_end")
        p.work_orders.emplace(machine, j.at("work_order").get<std::string>());
      if (kind == "maintenance_end")
        p.ended_orders.emplace(machine, j.at("work_order").get<std::string>());
    }
  }
  return p;
}

/// Runs the whole chain against `db` (already reachable) and checks both layers. `schema`
/// empty: the server's search_path.
void run_and_check_both_layers(const std::string& db, const std::string& schema) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fs-both-layers-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto scenario = dir / "both-layers.yaml";
  std::ofstream(scenario) << scenario_yaml;
  std::vector<std::string> schema_args;
  if (!schema.empty()) schema_args = {"--schema", schema};
  const std::string q = schema.empty() ? "" : schema + ".";

  std::string out;
  std::vector<std::string> init = {FACTORYSIM_BINARY, "db",        "init",         "--db", db,
                                   "--scenario",      scenario.string(), "--profile", "enms,mantis"};
  init.insert(init.end(), schema_args.begin(), schema_args.end());
  ASSERT_EQ(run_command(init, out), 0) << out;
  const std::string ms =
      query_value(db, "SELECT value FROM " + q + "factorysim_settings WHERE key = 'mantis_schema'");
  const std::string m = ms + ".";

  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "run", scenario.string(), "--output",
                         (dir / "expected.tsv").string(), "--no-progress", "--control", "off"},
                        out),
            0)
      << out;
  const published pub = read_output(dir / "expected.tsv");
  ASSERT_GT(pub.events.count("failure"), 0u) << "the scenario no longer fails: retune it";
  ASSERT_GT(pub.events.count("maintenance_end"), 0u) << "the scenario no longer maintains";
  ASSERT_GT(pub.interruptions.count("micro_stop"), 0u) << "the molding machine never stops";
  ASSERT_GT(pub.interruptions.count("changeover"), 0u) << "the molding machine never changes over";

  mosquitto_server broker;
  std::vector<std::string> ingest_argv = {FACTORYSIM_BINARY, "ingest", "--db", db,
                                          "--mqtt-port", std::to_string(broker.port()),
                                          "--client-id", "both-layers-ingest", "--spool-dir",
                                          (dir / "spool").string(), "--max-messages",
                                          std::to_string(pub.messages), "--status-interval-s", "1",
                                          "--summary-json", (dir / "summary.json").string()};
  ingest_argv.insert(ingest_argv.end(), schema_args.begin(), schema_args.end());
  child_process ingest(ingest_argv, dir / "ingest.log");
  ASSERT_TRUE(ingest.wait_for_log("subscribed", 30s)) << ingest.log();
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "run", scenario.string(), "--mqtt-port",
                         std::to_string(broker.port()), "--no-progress", "--control", "off"},
                        out, 300s),
            0)
      << out;
  // The ingestor stops by itself once it committed --max-messages messages.
  ASSERT_EQ(ingest.wait(600s), 0) << ingest.log();

  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + q + "ingest_rejects"), 0)
      << query_rows(db, "SELECT reason || ': ' || detail FROM " + q + "ingest_rejects LIMIT 1")
             .at(0)
             .at(0)
             .value_or("");

  // EnMS: every reading one row, seq 1..n per machine and stream.
  for (const auto& [key, n] : pub.per_stream) {
    const auto& [stream, machine] = key;
    const auto t = enms_table.find(stream);
    if (t == enms_table.end()) continue;
    EXPECT_EQ(query_value(db, "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || min(seq) ||"
                              " ' ' || max(seq) FROM " +
                                  q + t->second + " WHERE machine_id = '" + machine + "'"),
              std::to_string(n) + ' ' + std::to_string(n) + " 1 " + std::to_string(n))
        << stream << ' ' << machine;
  }

  // MANTIS narrow rows: the catalog says which payload keys are measured signals.
  std::set<std::string> measured;
  for (const auto& r : query_rows(db, "SELECT DISTINCT signal_key FROM " + m + "signal_catalog"))
    measured.insert(r.at(0).value_or(""));
  ASSERT_FALSE(measured.empty());
  long expected_rows = 0;
  std::set<std::string> unstored;  // numeric reading keys the layer does not know
  for (const auto& [mk, n] : pub.numeric) {
    const auto& [machine, key] = mk;
    if (measured.count(key) == 0) {
      unstored.insert(key);
      continue;
    }
    expected_rows += n.first;
    const auto row =
        query_rows(db, "SELECT count(*), sum(value) FROM " + m + "sensor_data_raw WHERE sensor_id = " +
                           m + "sensor_uuid('" + machine + "', '" + key + "')");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(std::stol(row[0][0].value_or("0")), n.first) << machine << ' ' << key;
    const double sum = std::stod(row[0][1].value_or("nan"));
    EXPECT_NEAR(sum, n.second, 1e-9 * std::max(1.0, std::fabs(n.second))) << machine << ' ' << key;
  }
  // time, machine_id and seq are the row's identity, not signals.
  unstored.erase("time");
  std::string unstored_list;
  for (const auto& k : unstored) unstored_list += k + ' ';
  EXPECT_TRUE(unstored.empty()) << "published as numbers but no MANTIS signal: " << unstored_list;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "sensor_data_raw"), expected_rows);
  // The ingestor counts what it wrote to each layer (issue 11: narrow rows were uncounted).
  {
    std::ifstream in(dir / "summary.json");
    const auto summary = nlohmann::json::parse(in);
    EXPECT_EQ(summary.at("narrow_rows").get<long>(), expected_rows);
    EXPECT_EQ(summary.at("received").get<long>(), pub.messages);
  }
  const auto log = ingest.log();
  EXPECT_NE(log.find(" sensor_raw "), std::string::npos) << log;
  EXPECT_NE(log.find(", " + std::to_string(expected_rows) + " narrow rows)"), std::string::npos)
      << log;
  // Every sensor that got rows belongs to a scenario machine's asset.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "sensor_data_raw r LEFT JOIN " + m +
                              "sensors s ON s.id = r.sensor_id WHERE s.asset_id IS NULL"),
            0);

  // Truth: one health_truth row per message, seq 1..n per machine.
  for (const auto& [key, n] : pub.per_stream) {
    if (key.first != "truth") continue;
    EXPECT_EQ(query_value(db, "SELECT count(*) || ' ' || count(DISTINCT seq) FROM " + q +
                                  "health_truth WHERE machine_id = '" + key.second + "'"),
              std::to_string(n) + ' ' + std::to_string(n))
        << key.second;
  }

  // Interruptions (micro-stops, changeovers) as the truth named them.
  for (const char* kind : {"micro_stop", "changeover"}) {
    const auto it = pub.interruptions.find(kind);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + q + "health_truth WHERE interruption = '" +
                                std::string(kind) + "'"),
              it == pub.interruptions.end() ? 0 : it->second)
        << kind;
  }

  // Events: system_events per kind, work orders, history, the failures as anomalies.
  for (const char* kind : {"failure", "maintenance_start", "maintenance_end"}) {
    const auto it = pub.events.find(kind);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "system_events WHERE event_type = '" +
                                std::string(kind) + "'"),
              it == pub.events.end() ? 0 : it->second)
        << kind;
  }
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "work_orders"),
            static_cast<long long>(pub.work_orders.size()));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "work_orders WHERE status = 'completed'"),
            static_cast<long long>(pub.ended_orders.size()));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "maintenance_history"),
            static_cast<long long>(pub.ended_orders.size()));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + m + "anomalies"), pub.events.at("failure"));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM " + q + "anomalies WHERE source = 'failure'"),
            pub.events.at("failure"));
  // The run-to-failure pump stays failed; the maintained compressor ends operational.
  EXPECT_EQ(query_value(db, "SELECT string_agg(name || ' ' || status, ', ' ORDER BY name) FROM " +
                                m + "assets"),
            "Compressor-W1 operational, HVAC-W1 operational, Molding-W1 operational, Pump-W1 failed");
  std::filesystem::remove_all(dir);
}

TEST(both_layers_e2e, simulator_to_enms_and_mantis_on_postgresql_loses_nothing) {
  postgres_server pg;
  run_and_check_both_layers(pg.conninfo(), "");
}

// The same chain on the real TimescaleDB engine (hypertables, compression settings, real-time
// rollups), in a schema of its own: the engine serves one session at a time, which db init,
// the ingestor and the queries here take in turn.
TEST(both_layers_e2e_timescale, simulator_to_enms_and_mantis_on_timescaledb_loses_nothing) {
  const char* conninfo = std::getenv("FACTORYSIM_TEST_TIMESCALE");
  if (conninfo == nullptr || *conninfo == '\0')
    GTEST_SKIP() << "FACTORYSIM_TEST_TIMESCALE is not set (.ci/run sets it when ../shared/tsdb "
                    "exists)";
  const std::string schema = "fs_both_" + std::to_string(::getpid());
  exec_sql_autocommit(conninfo, "DROP SCHEMA IF EXISTS " + schema + "_mantis CASCADE");
  exec_sql_autocommit(conninfo, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  run_and_check_both_layers(conninfo, schema);
  EXPECT_EQ(query_value(conninfo, "SELECT value FROM " + schema +
                                      ".factorysim_settings WHERE key = 'backend'"), "timescaledb");
  exec_sql_autocommit(conninfo, "DROP SCHEMA IF EXISTS " + schema + "_mantis CASCADE");
  exec_sql_autocommit(conninfo, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

}  // namespace
}  // namespace factorysim::test
