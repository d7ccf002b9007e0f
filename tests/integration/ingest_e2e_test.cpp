// Issue 3, end to end with the real simulator: `factorysim run --mode backfill` on the demo
// plant -> mosquitto -> `factorysim ingest` -> PostgreSQL. Every published message is one
// row: counts per table and per machine equal what the same run writes with --output, and
// each (machine, stream) holds seq 1..n with no gap and no repeat.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/ingest_harness.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

TEST(ingest_e2e, simulator_backfill_lands_row_for_message) {
  postgres_server pg;
  const std::string db = pg.conninfo();
  const std::string scenario = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario", scenario}, out), 0)
      << out;
  mosquitto_server broker;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fs-ingest-e2e-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::vector<std::string> window = {"--mode", "backfill", "--from", "2024-06-01T00:00:00Z",
                                           "--to", "2024-06-01T04:00:00Z", "--no-progress",
                                           "--control", "off"};

  // What the run publishes, from the deterministic file output of the same run.
  std::vector<std::string> file_run = {FACTORYSIM_BINARY, "run", scenario, "--output",
                                       (dir / "expected.tsv").string()};
  file_run.insert(file_run.end(), window.begin(), window.end());
  ASSERT_EQ(run_command(file_run, out), 0) << out;
  std::map<std::pair<std::string, std::string>, long> expected;  // (stream, machine) -> n
  std::set<std::tuple<std::string, std::string, std::string>> faults;
  long series_messages = 0;
  {
    std::ifstream in(dir / "expected.tsv");
    std::string line;
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      ASSERT_NE(tab, std::string::npos);
      const std::string topic = line.substr(0, tab);
      const auto j = nlohmann::json::parse(line.substr(tab + 1));
      const std::string stream = topic.substr(topic.rfind('/') + 1);
      const std::string machine = j.at("machine_id");
      ++expected[{stream, machine}];
      if (stream == "events")
        faults.emplace(machine, j.at("anomaly_type").get<std::string>(),
                       j.at("started_at").get<std::string>());
      if (stream == "energy" || stream == "production" || stream == "environmental")
        ++series_messages;
    }
  }
  ASSERT_GT(series_messages, 10000);

  child_process ingest({FACTORYSIM_BINARY, "ingest", "--db", db, "--mqtt-port",
                        std::to_string(broker.port()), "--client-id", "e2e-ingest", "--spool-dir",
                        (dir / "spool").string(), "--status-interval-s", "1"},
                       dir / "ingest.log");
  ASSERT_TRUE(ingest.wait_for_log("subscribed", 20s)) << ingest.log();

  std::vector<std::string> mqtt_run = {FACTORYSIM_BINARY, "run", scenario, "--mqtt-port",
                                       std::to_string(broker.port())};
  mqtt_run.insert(mqtt_run.end(), window.begin(), window.end());
  ASSERT_EQ(run_command(mqtt_run, out, 300s), 0) << out;

  const auto series_rows = [&] {
    return query_int(db, "SELECT (SELECT count(*) FROM energy_readings) + "
                         "(SELECT count(*) FROM production_data) + "
                         "(SELECT count(*) FROM environmental_data)");
  };
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (series_rows() < series_messages && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(500ms);
  ingest.signal(SIGTERM);
  ASSERT_EQ(ingest.wait(60s), 0) << ingest.log();

  EXPECT_EQ(series_rows(), series_messages) << ingest.log();
  const std::map<std::string, std::string> table_of = {{"energy", "energy_readings"},
                                                       {"production", "production_data"},
                                                       {"environmental", "environmental_data"}};
  for (const auto& [key, n] : expected) {
    const auto& [stream, machine] = key;
    const auto t = table_of.find(stream);
    if (t == table_of.end()) continue;
    const auto row = query_rows(db, "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM " +
                                        t->second + " WHERE machine_id = '" + machine + "'");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(std::stol(row[0][0].value_or("0")), n) << stream << ' ' << machine;
    EXPECT_EQ(std::stol(row[0][1].value_or("0")), n) << stream << ' ' << machine;
    EXPECT_EQ(row[0][2].value_or(""), "1") << stream << ' ' << machine;
    EXPECT_EQ(std::stol(row[0][3].value_or("0")), n) << stream << ' ' << machine;
  }
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM machine_status"), 7);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM anomalies"), static_cast<long long>(faults.size()));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM ingest_rejects"), 0)
      << query_rows(db, "SELECT reason || ': ' || detail FROM ingest_rejects LIMIT 1").size();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace factorysim::test
