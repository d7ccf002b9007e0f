// Issue 11, the data layers through the real `factorysim ingest`: the simulator's ground truth
// (T/truth, contract item 1) and its failure and maintenance events (item 2) into
// health_truth, anomalies and maintenance_events, none dead-lettered, a redelivery changing
// nothing; machine_status following the readings, once per batch and machine.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "tests/integration/ingest_harness.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

const std::string m1 = "c0000000-0000-0000-0000-000000000001";

std::string head(const std::string& time, int seq) {
  return R"({"time":")" + time + R"(","machine_id":")" + m1 + R"(","seq":)" + std::to_string(seq);
}

std::string truth(const std::string& time, int seq, double health, bool failed) {
  return head(time, seq) + R"(,"health_index":)" + std::to_string(health) +
         R"(,"limiting_component":"bearing","rul_operating_h":)" + (failed ? "0" : "812.5") +
         R"(,"rul_calendar_h":)" + (failed ? "0" : "1300") + R"(,"failed":)" +
         (failed ? "true" : "false") +
         R"(,"active_faults":["bearing_wear"],"faulted_signals":["vibration_mm_s","power_kw"],)"
         R"("health_bearing":)" +
         std::to_string(health) +
         R"(,"health_motor":0.875,"a_key_from_the_future":[1,{"x":null}]})";
}

class ingest_truth : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = std::make_unique<postgres_server>();
    db_ = pg_->conninfo();
    std::string out;
    ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db_, "--scenario",
                           std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml"},
                          out),
              0)
        << out;
    broker_ = std::make_unique<mosquitto_server>();
    dir_ =
        std::filesystem::temp_directory_path() / ("fs-ingest-truth-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ingest_.reset();
    std::filesystem::remove_all(dir_);
  }

  void run_ingest(long max_messages, const std::vector<std::pair<std::string, std::string>>& msgs,
                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{FACTORYSIM_BINARY,
                                  "ingest",
                                  "--db",
                                  db_,
                                  "--mqtt-host",
                                  "127.0.0.1",
                                  "--mqtt-port",
                                  std::to_string(broker_->port()),
                                  "--topic",
                                  "t/#",
                                  "--client-id",
                                  "truth-under-test",
                                  "--spool-dir",
                                  (dir_ / "spool").string(),
                                  "--max-messages",
                                  std::to_string(max_messages)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (extra.empty()) argv.insert(argv.end(), {"--flush-ms", "50"});
    ingest_ = std::make_unique<child_process>(
        argv, dir_ / ("ingest-" + std::to_string(++runs_) + ".log"));
    ASSERT_TRUE(ingest_->wait_for_log("subscribed", 20s)) << ingest_->log();
    qos1_publisher p(broker_->host(), broker_->port());
    for (const auto& [topic, payload] : msgs) p.publish(topic, payload);
    ASSERT_TRUE(p.wait_acked(30s));
    EXPECT_EQ(ingest_->wait(60s), 0) << ingest_->log();
  }

  std::string value(const std::string& sql) { return query_value(db_, sql); }
  long count(const std::string& sql) { return static_cast<long>(query_int(db_, sql)); }

  std::unique_ptr<postgres_server> pg_;
  std::string db_;
  std::unique_ptr<mosquitto_server> broker_;
  std::unique_ptr<child_process> ingest_;
  std::filesystem::path dir_;
  int runs_ = 0;
};

TEST_F(ingest_truth, truth_failure_and_maintenance_are_stored_and_never_dead_lettered) {
  const std::vector<std::pair<std::string, std::string>> msgs = {
      {"t/c1/truth", truth("2024-06-01T00:00:00.000Z", 1, 0.25, false)},
      {"t/c1/truth", truth("2024-06-01T00:01:00.000Z", 2, 0.0, true)},
      {"t/c1/events", head("2024-06-01T00:01:00.000Z", 1) +
                          R"(,"event":"failure","component":"bearing",)"
                          R"("anomaly_type":"bearing_failure","severity":"critical"})"},
      {"t/c1/events", head("2024-06-01T00:02:00.000Z", 2) +
                          R"(,"event":"maintenance_start","maintenance_type":"corrective",)"
                          R"("component":"bearing","health_before":0.0,"work_order":"WO-7-1",)"
                          R"("duration_h":2})"},
      {"t/c1/events", head("2024-06-01T02:02:00.000Z", 3) +
                          R"(,"event":"maintenance_end","maintenance_type":"corrective",)"
                          R"("component":"bearing","health_before":0.0,"health_after":1.0,)"
                          R"("work_order":"WO-7-1","duration_h":2})"},
      // A preventive order still open, for another component.
      {"t/c1/events", head("2024-06-01T03:00:00.000Z", 4) +
                          R"(,"event":"maintenance_start","maintenance_type":"preventive",)"
                          R"("component":"motor","health_before":0.875,"work_order":"WO-7-2"})"},
  };
  run_ingest(static_cast<long>(msgs.size()), msgs);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0) << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM health_truth"), 2);
  EXPECT_EQ(
      value("SELECT health_index || ' ' || limiting_component || ' ' || rul_operating_h ||"
            " ' ' || rul_calendar_h || ' ' || failed || ' ' || array_to_string(active_faults, ',')"
            " || ' ' || array_to_string(faulted_signals, ',') || ' ' || seq"
            " FROM health_truth WHERE seq = 1"),
      "0.25 bearing 812.5 1300 false bearing_wear vibration_mm_s,power_kw 1");
  EXPECT_EQ(value("SELECT component_health::text FROM health_truth WHERE seq = 1"),
            R"({"motor": 0.875, "bearing": 0.25})");
  EXPECT_EQ(value("SELECT failed::text FROM health_truth WHERE time = '2024-06-01T00:01:00Z'"),
            "true");
  // The failure is an EnMS anomaly, closed by the corrective maintenance that repaired it.
  EXPECT_EQ(value("SELECT anomaly_type || ' ' || severity || ' ' || detected_at || ' ' ||"
                  " coalesce(resolved_at::text, 'open') || ' ' || source FROM anomalies"),
            "bearing_failure critical 2024-06-01 00:01:00+00 2024-06-01 02:02:00+00 failure");
  EXPECT_EQ(
      value("SELECT string_agg(work_order || ' ' || maintenance_type || ' ' || component || ' '"
            " || started_at || ' ' || coalesce(ended_at::text, 'open') || ' ' ||"
            " coalesce(health_after::text, '-') || ' ' || coalesce(duration_h::text, '-'),"
            " '; ' ORDER BY work_order) FROM maintenance_events"),
      "WO-7-1 corrective bearing 2024-06-01 00:02:00+00 2024-06-01 02:02:00+00 1 2; "
      "WO-7-2 preventive motor 2024-06-01 03:00:00+00 open - -");

  // The same messages again (a replay): nothing changes.
  const auto before = value(
      "SELECT (SELECT count(*) FROM health_truth) || ' ' || (SELECT count(*) FROM anomalies) ||"
      " ' ' || (SELECT count(*) FROM maintenance_events) || ' ' ||"
      " (SELECT max(updated_at) FROM maintenance_events)");
  run_ingest(static_cast<long>(msgs.size()), msgs);
  EXPECT_EQ(value("SELECT (SELECT count(*) FROM health_truth) || ' ' || (SELECT count(*) FROM"
                  " anomalies) || ' ' || (SELECT count(*) FROM maintenance_events) || ' ' ||"
                  " (SELECT max(updated_at) FROM maintenance_events)"),
            before);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0) << ingest_->log();
}

TEST_F(ingest_truth, maintenance_end_before_failure_does_not_resolve_it) {
  run_ingest(2,
             {{"t/c1/events", head("2024-06-01T01:00:00.000Z", 1) +
                                  R"(,"event":"maintenance_end","maintenance_type":"preventive",)"
                                  R"("work_order":"WO-1"})"},
              {"t/c1/events",
               head("2024-06-01T02:00:00.000Z", 2) + R"(,"event":"failure","component":"seal"})"}});
  EXPECT_EQ(count("SELECT count(*) FROM anomalies WHERE anomaly_type = 'seal_failure'"
                  " AND resolved_at IS NULL"),
            1);
  // An end without its start still records the order (component: the whole machine).
  EXPECT_EQ(value("SELECT component || ' ' || coalesce(started_at::text, 'unknown') FROM"
                  " maintenance_events"),
            "all unknown");
}

std::string energy(int second, double power_kw, double total_kwh) {
  char t[40];
  std::snprintf(t, sizeof t, "2024-06-01T00:%02d:%02d.000Z", second / 60, second % 60);
  return head(t, second) + R"(,"power_kw":)" + std::to_string(power_kw) +
         R"(,"energy_kwh":0.01,"energy_total_kwh":)" + std::to_string(total_kwh) + "}";
}
std::string status(int second, bool running, double power_kw) {
  char t[40];
  std::snprintf(t, sizeof t, "2024-06-01T00:%02d:%02d.000Z", second / 60, second % 60);
  return head(t, second) + R"(,"is_running":)" + (running ? "true" : "false") +
         R"(,"operating_mode":")" + (running ? "running" : "idle") + R"(","current_power_kw":)" +
         std::to_string(power_kw) + R"(,"energy_total_kwh":1})";
}

// Issue 11: machine_status.current_power_kw showed the first reading after start (13.9 kW
// while the compressor drew 50 kW): T/status is published on changes only.
TEST_F(ingest_truth, machine_status_follows_the_newest_reading_once_per_batch) {
  std::vector<std::pair<std::string, std::string>> msgs = {{"t/c1/status", status(1, true, 13.9)}};
  for (int s = 2; s <= 101; ++s)
    msgs.emplace_back("t/c1/energy", energy(s, 40.0 + s % 11, 100.0 + s));
  // One batch for everything: large batches that never age, flushed when the run ends.
  run_ingest(static_cast<long>(msgs.size()), msgs,
             {"--batch-rows", "100000", "--flush-ms", "600000", "--flush-idle-ms", "0"});
  const auto log = ingest_->log();
  ASSERT_NE(log.find(", 1 transactions"), std::string::npos) << log;
  // s = 101: 40 + 101 % 11 = 42 kW; meter 201 kWh.
  EXPECT_EQ(
      value("SELECT current_power_kw || ' ' || energy_total_kwh || ' ' || last_reading_at || ' '"
            " || status_time || ' ' || is_running FROM v_machines_current_status"
            " WHERE machine_id = '" +
            m1 + "'"),
      "42 201 2024-06-01 00:01:41+00 2024-06-01 00:00:01+00 true");
  // One write of the row for the status and one for the 100 readings, not one per reading.
  // The ingestor's server process reports its statistics when it ends, shortly after the
  // ingestor exits: wait for that report.
  const std::string writes =
      "SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname = 'machine_status'";
  for (const auto until = std::chrono::steady_clock::now() + 20s;
       count(writes) == 0 && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(count(writes), 2);

  // A late, older reading changes nothing; an older status changes the state, not the power;
  // a newer status sets the power.
  run_ingest(2, {{"t/c1/energy", energy(50, 99, 150)}, {"t/c1/status", status(60, false, 7)}});
  EXPECT_EQ(value("SELECT current_power_kw || ' ' || energy_total_kwh || ' ' || is_running"
                  " FROM machine_status"),
            "42 201 false");
  run_ingest(1, {{"t/c1/status", status(120, true, 55.5)}});
  EXPECT_EQ(value("SELECT current_power_kw || ' ' || status || ' ' || last_reading_at"
                  " FROM v_machines_current_status WHERE machine_id = '" +
                  m1 + "'"),
            "55.5 running 2024-06-01 00:01:41+00");  // last_seen: when the ingestor wrote it
  // A machine heard only through readings has a row without a status time.
  const std::string m2 = "c0000000-0000-0000-0000-000000000002";
  run_ingest(1, {{"t/c2/energy", R"({"time":"2024-06-01T00:00:05Z","machine_id":")" + m2 +
                                     R"(","power_kw":150,"energy_total_kwh":3})"}});
  EXPECT_EQ(value("SELECT current_power_kw || ' ' || coalesce(time::text, 'no status') FROM"
                  " machine_status WHERE machine_id = '" +
                  m2 + "'"),
            "150 no status");
}

// Issue 11: with the MANTIS layer, every measured signal of a reading is one narrow row of
// mantis.sensor_data_raw in the EnMS rows' transaction, and failures and maintenance become
// system_events, work orders and maintenance history.
TEST_F(ingest_truth, mantis_layer_gets_narrow_rows_and_maintenance_records) {
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db_, "--scenario",
                         std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml",
                         "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  std::vector<std::pair<std::string, std::string>> msgs;
  for (int s = 1; s <= 30; ++s) {
    char t[40];
    std::snprintf(t, sizeof t, "2024-06-01T00:00:%02d.000Z", s);
    msgs.emplace_back("t/c1/energy", energy(s, 40 + s, 100 + s));  // 3 keys measured
    msgs.emplace_back("t/c1/production",
                      head(t, s) + R"(,"production_count":2,"throughput_units_per_hour":720})");
    msgs.emplace_back("t/c1/environmental",
                      head(t, s) + R"(,"vibration_mm_s":2.5,"pressure_bar":7.1,"cop":3})");
  }
  msgs.emplace_back("t/c1/events", head("2024-06-01T00:01:00.000Z", 31) +
                                       R"(,"event":"failure","component":"bearing"})");
  msgs.emplace_back("t/c1/events",
                    head("2024-06-01T00:02:00.000Z", 32) +
                        R"(,"event":"maintenance_start","maintenance_type":"corrective",)"
                        R"("component":"bearing","health_before":0,"work_order":"WO-9"})");
  msgs.emplace_back("t/c1/events",
                    head("2024-06-01T01:02:00.000Z", 33) +
                        R"(,"event":"maintenance_end","maintenance_type":"corrective",)"
                        R"("component":"bearing","health_after":1,"work_order":"WO-9",)"
                        R"("duration_h":1})");
  run_ingest(static_cast<long>(msgs.size()), msgs);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0) << ingest_->log();
  // 30 x (3 energy + 2 production + 3 environmental) measured values, each once.
  EXPECT_EQ(count("SELECT count(*) FROM mantis.sensor_data_raw"), 30 * 8);
  EXPECT_EQ(count("SELECT count(*) FROM mantis.sensor_data_raw r JOIN mantis.sensors s ON"
                  " s.id = r.sensor_id WHERE s.asset_id = '" +
                  m1 + "'"),
            30 * 8);
  // `cop` is no compressor key: registered on first sight, not dropped.
  EXPECT_EQ(count("SELECT count(*) FROM mantis.sensors WHERE asset_id = '" + m1 +
                  "' AND signal_key = 'cop' AND sensor_type = 'other'"),
            1);
  // The narrow values are the EnMS values.
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings e JOIN mantis.sensor_data_raw r ON"
                  " r.time = e.time AND r.sensor_id = mantis.sensor_uuid(e.machine_id, 'power_kw')"
                  " AND r.value = e.power_kw AND r.quality = 192"),
            30);
  EXPECT_EQ(value("SELECT string_agg(event_type || ' ' || severity, ', ' ORDER BY time) FROM"
                  " mantis.system_events"),
            "failure critical, maintenance_start info, maintenance_end info");
  EXPECT_EQ(
      value("SELECT work_order_code || ' ' || work_type || ' ' || status || ' ' || priority ||"
            " ' ' || actual_start || ' ' || actual_end FROM mantis.work_orders"),
      "WO-9 corrective completed high 2024-06-01 00:02:00+00 2024-06-01 01:02:00+00");
  EXPECT_EQ(value("SELECT maintenance_type || ' ' || component || ' ' || health_after || ' ' ||"
                  " duration_h || ' ' || completed_at FROM mantis.maintenance_history"),
            "corrective bearing 1 1 2024-06-01 01:02:00+00");
  EXPECT_EQ(value("SELECT anomaly_type || ' ' || resolved_at FROM mantis.anomalies"),
            "bearing_failure 2024-06-01 01:02:00+00");
  EXPECT_EQ(value("SELECT status FROM mantis.assets WHERE id = '" + m1 + "'"), "operational");
  // A replay changes nothing in either layer.
  const std::string state =
      "SELECT (SELECT count(*) FROM mantis.sensor_data_raw) || ' ' || (SELECT count(*) FROM"
      " mantis.system_events) || ' ' || (SELECT count(*) FROM mantis.maintenance_history) || ' ' ||"
      " (SELECT max(updated_at) FROM mantis.work_orders) || ' ' || (SELECT status FROM"
      " mantis.assets WHERE id = '" +
      m1 + "') || ' ' || (SELECT count(*) FROM energy_readings)";
  const std::string before = value(state);
  run_ingest(static_cast<long>(msgs.size()), msgs);
  EXPECT_EQ(value(state), before);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0) << ingest_->log();
}

}  // namespace
}  // namespace factorysim::test
