// Issue 11, contract items 1 and 2: the simulator's ground truth (T/truth) and its failure and
// maintenance events go through the real `factorysim ingest` into health_truth, anomalies and
// maintenance_events; none of them is dead-lettered, and a redelivery changes nothing.
#include <gtest/gtest.h>

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

  void run_ingest(long max_messages, const std::vector<std::pair<std::string, std::string>>& msgs) {
    ingest_ = std::make_unique<child_process>(
        std::vector<std::string>{FACTORYSIM_BINARY, "ingest", "--db", db_, "--mqtt-host",
                                 "127.0.0.1", "--mqtt-port", std::to_string(broker_->port()),
                                 "--topic", "t/#", "--client-id", "truth-under-test", "--spool-dir",
                                 (dir_ / "spool").string(), "--flush-ms", "50", "--max-messages",
                                 std::to_string(max_messages)},
        dir_ / ("ingest-" + std::to_string(++runs_) + ".log"));
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

}  // namespace
}  // namespace factorysim::test
