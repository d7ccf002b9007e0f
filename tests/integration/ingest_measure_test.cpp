// Issue 9: the ingestor's measurement against a real mosquitto and a real PostgreSQL.
// Loss the broker causes is reported exactly as SQL finds it in the tables; duplicates and
// reordering injected on the wire are counted; latencies of stamped messages match what the
// stamps say; /metrics passes promtool; the simulator's stamps leave the payloads unchanged.
#include <gtest/gtest.h>
#include <mqtt_protocol.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/ingest_harness.hpp"
#include "tests/support/http_client.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// An energy message of `machine` with this seq, stamped seq seconds after a fixed start.
std::string energy_payload(const std::string& machine, long seq) {
  char time[40];
  std::snprintf(time, sizeof time, "2024-06-01T%02ld:%02ld:%02ld.000Z", seq / 3600 % 24,
                seq / 60 % 60, seq % 60);
  return std::string("{\"time\":\"") + time + "\",\"machine_id\":\"" + machine +
         "\",\"seq\":" + std::to_string(seq) +
         ",\"power_kw\":1.5,\"energy_kwh\":0.001,\"energy_total_kwh\":1.0,\"voltage_v\":400.0,"
         "\"current_a\":3.0,\"power_factor\":0.9,\"frequency_hz\":50.0}";
}

/// An MQTT 5 QoS 1 publisher (libmosquitto, its own thread) that can add the fs-sched-us /
/// fs-sent-us user properties and waits for every PUBACK.
class v5_publisher {
 public:
  explicit v5_publisher(int port) {
    ensure_mosquitto_lib_init();
    mosq_ = mosquitto_new(nullptr, true, this);
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_publish_v5_callback_set(
        mosq_, [](mosquitto*, void* self, int, int, const mosquitto_property*) {
          ++static_cast<v5_publisher*>(self)->acked_;
        });
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    if (mosquitto_connect_bind_v5(mosq_, "127.0.0.1", port, 30, nullptr, nullptr) !=
        MOSQ_ERR_SUCCESS)
      throw std::runtime_error("v5 publisher cannot connect");
    mosquitto_loop_start(mosq_);
  }
  ~v5_publisher() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }
  void publish(const std::string& topic, const std::string& payload, std::int64_t sched_us = 0,
               std::int64_t sent_us = 0, int qos = 1) {
    mosquitto_property* props = nullptr;
    if (sched_us != 0) {
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "fs-sched-us",
                                         std::to_string(sched_us).c_str());
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "fs-sent-us",
                                         std::to_string(sent_us).c_str());
    }
    const int rc = mosquitto_publish_v5(mosq_, nullptr, topic.c_str(),
                                        static_cast<int>(payload.size()), payload.data(), qos,
                                        false, props);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error("publish failed");
    if (qos > 0) ++sent_;
  }
  bool wait_acked(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (acked_ >= sent_) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  mosquitto* mosq_ = nullptr;
  std::atomic<long> acked_{0};
  long sent_ = 0;
};

/// A database with the demo plant's machines, a broker, and a folder.
class ingest_measure : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fs-measure-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = pg_.conninfo();
    std::string out;
    ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db_, "--scenario", scenario()},
                          out),
              0)
        << out;
    for (const auto& r : query_rows(db_, "SELECT id::text FROM machines ORDER BY 1 LIMIT 2"))
      machines_.push_back(r.at(0).value());
    ASSERT_EQ(machines_.size(), 2u);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string scenario() {
    return std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
  }

  std::unique_ptr<child_process> start_ingest(const mosquitto_server& broker,
                                              std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {FACTORYSIM_BINARY, "ingest", "--db", db_, "--mqtt-port",
                                     std::to_string(broker.port()), "--client-id", "measure",
                                     "--spool-dir", (dir_ / "spool").string(),
                                     "--status-interval-s", "0.5", "--summary-json",
                                     summary_path().string(), "--metrics", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<child_process>(argv, dir_ / "ingest.log");
    EXPECT_TRUE(p->wait_for_log("subscribed", 20s)) << p->log();
    return p;
  }

  /// The port the ingestor printed for --metrics 127.0.0.1:0.
  static int metrics_port(const child_process& p) {
    const std::string log = p.log();
    const std::string marker = "metrics at http://127.0.0.1:";
    const auto at = log.find(marker);
    if (at == std::string::npos) throw std::runtime_error("no metrics line in: " + log);
    return std::stoi(log.substr(at + marker.size()));
  }

  fs::path summary_path() const { return dir_ / "summary.json"; }

  nlohmann::json stop_and_read_summary(child_process& p) {
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(60s), 0) << p.log();
    std::ifstream in(summary_path());
    return nlohmann::json::parse(in);
  }

  long long rows_of(const std::string& machine) {
    return query_int(db_, "SELECT count(*) FROM energy_readings WHERE machine_id = '" + machine +
                              "'");
  }

  bool wait_seq(const std::string& machine, long seq, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (query_int(db_, "SELECT count(*) FROM energy_readings WHERE machine_id = '" + machine +
                             "' AND seq = " + std::to_string(seq)) == 1)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  bool wait_rows(const std::string& machine, long long at_least, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (rows_of(machine) >= at_least) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  postgres_server pg_;
  std::string db_;
  fs::path dir_;
  std::vector<std::string> machines_;
};

const nlohmann::json& stream_entry(const nlohmann::json& summary, const std::string& machine,
                                   const std::string& stream) {
  for (const auto& s : summary.at("streams"))
    if (s.at("machine_id") == machine && s.at("stream") == stream) return s;
  throw std::runtime_error("no stream entry for " + machine + " " + stream);
}

TEST_F(ingest_measure, loss_the_broker_causes_is_reported_exactly_as_sql_finds_it) {
  // A broker that queues at most 5 messages per client beyond the 10 in flight drops the
  // rest while the ingestor is frozen (SIGSTOP): real loss, chosen by the broker.
  mosquitto_server_options bo;
  bo.extra_config = {"max_queued_messages 5"};
  mosquitto_server broker(bo);
  auto ingest = start_ingest(broker, {"--max-inflight", "10"});
  v5_publisher pub(broker.port());
  const long frozen_seqs = 200, tail_seqs = 20;

  ingest->signal(SIGSTOP);
  for (long seq = 1; seq <= frozen_seqs; ++seq)
    for (const auto& m : machines_) pub.publish("factory/measure/" + m + "/energy", energy_payload(m, seq));
  ASSERT_TRUE(pub.wait_acked(30s));
  ingest->signal(SIGCONT);
  // What the broker kept arrives; then a tail, one message at a time so that none of it can
  // be dropped: the drops become gaps, not a cut-off end. The tail goes at QoS 0: here
  // mosquitto 2.0.11 delivered no further QoS 1 message to the client once it had dropped
  // some for max_queued_messages (seen, not traced to its source); QoS 0 still gets through.
  for (long seq = frozen_seqs + 1; seq <= frozen_seqs + tail_seqs; ++seq)
    for (const auto& m : machines_) {
      pub.publish("factory/measure/" + m + "/energy", energy_payload(m, seq), 0, 0, 0);
      ASSERT_TRUE(wait_seq(m, seq, 60s)) << ingest->log();
    }

  // /metrics while running: promtool accepts it, and it counts what the summary counts.
  http_connection http("127.0.0.1", metrics_port(*ingest));
  const http_response metrics = http.request("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  {
    std::ofstream(dir_ / "metrics.txt") << metrics.body;
    std::string out;
    EXPECT_EQ(run_command({"/bin/sh", "-c", "promtool check metrics < " + (dir_ / "metrics.txt").string()},
                          out),
              0)
        << out << metrics.body;
  }

  const auto summary = stop_and_read_summary(*ingest);
  std::uint64_t sql_lost_total = 0;
  for (const auto& m : machines_) {
    const auto r = query_rows(
        db_, "SELECT min(seq), max(seq), count(DISTINCT seq), count(*) FROM energy_readings "
             "WHERE machine_id = '" + m + "'");
    const long long first = std::stoll(r.at(0).at(0).value());
    const long long last = std::stoll(r.at(0).at(1).value());
    const long long distinct = std::stoll(r.at(0).at(2).value());
    const long long sql_lost = last - first + 1 - distinct;
    const auto& s = stream_entry(summary, m, "energy");
    EXPECT_EQ(s.at("first_seq").get<long long>(), first) << m;
    EXPECT_EQ(s.at("last_seq").get<long long>(), last) << m;
    EXPECT_EQ(s.at("lost").get<long long>(), sql_lost) << m;
    EXPECT_EQ(s.at("received").get<long long>(), distinct) << m;  // nothing came twice
    EXPECT_EQ(s.at("duplicates"), 0) << m;
    sql_lost_total += static_cast<std::uint64_t>(sql_lost);
  }
  // The broker did drop most of the frozen burst (10 in flight + 5 queued were kept).
  EXPECT_GT(sql_lost_total, static_cast<std::uint64_t>(frozen_seqs));
  EXPECT_EQ(summary.at("lost").get<std::uint64_t>(), sql_lost_total);
  EXPECT_NE(metrics.body.find("factorysim_ingest_lost_messages_total " +
                              std::to_string(sql_lost_total) + "\n"),
            std::string::npos)
      << metrics.body;
  // The status line said so as it went.
  EXPECT_NE(ingest->log().find("lost " + std::to_string(sql_lost_total)), std::string::npos);
}

TEST_F(ingest_measure, duplicates_and_reordering_injected_on_the_wire_are_counted) {
  mosquitto_server broker;
  auto ingest = start_ingest(broker);
  v5_publisher pub(broker.port());
  const std::string& m = machines_[0];
  const std::string topic = "factory/measure/" + m + "/energy";
  for (long seq = 1; seq <= 50; ++seq) pub.publish(topic, energy_payload(m, seq));
  for (long seq = 10; seq < 20; ++seq) pub.publish(topic, energy_payload(m, seq));  // 10 again
  for (long seq = 52; seq <= 60; ++seq) pub.publish(topic, energy_payload(m, seq));
  pub.publish(topic, energy_payload(m, 51));  // late
  pub.publish(topic, energy_payload(m, 61));
  ASSERT_TRUE(pub.wait_acked(30s));
  ASSERT_TRUE(wait_rows(m, 61, 60s)) << ingest->log();
  const auto summary = stop_and_read_summary(*ingest);
  const auto& s = stream_entry(summary, m, "energy");
  EXPECT_EQ(s.at("received"), 71);
  EXPECT_EQ(s.at("duplicates"), 10);
  EXPECT_EQ(s.at("reordered"), 1);
  EXPECT_EQ(s.at("lost"), 0);
  EXPECT_EQ(summary.at("duplicates"), 10);
  EXPECT_EQ(summary.at("reordered"), 1);
  EXPECT_EQ(summary.at("lost"), 0);
  // The database kept one row each: the duplicates were on the wire, not in the tables.
  EXPECT_EQ(query_int(db_, "SELECT count(*) FROM energy_readings WHERE machine_id = '" + m + "'"),
            61);
  EXPECT_EQ(summary.at("committed_rows"), 61);
}

TEST_F(ingest_measure, latencies_of_stamped_messages_match_their_stamps) {
  mosquitto_server broker;
  auto ingest = start_ingest(broker);
  v5_publisher pub(broker.port());
  const std::string& m = machines_[0];
  // Send delays 1..400 ms (known exactly from the stamps alone), scheduled 2 s in the past.
  const int n = 400;
  const std::int64_t back_us = 2'000'000;
  for (int i = 1; i <= n; ++i) {
    const std::int64_t sched = unix_now_us() - back_us;
    pub.publish("factory/measure/" + m + "/energy", energy_payload(m, i), sched,
                sched + i * 1000);
  }
  ASSERT_TRUE(pub.wait_acked(30s));
  ASSERT_TRUE(wait_rows(m, n, 60s)) << ingest->log();
  const auto summary = stop_and_read_summary(*ingest);
  EXPECT_EQ(summary.at("stamped"), n);
  const auto& delay = summary.at("latency").at("send_delay_ms");
  EXPECT_EQ(delay.at("count"), n);
  EXPECT_NEAR(delay.at("p50").get<double>(), 200, 200 * 0.005);
  EXPECT_NEAR(delay.at("p90").get<double>(), 360, 360 * 0.005);
  EXPECT_NEAR(delay.at("p99").get<double>(), 396, 396 * 0.005);
  EXPECT_DOUBLE_EQ(delay.at("max").get<double>(), 400);
  EXPECT_DOUBLE_EQ(delay.at("mean").get<double>(), 200.5);
  const auto& received = summary.at("latency").at("publish_to_received_ms");
  const auto& committed = summary.at("latency").at("publish_to_committed_ms");
  EXPECT_EQ(received.at("count"), n);
  EXPECT_EQ(committed.at("count"), n);
  // Each message arrived after it was scheduled (2 s back), and was committed after it
  // arrived, so every percentile of the second is at least that of the first.
  EXPECT_GE(received.at("min").get<double>(), 2000 * 0.995);
  for (const char* p : {"p50", "p90", "p99", "p999", "max"})
    EXPECT_GE(committed.at(p).get<double>(), received.at(p).get<double>() * 0.995) << p;
  // The sparse histogram holds every message.
  std::uint64_t total = 0;
  for (const auto& c : summary.at("histograms").at("send_delay_ms").at("counts"))
    total += c.get<std::uint64_t>();
  EXPECT_EQ(total, static_cast<std::uint64_t>(n));
}

TEST_F(ingest_measure, metrics_endpoint_refuses_other_paths_methods_and_huge_heads) {
  mosquitto_server broker;
  auto ingest = start_ingest(broker);
  const int port = metrics_port(*ingest);
  {
    http_connection c("127.0.0.1", port);
    const auto r = c.request("GET", "/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(nlohmann::json::parse(r.body).at("error"), "not found");
  }
  {
    http_connection c("127.0.0.1", port);
    const auto r = c.request("POST", "/metrics", "{}", {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.at("allow"), "GET, HEAD");
  }
  {
    http_connection c("127.0.0.1", port);
    ASSERT_TRUE(c.send_raw("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a')));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 431);
    EXPECT_TRUE(nlohmann::json::parse(r.body).contains("reason"));
    EXPECT_TRUE(c.wait_closed(5s));
  }
  {
    http_connection c("127.0.0.1", port);  // the server still answers
    EXPECT_EQ(c.request("GET", "/metrics").status, 200);
  }
  ingest->signal(SIGTERM);
  EXPECT_EQ(ingest->wait(60s), 0) << ingest->log();
}

/// Every message a v5 subscriber receives, with its user properties.
struct v5_capture {
  struct message {
    std::string topic, payload;
    std::map<std::string, std::string> properties;
  };
  std::mutex mutex;
  std::vector<message> messages;
  mosquitto* mosq = nullptr;
  std::atomic<bool> subscribed{false};

  explicit v5_capture(int port) {
    ensure_mosquitto_lib_init();
    mosq = mosquitto_new(nullptr, true, this);
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_subscribe_v5_callback_set(
        mosq, [](mosquitto*, void* self, int, int, const int*, const mosquitto_property*) {
          static_cast<v5_capture*>(self)->subscribed = true;
        });
    mosquitto_message_v5_callback_set(
        mosq, [](mosquitto*, void* self, const mosquitto_message* msg, const mosquitto_property* props) {
          message m;
          m.topic = msg->topic;
          m.payload.assign(static_cast<const char*>(msg->payload),
                           static_cast<std::size_t>(msg->payloadlen));
          for (const mosquitto_property* p = props; p != nullptr; p = mosquitto_property_next(p)) {
            if (mosquitto_property_identifier(p) != MQTT_PROP_USER_PROPERTY) continue;
            char* name = nullptr;
            char* value = nullptr;
            mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false);
            if (name && value) m.properties[name] = value;
            std::free(name);
            std::free(value);
          }
          auto* c = static_cast<v5_capture*>(self);
          std::lock_guard lock(c->mutex);
          c->messages.push_back(std::move(m));
        });
    if (mosquitto_connect_bind_v5(mosq, "127.0.0.1", port, 30, nullptr, nullptr) != MOSQ_ERR_SUCCESS)
      throw std::runtime_error("capture cannot connect");
    mosquitto_loop_start(mosq);
    mosquitto_subscribe_v5(mosq, nullptr, "factory/#", 1, 0, nullptr);
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (!subscribed && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
    if (!subscribed) throw std::runtime_error("capture not subscribed");
  }
  ~v5_capture() {
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

TEST_F(ingest_measure, simulator_stamps_every_publish_and_leaves_the_payload_bytes_alone) {
  mosquitto_server broker;
  const std::vector<std::string> window = {"--mode", "backfill", "--from", "2024-06-01T00:00:00Z",
                                           "--to", "2024-06-01T00:20:00Z", "--no-progress",
                                           "--control", "off", "--mqtt-port",
                                           std::to_string(broker.port())};
  // What the same run publishes, as bytes.
  std::string out;
  std::vector<std::string> file_run = {FACTORYSIM_BINARY, "run", scenario(), "--output",
                                       (dir_ / "expected.tsv").string(), "--mode", "backfill",
                                       "--from", "2024-06-01T00:00:00Z", "--to",
                                       "2024-06-01T00:20:00Z", "--no-progress", "--control", "off"};
  ASSERT_EQ(run_command(file_run, out), 0) << out;
  std::multiset<std::string> expected;  // status lines aside: their final one is "now"
  long long energy_messages = 0;
  {
    std::ifstream in(dir_ / "expected.tsv");
    for (std::string line; std::getline(in, line);) {
      if (line.find("/status\t") == std::string::npos) expected.insert(line);
      if (line.find("/energy\t") != std::string::npos) ++energy_messages;
    }
  }
  ASSERT_GT(expected.size(), 100u);

  auto ingest = start_ingest(broker);
  v5_capture capture(broker.port());
  std::vector<std::string> run = {FACTORYSIM_BINARY, "run", scenario(), "--stamp-send-time"};
  run.insert(run.end(), window.begin(), window.end());
  const std::int64_t before_us = unix_now_us();
  ASSERT_EQ(run_command(run, out, 300s), 0) << out;
  const std::int64_t after_us = unix_now_us();
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (capture.size() < expected.size() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(20ms);

  std::multiset<std::string> got;
  std::size_t published = 0;
  {
    std::lock_guard lock(capture.mutex);
    published = capture.messages.size();
    for (const auto& msg : capture.messages) {
      ASSERT_EQ(msg.properties.count("fs-sched-us"), 1u) << msg.topic;
      ASSERT_EQ(msg.properties.count("fs-sent-us"), 1u) << msg.topic;
      const std::int64_t sched = std::stoll(msg.properties.at("fs-sched-us"));
      const std::int64_t sent = std::stoll(msg.properties.at("fs-sent-us"));
      EXPECT_LE(before_us, sched);
      EXPECT_LE(sched, sent);
      EXPECT_LE(sent, after_us);
      if (msg.topic.size() < 7 || msg.topic.substr(msg.topic.size() - 7) != "/status")
        got.insert(msg.topic + "\t" + msg.payload);
    }
  }
  EXPECT_EQ(got, expected);  // same bytes as without stamps

  // The ingestor measured every one of them and found nothing missing.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (query_int(db_, "SELECT count(*) FROM energy_readings") < energy_messages &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  const auto summary = stop_and_read_summary(*ingest);
  EXPECT_EQ(summary.at("stamped").get<std::size_t>(), published);
  EXPECT_EQ(summary.at("received").get<std::size_t>(), published);
  EXPECT_EQ(summary.at("lost"), 0);
  EXPECT_EQ(summary.at("duplicates"), 0);
  EXPECT_EQ(summary.at("latency").at("publish_to_received_ms").at("count").get<std::size_t>(),
            published);
  EXPECT_GT(summary.at("latency").at("publish_to_committed_ms").at("count").get<std::size_t>(), 0u);
}

TEST(ingest_measure_cli, stamping_refuses_what_cannot_carry_it) {
  const std::string scenario = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
  std::string out;
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "run", scenario, "--stamp-send-time",
                         "--mqtt-version", "3.1.1", "--control", "off"},
                        out),
            2);
  EXPECT_NE(out.find("needs MQTT 5"), std::string::npos) << out;
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "run", scenario, "--stamp-send-time",
                         "--mqtt-client", "libmosquitto", "--control", "off"},
                        out),
            2);
  EXPECT_NE(out.find("native MQTT client"), std::string::npos) << out;
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "ingest", "--db", "dbname=x", "--metrics", "9108"},
                        out),
            2);
  EXPECT_NE(out.find("ADDR:PORT"), std::string::npos) << out;
}

}  // namespace
}  // namespace factorysim::test
