// End-to-end tests of `factorysim ingest` (issue 3): a real mosquitto and a real PostgreSQL
// 15 on free loopback ports, messages published with libmosquitto at QoS 1, the ingestor run
// as the real binary. Rows == messages per table, no duplicates after redelivery, dead
// letters, broker and database restarts mid-run, SIGTERM flushing, kill -9 mid-stream (and
// what it costs when acknowledging on receipt instead of after the commit).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/ingest_harness.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

const std::string m1 = "c0000000-0000-0000-0000-000000000001";
const std::string m2 = "c0000000-0000-0000-0000-000000000002";
const std::string m6 = "c0000000-0000-0000-0000-000000000006";

std::string iso(int second) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2024-06-01T%02d:%02d:%02d.000Z", second / 3600 % 24,
                second / 60 % 60, second % 60);
  return buf;
}

std::string energy(const std::string& machine, int i) {
  return R"({"time":")" + iso(i) + R"(","machine_id":")" + machine + R"(","seq":)" +
         std::to_string(i) + R"(,"power_kw":)" + std::to_string(10 + i % 7) +
         R"(,"energy_kwh":0.0025,"energy_total_kwh":)" + std::to_string(i) +
         R"(,"voltage_v":400.5,"current_a":20.25,"power_factor":0.86,"frequency_hz":50.0})";
}
std::string production(const std::string& machine, int i) {
  return R"({"time":")" + iso(i) + R"(","machine_id":")" + machine + R"(","seq":)" +
         std::to_string(i) +
         R"(,"production_count":3,"production_count_good":2,"production_count_bad":1,)"
         R"("throughput_units_per_hour":1080.5,"operating_mode":"running","speed_percent":90,)"
         R"("shift":"early"})";
}
std::string environmental(const std::string& machine, int i) {
  return R"({"time":")" + iso(i) + R"(","machine_id":")" + machine + R"(","seq":)" +
         std::to_string(i) + R"(,"machine_temp_c":61.5,"pressure_bar":7.25,"vibration_mm_s":2.5})";
}
std::string status(const std::string& machine, int i, bool running) {
  return R"({"time":")" + iso(i) + R"(","machine_id":")" + machine + R"(","seq":)" +
         std::to_string(i) + R"(,"is_running":)" + (running ? "true" : "false") +
         R"(,"operating_mode":")" + (running ? "running" : "idle") +
         R"(","current_power_kw":12.5,"energy_total_kwh":)" + std::to_string(i) + "}";
}
/// fault_id < 0: the same as seq.
std::string event(const std::string& machine, int seq, bool start, int started, int ended,
                  int fault_id = -1) {
  std::string s = R"({"time":")" + iso(start ? started : ended) + R"(","machine_id":")" + machine +
                  R"(","seq":)" + std::to_string(seq) + R"(,"event":")" + (start ? "start" : "end") +
                  R"(","fault_id":)" + std::to_string(fault_id < 0 ? seq : fault_id) +
                  R"(,"anomaly_type":"bearing_wear","severity":"critical","severity_value":0.8,)"
                  R"("metric_name":"vibration_mm_s","signals":["vibration_mm_s","power_kw"],)"
                  R"("started_at":")" + iso(started) + R"(","source":"scenario")";
  if (!start) s += R"(,"ended_at":")" + iso(ended) + R"(")";
  return s + "}";
}

class ingest_pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = std::make_unique<postgres_server>();
    db_ = pg_->conninfo();
    std::string out;
    const int rc = run_command({FACTORYSIM_BINARY, "db", "init", "--db", db_, "--scenario",
                                std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml"},
                               out);
    ASSERT_EQ(rc, 0) << out;
    broker_ = std::make_unique<mosquitto_server>();
    dir_ = std::filesystem::temp_directory_path() /
           ("fs-ingest-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ingest_.reset();
    std::filesystem::remove_all(dir_);
  }

  /// Starts `factorysim ingest` and waits until its subscription is in place.
  void start_ingest(long max_messages, std::string flush_ms = "50", std::string batch_rows = "300",
                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {FACTORYSIM_BINARY, "ingest", "--db", db_, "--mqtt-host",
                                     "127.0.0.1", "--mqtt-port", std::to_string(broker_->port()),
                                     "--topic", "t/#", "--client-id", "ingest-under-test",
                                     "--spool-dir", (dir_ / "spool").string(),
                                     "--status-interval-s", "0.5", "--flush-ms", flush_ms,
                                     "--batch-rows", batch_rows};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (max_messages > 0) {
      argv.push_back("--max-messages");
      argv.push_back(std::to_string(max_messages));
    }
    ingest_ = std::make_unique<child_process>(argv, dir_ / ("ingest-" + std::to_string(++runs_) + ".log"));
    // With a persistent session the queued messages may arrive (and --max-messages end the
    // run) before the SUBACK is logged.
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until && !ingest_->wait_for_log("subscribed", 50ms) &&
           !ingest_->wait_for_log("done:", 50ms)) {
    }
    const auto log = ingest_->log();
    ASSERT_TRUE(log.find("subscribed") != std::string::npos || log.find("done:") != std::string::npos)
        << log;
  }

  /// Waits for the ingestor to exit and expects exit code 0.
  void expect_clean_exit(std::chrono::milliseconds timeout = 60s) {
    const int rc = ingest_->wait(timeout);
    EXPECT_EQ(rc, 0) << ingest_->log();
  }

  long count(const std::string& sql) { return static_cast<long>(query_int(db_, sql)); }

  /// After a restart, redeliveries make "messages received" overshoot, so restart tests
  /// wait for the rows instead of using --max-messages, then stop the ingestor with SIGTERM.
  void wait_rows_then_stop(long energy_rows) {
    const auto until = std::chrono::steady_clock::now() + 90s;
    while (std::chrono::steady_clock::now() < until &&
           (count("SELECT count(*) FROM energy_readings") < energy_rows ||
            count("SELECT count(*) FROM environmental_data") < energy_rows ||
            count("SELECT count(*) FROM production_data") < energy_rows))
      std::this_thread::sleep_for(100ms);
    // Anything still in flight (a late duplicate) lands before the flush at exit.
    std::this_thread::sleep_for(500ms);
    ingest_->signal(SIGTERM);
    expect_clean_exit();
  }

  /// Publishes n messages of each time-series stream for m1 and m6 (seq 1..n) and returns
  /// how many messages that was.
  long publish_series(qos1_publisher& p, int from, int to) {
    long sent = 0;
    for (int i = from; i <= to; ++i) {
      for (const auto* m : {&m1, &m6}) {
        const std::string base = "t/" + (*m == m1 ? std::string("c1") : std::string("c6"));
        p.publish(base + "/energy", energy(*m, i));
        p.publish(base + "/production", production(*m, i));
        p.publish(base + "/environmental", environmental(*m, i));
        sent += 3;
      }
    }
    return sent;
  }

  /// Rows of the three time-series tables together.
  long series_rows() {
    return count(
        "SELECT (SELECT count(*) FROM energy_readings) + (SELECT count(*) FROM"
        " production_data) + (SELECT count(*) FROM environmental_data)");
  }

  /// Runs the ingestor with `--ack ack` until 1,200 of 1,500 messages are committed and the
  /// other 300 wait in its queue (batches of 600 that never age or idle), kills it with
  /// SIGKILL, starts it again with the same client id and publishes one more message per
  /// stream and machine (seq 251): the broker sends redeliveries ahead of it, so once its
  /// rows are in, the tables hold everything that will ever come.
  void kill_9_with_300_messages_queued(const std::string& ack) {
    // durable: the 300 queued are handed over but not acknowledged; received: acknowledged.
    const std::string state =
        std::string("received 1500 new rows 1200 batches 2 rejects 0 (+0) queue 300 unacked ") +
        (ack == "durable" ? "300" : "0") + " ";
    std::unique_ptr<qos1_publisher> p;
    for (int attempt = 1;; ++attempt) {
      start_ingest(0, "600000", "600", {"--ack", ack, "--flush-idle-ms", "0"});
      p = std::make_unique<qos1_publisher>(broker_->host(), broker_->port());
      publish_series(*p, 1, 250);
      ASSERT_TRUE(p->wait_acked(30s));
      if (ingest_->wait_for_log(state, 30s)) break;
      // QoS 1 may deliver a message twice, and then this exact state never comes. Seen once,
      // on a machine running two test suites at once: 1,864 received for 1,500 published.
      // That is not what this test is about: start over on a fresh broker and empty tables.
      // Anything else fails at once.
      const std::string log = ingest_->log();
      const auto at = log.rfind("received ");
      const long received = at == std::string::npos ? 0 : std::stol(log.substr(at + 9));
      ASSERT_TRUE(received > 1500 && attempt < 3)
          << "attempt " << attempt << "\n" << log << "\nbroker log:\n" << broker_->log();
      ingest_->signal(SIGKILL);
      ASSERT_EQ(ingest_->wait(10s), 128 + SIGKILL);
      p.reset();
      broker_ = std::make_unique<mosquitto_server>();
      exec_sql(db_, "TRUNCATE energy_readings, production_data, environmental_data, ingest_rejects");
    }
    EXPECT_EQ(series_rows(), 1200) << ingest_->log();
    ingest_->signal(SIGKILL);
    ASSERT_EQ(ingest_->wait(10s), 128 + SIGKILL);
    start_ingest(0);
    publish_series(*p, 251, 251);
    ASSERT_TRUE(p->wait_acked(30s));
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until &&
           count("SELECT count(*) FROM environmental_data WHERE seq = 251") +
                   count("SELECT count(*) FROM production_data WHERE seq = 251") +
                   count("SELECT count(*) FROM energy_readings WHERE seq = 251") <
               6)
      std::this_thread::sleep_for(50ms);
    ingest_->signal(SIGTERM);
    expect_clean_exit();
  }

  /// Every table holds exactly seq 1..n for m1 and m6, once.
  void expect_series_complete(int n) {
    for (const std::string table : {"energy_readings", "production_data", "environmental_data"}) {
      for (const auto* m : {&m1, &m6}) {
        EXPECT_EQ(count("SELECT count(*) FROM " + table + " WHERE machine_id = '" + *m + "'"), n)
            << table;
        EXPECT_EQ(count("SELECT count(DISTINCT seq) FROM " + table + " WHERE machine_id = '" + *m +
                        "' AND seq BETWEEN 1 AND " + std::to_string(n)),
                  n)
            << table;
      }
    }
  }

  std::unique_ptr<postgres_server> pg_;
  std::string db_;
  std::unique_ptr<mosquitto_server> broker_;
  std::unique_ptr<child_process> ingest_;
  std::filesystem::path dir_;
  int runs_ = 0;
};

TEST_F(ingest_pipeline, rows_equal_messages_per_table) {
  const int n = 400;
  long expected = 3L * 2 * n + 2 + 4;
  // The broker logs every PUBLISH it receives and sends, to tell, if more arrive than were
  // published, which side sent them twice.
  broker_ = std::make_unique<mosquitto_server>(mosquitto_server_options{{}, {"log_type debug"}});
  const auto summary_file = dir_ / "summary.json";
  start_ingest(expected, "50", "300", {"--summary-json", summary_file.string()});
  qos1_publisher p(broker_->host(), broker_->port());
  EXPECT_EQ(publish_series(p, 1, n), 3L * 2 * n);
  p.publish("t/c1/status", status(m1, 1, true));
  p.publish("t/c1/status", status(m1, 2, false));  // the newer state must win
  p.publish("t/c1/events", event(m1, 1, true, 10, 0));
  p.publish("t/c1/events", event(m1, 2, false, 10, 70, 1));  // seq per stream, as published
  p.publish("t/c6/events", event(m6, 2, true, 20, 0));  // still active
  p.publish("t/c6/events", event(m6, 3, false, 30, 40));  // end without a seen start
  ASSERT_TRUE(p.wait_acked(30s));
  expect_clean_exit();
  expect_series_complete(n);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0) << ingest_->log();
  // Values survive the binary round trip exactly.
  EXPECT_EQ(query_value(db_, "SELECT power_kw::text || ' ' || energy_total_kwh || ' ' || voltage_v"
                             " FROM energy_readings WHERE machine_id = '" + m1 + "' AND seq = 5"),
            "15 5 400.5");
  EXPECT_EQ(query_value(db_, "SELECT operating_mode::text || ' ' || shift || ' ' || production_count_bad"
                             " FROM production_data WHERE machine_id = '" + m6 + "' AND seq = 7"),
            "running early 1");
  EXPECT_EQ(query_value(db_, "SELECT time::text FROM energy_readings WHERE machine_id = '" + m1 +
                             "' AND seq = 61"),
            "2024-06-01 00:01:01+00");
  // machine_status: one row, the newest message.
  EXPECT_EQ(query_value(db_, "SELECT is_running::text || ' ' || operating_mode || ' ' || seq"
                             " FROM machine_status WHERE machine_id = '" + m1 + "'"),
            "false idle 2");
  // anomalies: start+end merged; open fault open; end-only fault closed.
  EXPECT_EQ(count("SELECT count(*) FROM anomalies"), 3);
  EXPECT_EQ(query_value(db_, "SELECT resolved_at - detected_at FROM anomalies WHERE machine_id = '" +
                             m1 + "'"),
            "00:01:00");
  EXPECT_EQ(count("SELECT count(*) FROM anomalies WHERE machine_id = '" + m6 +
                  "' AND resolved_at IS NULL AND fault_id = 2"),
            1);
  EXPECT_EQ(query_value(db_, "SELECT array_to_string(signals, ',') || ' ' || severity FROM anomalies"
                             " WHERE fault_id = 3"),
            "vibration_mm_s,power_kw critical");
  // QoS 1 is at least once: the broker may hand a message over twice (seen twice in CI, on
  // one connection each, no reconnect in the broker's log; cause outside the ingestor not yet
  // found, the broker's debug log below tells whether the publisher or the broker sent the
  // second copy). What the ingestor owes: the rows above are exact, and every message beyond
  // the published ones is counted as a duplicate by its seq accounting, none as lost.
  std::ifstream in(summary_file);
  ASSERT_TRUE(in.good()) << ingest_->log();
  const auto summary = nlohmann::json::parse(in);
  const long received = summary.at("received").get<long>();
  EXPECT_GE(received, expected) << ingest_->log();
  EXPECT_EQ(summary.at("lost").get<long>(), 0) << ingest_->log();
  EXPECT_EQ(summary.at("duplicates").get<long>(), received - expected)
      << ingest_->log() << "\nbroker log:\n" << broker_->log();
  if (received != expected) {
    const auto log = broker_->log();
    const auto lines = [&log](const std::string& what) {
      long k = 0;
      for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++k;
      return k;
    };
    std::printf("note: %ld messages published, %ld PUBLISH received by the broker, %ld sent by it"
                " to the ingestor, %ld received by the ingestor\n",
                expected, lines("Received PUBLISH from auto-"),
                lines("Sending PUBLISH to ingest-under-test"), received);
  }
}

TEST_F(ingest_pipeline, redelivered_messages_are_not_duplicated) {
  const int n = 200;
  const long per_pass = 3L * 2 * n + 2;
  start_ingest(2 * per_pass);
  qos1_publisher p(broker_->host(), broker_->port());
  for (int pass = 0; pass < 2; ++pass) {
    publish_series(p, 1, n);
    p.publish("t/c1/events", event(m1, 1, true, 10, 0));
    p.publish("t/c1/events", event(m1, 1, false, 10, 70));
  }
  ASSERT_TRUE(p.wait_acked(30s));
  expect_clean_exit();
  expect_series_complete(n);
  EXPECT_EQ(count("SELECT count(*) FROM anomalies"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0);
  // The default optimistic writer met the duplicates and redid those batches staged.
  EXPECT_NE(ingest_->log().find("batches redone staged"), std::string::npos) << ingest_->log();
  EXPECT_EQ(ingest_->log().find(" 0 batches redone staged"), std::string::npos) << ingest_->log();
  // Counted as stored, but only the first copy made new rows.
  EXPECT_NE(ingest_->log().find("stored " + std::to_string(2 * per_pass) + " (" +
                                std::to_string(3 * 2 * n + 1) + " new rows)"),
            std::string::npos)
      << ingest_->log();
}

TEST_F(ingest_pipeline, malformed_payloads_are_dead_lettered_and_the_rest_is_intact) {
  struct bad {
    std::string topic;
    std::string payload;
    std::string reason;
  };
  const std::vector<bad> bads = {
      {"t/c1/energy", "not json at all", "not_json"},
      {"t/c1/energy", "[1,2,3]", "not_object"},
      {"t/c1/energy", R"({"time":")" + iso(1) + R"(","machine_id":")" + m1 + R"(","power_kw":"high"})",
       "wrong_type"},
      {"t/c1/energy", R"({"time":")" + iso(1) + R"(","machine_id":")" + m1 + R"(","power_kw":NaN})",
       "non_finite"},
      {"t/c1/energy", R"({"time":")" + iso(1) + R"(","machine_id":"c0000000-0000-0000-0000-00000000abcd","power_kw":1})",
       "unknown_machine"},
      {"t/c1/energy", R"({"time":"1970-01-01T00:00:00Z","machine_id":")" + m1 + R"(","power_kw":1})",
       "time_out_of_range"},
      {"t/c1/energy", R"({"time":"yesterday","machine_id":")" + m1 + R"(","power_kw":1})", "bad_time"},
      {"t/c1/energy", std::string(70 * 1024, ' ') + "{}", "oversized"},
      {"t/c1/voltage", energy(m1, 1), "unknown_stream"},
      {"t/c1/energy", R"({"machine_id":")" + m1 + R"("})", "missing_field"},
      {"t/c1/production", R"({"time":")" + iso(1) + R"(","machine_id":")" + m1 +
                              R"(","operating_mode":"dancing"})",
       "invalid_value"},
      {"t/c1/energy", std::string("{\"bytes\":\"\xff\xfe\"}"), "not_json"},  // invalid UTF-8
  };
  const int n = 50;
  start_ingest(3L * 2 * n + static_cast<long>(bads.size()));
  qos1_publisher p(broker_->host(), broker_->port());
  // The bad ones sit between valid messages, in the same batches.
  std::size_t next_bad = 0;
  for (int i = 1; i <= n; ++i) {
    publish_series(p, i, i);
    if (i % 4 == 0 && next_bad < bads.size()) {
      p.publish(bads[next_bad].topic, bads[next_bad].payload);
      ++next_bad;
    }
  }
  while (next_bad < bads.size()) {
    p.publish(bads[next_bad].topic, bads[next_bad].payload);
    ++next_bad;
  }
  ASSERT_TRUE(p.wait_acked(30s));
  expect_clean_exit();
  expect_series_complete(n);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), static_cast<long>(bads.size()))
      << ingest_->log();
  for (const auto& b : bads) {
    // The raw bytes are kept exactly, with topic and reason; a payload too large to keep is
    // stored as its first 4 KiB, with its size and digest.
    std::string hex;
    char buf[3];
    for (unsigned char c : b.payload) {
      std::snprintf(buf, sizeof buf, "%02x", c);
      hex += buf;
    }
    const auto rows = query_rows(
        db_,
        "SELECT reason, topic, detail, payload_truncated, payload_bytes, "
        "payload = substr(decode('" + hex + "', 'hex'), 1, 4096) FROM ingest_rejects "
        "WHERE payload_sha256 = sha256(decode('" + hex + "', 'hex'))");
    ASSERT_EQ(rows.size(), 1u) << b.reason;
    EXPECT_EQ(rows[0][0].value_or(""), b.reason) << rows[0][2].value_or("");
    EXPECT_EQ(rows[0][1].value_or(""), b.topic);
    EXPECT_FALSE(rows[0][2].value_or("").empty());
    EXPECT_EQ(rows[0][3].value_or(""), b.reason == "oversized" ? "t" : "f");
    EXPECT_EQ(rows[0][4].value_or(""), std::to_string(b.payload.size()));
    EXPECT_EQ(rows[0][5].value_or(""), "t");
  }
  EXPECT_NE(ingest_->log().find("rejected " + std::to_string(bads.size())), std::string::npos)
      << ingest_->log();
}

TEST_F(ingest_pipeline, broker_restart_mid_run_loses_and_duplicates_nothing) {
  const int n = 300;
  start_ingest(0);
  {
    qos1_publisher p(broker_->host(), broker_->port());
    publish_series(p, 1, n);
    ASSERT_TRUE(p.wait_acked(30s));
  }
  broker_->stop();
  broker_->start();
  {
    // Published before the ingestor is back: the broker holds them for its session.
    qos1_publisher p(broker_->host(), broker_->port());
    publish_series(p, n + 1, 2 * n);
    ASSERT_TRUE(p.wait_acked(30s));
  }
  wait_rows_then_stop(2L * 2 * n);
  expect_series_complete(2 * n);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0);
}

TEST_F(ingest_pipeline, database_restart_mid_run_spools_and_replays_in_order) {
  const int n = 200;
  start_ingest(0);
  qos1_publisher p(broker_->host(), broker_->port());
  publish_series(p, 1, n);
  ASSERT_TRUE(p.wait_acked(30s));
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (count("SELECT count(*) FROM energy_readings") < 2 * n &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  pg_->stop();
  publish_series(p, n + 1, 2 * n);
  ASSERT_TRUE(p.wait_acked(30s));
  ASSERT_TRUE(ingest_->wait_for_log("spooling", 30s)) << ingest_->log();
  pg_->start();
  ASSERT_TRUE(ingest_->wait_for_log("spool replayed", 60s)) << ingest_->log();
  publish_series(p, 2 * n + 1, 3 * n);
  ASSERT_TRUE(p.wait_acked(30s));
  wait_rows_then_stop(2L * 3 * n);
  expect_series_complete(3 * n);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0);
  // Nothing left to replay (the lock and the database the spool belongs to stay).
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "spool"))
    EXPECT_NE(e.path().extension(), ".batch") << e.path();
}

TEST_F(ingest_pipeline, sigterm_flushes_every_batch_and_the_session_keeps_the_rest) {
  const int n = 150;
  // Batches that never fill, never age and never idle: only the shutdown flush stores them.
  start_ingest(0, "600000", "1000000", {"--flush-idle-ms", "0"});
  qos1_publisher p(broker_->host(), broker_->port());
  publish_series(p, 1, n);
  ASSERT_TRUE(p.wait_acked(30s));
  ASSERT_TRUE(ingest_->wait_for_log("received " + std::to_string(3 * 2 * n) + " ", 30s))
      << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 0);
  ingest_->signal(SIGTERM);
  expect_clean_exit();
  expect_series_complete(n);
  // While no ingestor runs, the broker queues for the persistent session.
  publish_series(p, n + 1, 2 * n);
  ASSERT_TRUE(p.wait_acked(30s));
  start_ingest(3L * 2 * n);
  expect_clean_exit();
  expect_series_complete(2 * n);
}

// ---- kill -9 (issue 3: "say what kill -9 can lose"; the answer is now: nothing) ---------

TEST_F(ingest_pipeline, kill_9_loses_nothing_with_acknowledgement_after_commit) {
  kill_9_with_300_messages_queued("durable");
  expect_series_complete(251);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0);
}

TEST_F(ingest_pipeline, kill_9_loses_the_queue_with_acknowledgement_on_receipt) {
  // The previous test's counterpart: it shows that test can fail. Acknowledged on receipt,
  // the 300 queued messages (seq 201..250) are gone with the process.
  kill_9_with_300_messages_queued("received");
  for (const std::string table : {"energy_readings", "production_data", "environmental_data"}) {
    for (const auto* m : {&m1, &m6}) {
      EXPECT_EQ(count("SELECT count(*) FROM " + table + " WHERE machine_id = '" + *m + "'"), 201)
          << table;
      EXPECT_EQ(count("SELECT count(*) FROM " + table + " WHERE machine_id = '" + *m +
                      "' AND seq BETWEEN 201 AND 250"),
                0)
          << table;
    }
  }
}

TEST_F(ingest_pipeline, kill_9_three_times_while_publishing_loses_and_duplicates_nothing) {
  // Default settings (acknowledgement after commit). The publisher keeps going until the
  // third restart, so every kill lands mid-stream: messages in the socket, in the queue, in a
  // commit, acknowledged or not. The kills are paced by committed rows, not by time.
  start_ingest(0);
  std::atomic<bool> kills_done{false};
  std::atomic<int> published_to{0};
  std::atomic<bool> publisher_ok{true};
  std::thread publisher([&] {
    qos1_publisher p(broker_->host(), broker_->port());
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    for (int i = 1;; i += 10) {
      publish_series(p, i, i + 9);
      published_to = i + 9;
      if ((kills_done && i + 9 >= 1500) || std::chrono::steady_clock::now() > give_up) break;
      std::this_thread::sleep_for(2ms);  // spreads the stream over the kills; not a timing check
    }
    publisher_ok = p.wait_acked(60s);
  });
  for (int kill = 1; kill <= 3; ++kill) {
    const long before = series_rows();
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (series_rows() < before + 1500 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(10ms);
    EXPECT_GE(series_rows(), before + 1500) << ingest_->log();
    ingest_->signal(SIGKILL);
    EXPECT_EQ(ingest_->wait(10s), 128 + SIGKILL);
    start_ingest(0);
  }
  kills_done = true;
  publisher.join();
  ASSERT_TRUE(publisher_ok);
  const int n = published_to;
  wait_rows_then_stop(2L * n);
  expect_series_complete(n);
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 0);
}

}  // namespace
}  // namespace factorysim::test
