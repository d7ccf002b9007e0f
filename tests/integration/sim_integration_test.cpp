// The real `factorysim run` binary against a real mosquitto (issue 2, "Integration"): message
// counts of a one-hour backfill, the EnMS keys of docs/topics.md, seq continuity, determinism through files and
// through the broker, accelerated pacing, a broker restart without QoS 1 loss, SIGTERM.
#include <fcntl.h>
#include <mosquitto.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/payload.hpp"
#include "tests/support/mosquitto_server.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using factorysim::test::collected_message;
using factorysim::test::collector_options;
using factorysim::test::mosquitto_server;
using factorysim::test::mqtt_collector;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string demo = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
const std::string hour_from = "2024-06-01T00:00:00Z";
const std::string hour_to = "2024-06-01T01:00:00Z";

/// A private folder for one test's files.
fs::path temp_dir() {
  char tmpl[] = "/tmp/factorysim-simit-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (d == nullptr) throw std::runtime_error("mkdtemp failed");
  return d;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The factorysim binary as a child process; stderr goes to a file for failure messages.
class process {
 public:
  process(std::vector<std::string> args, const fs::path& stderr_file) : stderr_file_(stderr_file) {
    args.insert(args.begin(), FACTORYSIM_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + std::string(argv[0]));
  }
  ~process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  /// Exit code, or -1 on timeout (the process is then killed), 128+n for a signal.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  std::string err() const { return read_file(stderr_file_); }

 private:
  pid_t pid_ = -1;
  fs::path stderr_file_;
};

/// Runs factorysim to completion; returns its exit code (stderr in `err`).
int run_factorysim(const std::vector<std::string>& args, std::string& err,
                   std::chrono::milliseconds timeout = 300s) {
  const fs::path dir = temp_dir();
  process p(args, dir / "stderr.txt");
  const int rc = p.wait(timeout);
  err = p.err();
  fs::remove_all(dir);
  return rc;
}

std::vector<std::string> backfill_args(int port, const std::string& seed) {
  return {"run", demo, "--mqtt-port", std::to_string(port), "--mode", "backfill", "--from",
          hour_from, "--to", hour_to, "--seed", seed, "--no-progress"};
}

std::map<std::string, std::vector<std::string>> by_topic(const std::vector<collected_message>& ms) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& m : ms) out[m.topic].push_back(m.payload);
  return out;
}

/// Expected readings per stream in one hour, by the machine's topic (docs/plant.md).
const std::map<std::string, std::size_t> hourly = {
    {"factory/demo/compressor-1", 3600},        {"factory/demo/hvac-main", 360},
    {"factory/demo/conveyor-a", 360},           {"factory/demo/hydraulic-pump-1", 120},
    {"factory/demo/injection-molding-1", 120},  {"factory/europe/compressor-1", 3600},
    {"factory/europe/hvac-north", 360}};

std::size_t readings_per_hour_total() {
  std::size_t n = 0;
  for (const auto& [t, c] : hourly) n += 3 * c;
  return n;
}

const std::map<std::string, std::vector<std::string>> spec_keys = {
    {"energy", {"time", "machine_id", "seq", "power_kw", "energy_kwh", "voltage_v", "current_a",
                "power_factor", "frequency_hz", "energy_total_kwh"}},
    {"production", {"time", "machine_id", "seq", "production_count", "production_count_good",
                    "production_count_bad", "throughput_units_per_hour", "operating_mode",
                    "speed_percent"}},
    {"environmental", {"time", "machine_id", "seq"}},
    {"status", {"time", "machine_id", "seq", "is_running", "operating_mode", "current_power_kw"}},
    {"events", {"time", "machine_id", "seq", "event", "anomaly_type", "severity", "metric_name",
                "signals", "started_at", "source"}},
    {"truth", {"time", "machine_id", "seq", "health_index", "limiting_component",
               "rul_operating_h", "rul_calendar_h", "failed", "active_faults",
               "faulted_signals"}}};
const std::set<std::string> environmental_keys = {
    "outdoor_temp_c", "indoor_temp_c", "machine_temp_c", "outdoor_humidity_percent",
    "indoor_humidity_percent", "pressure_bar", "pressure_setpoint_bar", "flow_rate_m3h",
    "supply_air_temp_c", "return_air_temp_c", "chilled_water_supply_temp_c",
    "chilled_water_return_temp_c", "cop", "vibration_mm_s",
    // condition monitoring (docs/machines.md)
    "bearing_temp_c", "vibration_1x_mm_s", "vibration_2x_mm_s", "vibration_accel_peak_g",
    "vibration_crest_factor", "vibration_kurtosis", "vibration_bearing_defect_ge",
    "current_unbalance_percent", "run_hours", "start_count"};

/// Every reading topic has exactly `expected(machine)` messages with seq 1..n; payloads parse
/// and carry the keys of docs/topics.md.
void check_hour(const std::map<std::string, std::vector<std::string>>& topics, double scale) {
  for (const auto& [machine, per_hour] : hourly) {
    for (const char* stream : {"energy", "production", "environmental"}) {
      const std::string topic = machine + "/" + stream;
      ASSERT_TRUE(topics.contains(topic)) << topic;
      const auto& msgs = topics.at(topic);
      EXPECT_EQ(msgs.size(), static_cast<std::size_t>(static_cast<double>(per_hour) * scale))
          << topic;
    }
  }
  for (const auto& [topic, msgs] : topics) {
    const std::string stream = topic.substr(topic.rfind('/') + 1);
    ASSERT_TRUE(spec_keys.contains(stream)) << topic;
    for (std::size_t k = 0; k < msgs.size(); ++k) {
      const json j = json::parse(msgs[k]);
      for (const auto& key : spec_keys.at(stream)) {
        ASSERT_TRUE(j.contains(key)) << topic << " " << key;
      }
      ASSERT_EQ(j["seq"].get<std::size_t>(), k + 1) << topic << ": seq gap or duplicate";
      factorysim::machines::sim_time t{};
      ASSERT_TRUE(factorysim::sim::parse_time(j["time"].get<std::string>(), t)) << msgs[k];
      if (stream == "environmental") {
        ASSERT_GT(j.size(), 3u) << topic;
        for (const auto& item : j.items()) {
          const std::string& key = item.key();
          if (key != "time" && key != "machine_id" && key != "seq") {
            ASSERT_TRUE(environmental_keys.contains(key)) << key;
          }
        }
      }
    }
  }
}

TEST(sim_integration, one_hour_backfill_of_the_demo_plant_exact_counts_keys_and_seq) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "factory/#");
  std::string err;
  ASSERT_EQ(run_factorysim(backfill_args(broker.port(), "42"), err), 0) << err;
  EXPECT_NE(err.find("root seed 42"), std::string::npos) << err;
  // The run exits only after every QoS 1 message was acknowledged; delivery to us may lag.
  collector.wait_until(
      [](const std::vector<collected_message>& ms) { return ms.size() >= readings_per_hour_total(); },
      60s);
  collector.wait_quiet(500ms, 10s);
  const auto topics = by_topic(collector.messages());
  check_hour(topics, 1.0);
  for (const auto& [machine, n] : hourly) {
    const auto& status = topics.at(machine + "/status");
    EXPECT_EQ(json::parse(status.back())["operating_mode"], "offline") << machine;
  }
}

TEST(sim_integration, same_seed_same_bytes_through_files_and_the_broker) {
  const fs::path dir = temp_dir();
  std::string err;
  auto file_args = [&](const std::string& seed, const std::string& name) {
    auto a = backfill_args(1, seed);
    a.erase(a.begin() + 2, a.begin() + 4);  // no broker
    a.push_back("--output");
    a.push_back((dir / name).string());
    return a;
  };
  ASSERT_EQ(run_factorysim(file_args("7", "a.tsv"), err), 0) << err;
  ASSERT_EQ(run_factorysim(file_args("7", "b.tsv"), err), 0) << err;
  ASSERT_EQ(run_factorysim(file_args("8", "c.tsv"), err), 0) << err;
  const std::string a = read_file(dir / "a.tsv");
  const std::string b = read_file(dir / "b.tsv");
  const std::string c = read_file(dir / "c.tsv");
  EXPECT_GT(a.size(), 1'000'000u);
  EXPECT_TRUE(a == b) << "same seed, different bytes";
  EXPECT_FALSE(a == c) << "another seed gave the same bytes";
  // Every line is topic<TAB>json.
  std::istringstream lines(a);
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos);
    ASSERT_TRUE(json::parse(line.substr(tab + 1)).is_object());
    ++n;
  }
  EXPECT_GE(n, readings_per_hour_total());
  fs::remove_all(dir);

  // Through the broker: per topic, identical payload sequences.
  mosquitto_server broker;
  std::vector<std::map<std::string, std::vector<std::string>>> runs;
  for (const char* seed : {"7", "7", "8"}) {
    mqtt_collector collector(broker.host(), broker.port(), "factory/+/+/+");
    ASSERT_EQ(run_factorysim(backfill_args(broker.port(), seed), err), 0) << err;
    collector.wait_until(
        [](const std::vector<collected_message>& ms) { return ms.size() >= readings_per_hour_total(); },
        60s);
    collector.wait_quiet(500ms, 10s);
    auto msgs = collector.messages();
    // Retained status of the previous run arrives first on subscription: not part of this run.
    std::erase_if(msgs, [](const collected_message& m) { return m.retained; });
    runs.push_back(by_topic(msgs));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (const auto& [topic, payloads] : runs[0]) EXPECT_TRUE(payloads == runs[1][topic]) << topic;
  EXPECT_FALSE(runs[0].at("factory/demo/compressor-1/energy") ==
               runs[2].at("factory/demo/compressor-1/energy"));
  // The file and the broker carry the same bytes.
  std::istringstream again(a);
  std::map<std::string, std::vector<std::string>> from_file;
  while (std::getline(again, line)) {
    const auto tab = line.find('\t');
    from_file[line.substr(0, tab)].push_back(line.substr(tab + 1));
  }
  EXPECT_TRUE(from_file.at("factory/europe/hvac-north/environmental") ==
              runs[0].at("factory/europe/hvac-north/environmental"));
}

/// Subscriber that stamps each message with its arrival on the steady clock.
class stamping_subscriber {
 public:
  stamping_subscriber(int port, const std::string& pattern) {
    factorysim::test::ensure_mosquitto_lib_init();
    mosq_ = mosquitto_new(nullptr, true, this);
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* s = static_cast<stamping_subscriber*>(self);
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(s->mutex_);
      s->got_.push_back({std::string(m->topic),
                         std::string(static_cast<const char*>(m->payload),
                                     static_cast<std::size_t>(m->payloadlen)),
                         now});
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<stamping_subscriber*>(self)->subscribed_ = true;
    });
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 10) != MOSQ_ERR_SUCCESS)
      throw std::runtime_error("stamping subscriber cannot connect");
    mosquitto_subscribe(mosq_, nullptr, pattern.c_str(), 1);
    mosquitto_loop_start(mosq_);
    for (int i = 0; i < 500 && !subscribed_; ++i) std::this_thread::sleep_for(10ms);
    if (!subscribed_) throw std::runtime_error("stamping subscriber: no SUBACK");
  }
  ~stamping_subscriber() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }
  struct arrival {
    std::string topic;
    std::string payload;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<arrival> got() {
    std::lock_guard lock(mutex_);
    return got_;
  }

 private:
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> subscribed_{false};
  std::mutex mutex_;
  std::vector<arrival> got_;
};

/// Ten minutes of the demo plant through `client` and `version`, collected by a libmosquitto
/// subscriber: payloads per topic.
std::map<std::string, std::vector<std::string>> ten_minutes_through(
    const mosquitto_server& broker, const std::string& client, const std::string& version) {
  mqtt_collector collector(broker.host(), broker.port(), "factory/+/+/+");
  std::string err;
  auto args = backfill_args(broker.port(), "5");
  args[9] = "2024-06-01T00:10:00Z";
  args.insert(args.end(), {"--mqtt-client", client, "--mqtt-version", version});
  EXPECT_EQ(run_factorysim(args, err), 0) << err;
  const std::size_t expected = readings_per_hour_total() / 6;
  collector.wait_until(
      [&](const std::vector<collected_message>& ms) { return ms.size() >= expected; }, 60s);
  collector.wait_quiet(500ms, 10s);
  auto msgs = collector.messages();
  std::erase_if(msgs, [](const collected_message& m) { return m.retained; });
  return by_topic(msgs);
}

// Issue 12: libmosquitto stays a first-class client (`mqtt.client: libmosquitto`) and the
// reference: the same scenario through both clients gives the same payload bytes at a
// subscriber, over MQTT 5 and 3.1.1.
TEST(sim_integration, both_mqtt_clients_deliver_the_same_bytes) {
  mosquitto_server broker;
  const auto native5 = ten_minutes_through(broker, "native", "5");
  const auto mosq5 = ten_minutes_through(broker, "libmosquitto", "5");
  const auto native311 = ten_minutes_through(broker, "native", "3.1.1");
  const auto mosq311 = ten_minutes_through(broker, "libmosquitto", "3.1.1");
  ASSERT_GT(native5.size(), 20u);
  EXPECT_EQ(native5.at("factory/demo/compressor-1/energy").size(), 600u);
  for (const auto* other : {&mosq5, &native311, &mosq311}) {
    ASSERT_EQ(native5.size(), other->size());
    for (const auto& [topic, payloads] : native5)
      EXPECT_TRUE(payloads == other->at(topic)) << topic;
  }
}

// Issue 12: the simulator retried forever when the broker said "not authorized", even in
// backfill, and then reported its messages as published. Both clients now end the run.
TEST(sim_integration, a_refused_login_ends_the_run_with_exit_1_and_says_why) {
  factorysim::test::mosquitto_server_options bopts;
  bopts.users = {{"sim", "right"}};
  mosquitto_server broker(bopts);
  const fs::path dir = temp_dir();
  {
    std::ofstream(dir / "creds") << "sim\nwrong\n";
  }
  for (const char* client : {"native", "libmosquitto"}) {
    SCOPED_TRACE(client);
    std::string err;
    auto args = backfill_args(broker.port(), "1");
    args.insert(args.end(), {"--mqtt-client", client, "--mqtt-credentials-file",
                             (dir / "creds").string()});
    EXPECT_EQ(run_factorysim(args, err, 60s), 1) << err;
    EXPECT_NE(err.find("not authorized"), std::string::npos) << err;
    EXPECT_NE(err.find("stopping the run"), std::string::npos) << err;
    EXPECT_NE(err.find("0 acknowledged by the broker"), std::string::npos) << err;
  }
  fs::remove_all(dir);
}

TEST(sim_integration, accelerated_mode_keeps_its_pace) {
  mosquitto_server broker;
  stamping_subscriber sub(broker.port(), "factory/+/+/energy");
  const double speed = 60;
  const std::string from = "2024-06-01T00:00:00Z";
  const auto from_t = [&] {
    factorysim::machines::sim_time t{};
    factorysim::sim::parse_time("2024-06-01T00:00:00.000Z", t);
    return t;
  }();
  const auto launched = std::chrono::steady_clock::now();
  std::string err;
  // Three simulated minutes at 60x: three wall seconds.
  ASSERT_EQ(run_factorysim({"run", demo, "--mqtt-port", std::to_string(broker.port()), "--mode",
                            "accelerated", "--speed", "60", "--from", from, "--to",
                            "2024-06-01T00:03:00Z"},
                           err, 120s),
            0)
      << err;
  const auto ended = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(300ms);
  const auto got = sub.got();
  ASSERT_EQ(got.size(), 2u * 180 + 3u * 18 + 2u * 6) << err;
  for (const auto& m : got) {
    factorysim::machines::sim_time t{};
    ASSERT_TRUE(factorysim::sim::parse_time(json::parse(m.payload)["time"].get<std::string>(), t));
    // The engine's wall start is after `launched`, so this is a lower bound of its schedule.
    const auto scheduled = launched + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          (t - from_t) / speed);
    ASSERT_GE(m.at, scheduled) << m.topic << " " << m.payload << " arrived early";
  }
  // Generous: a loaded 2-core machine may be slow, but not an order of magnitude.
  EXPECT_LT(ended - launched, 3s * 5 + 10s);
  EXPECT_GE(ended - launched, 3s);
}

TEST(sim_integration, broker_restart_mid_run_loses_no_qos1_message) {
  mosquitto_server broker;
  collector_options persistent;
  persistent.client_id = "simit-restart-collector";
  persistent.clean_session = false;
  mqtt_collector collector(broker.host(), broker.port(), "factory/#", persistent);
  const fs::path dir = temp_dir();
  // Ten simulated minutes at 120x: five wall seconds; the broker goes away in the middle.
  process sim({"run", demo, "--mqtt-port", std::to_string(broker.port()), "--mode", "accelerated",
               "--speed", "120", "--from", "2024-06-01T00:00:00Z", "--to", "2024-06-01T00:10:00Z"},
              dir / "stderr.txt");
  ASSERT_TRUE(collector.wait_for_count(500, 30s)) << sim.err();
  broker.stop();
  std::this_thread::sleep_for(1s);
  broker.start();
  const int rc = sim.wait(120s);
  ASSERT_EQ(rc, 0) << sim.err() << broker.log();
  collector.wait_until(
      [](const std::vector<collected_message>& ms) {
        return ms.size() >= readings_per_hour_total() / 6;
      },
      60s);
  collector.wait_quiet(1s, 20s);
  // QoS 1 is at least once: drop redeliveries by seq, then nothing may be missing.
  std::map<std::string, std::set<std::size_t>> seqs;
  for (const auto& m : collector.messages()) {
    const json j = json::parse(m.payload);
    if (!j.contains("seq")) {
      // Only a last will has no seq; the session drop at the broker restart may fire it.
      EXPECT_TRUE(m.topic.ends_with("/status")) << m.topic << " " << m.payload;
      continue;
    }
    seqs[m.topic].insert(j["seq"].get<std::size_t>());
  }
  for (const auto& [machine, per_hour] : hourly) {
    for (const char* stream : {"energy", "production", "environmental"}) {
      const auto& s = seqs[machine + "/" + stream];
      EXPECT_EQ(s.size(), per_hour / 6) << machine << "/" << stream;
      if (!s.empty()) {
        EXPECT_EQ(*s.begin(), 1u);
        EXPECT_EQ(*s.rbegin(), s.size()) << machine << "/" << stream << ": gap";
      }
    }
  }
  EXPECT_GE(collector.connects(), 2);
  std::smatch m;
  const std::string err = sim.err();
  ASSERT_TRUE(std::regex_search(err, m, std::regex("([0-9]+) reconnects"))) << err;
  EXPECT_GE(std::stoi(m[1].str()), 1) << err;
  fs::remove_all(dir);
}

/// The retained messages on `pattern`, as a fresh subscriber sees them.
std::map<std::string, std::string> retained(const mosquitto_server& broker, const std::string& pattern,
                                            std::size_t expected) {
  mqtt_collector c(broker.host(), broker.port(), pattern);
  c.wait_for_count(expected, 10s);
  c.wait_quiet(300ms, 3s);
  std::map<std::string, std::string> out;
  for (const auto& m : c.messages())
    if (m.retained) out[m.topic] = m.payload;
  return out;
}

TEST(sim_integration, sigterm_mid_run_exits_0_and_leaves_status_offline) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "factory/+/+/status");
  const fs::path dir = temp_dir();
  process sim({"run", demo, "--mqtt-port", std::to_string(broker.port()), "--mode", "realtime"},
              dir / "stderr.txt");
  // Running: the 1 s compressors have said they run.
  ASSERT_TRUE(collector.wait_for_count(2, 20s)) << sim.err();
  sim.signal(SIGTERM);
  ASSERT_EQ(sim.wait(30s), 0) << sim.err();
  const auto status = retained(broker, "factory/+/+/status", hourly.size());
  ASSERT_GE(status.size(), 2u);
  for (const auto& [topic, payload] : status) {
    const json j = json::parse(payload);
    EXPECT_EQ(j["operating_mode"], "offline") << topic;
    EXPECT_EQ(j["is_running"], false) << topic;
    EXPECT_TRUE(j.contains("seq")) << "a clean stop is ours, not the last will: " << payload;
  }
  fs::remove_all(dir);
}

TEST(sim_integration, a_killed_simulator_is_marked_offline_by_its_last_will) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "factory/demo/compressor-1/status");
  const fs::path dir = temp_dir();
  process sim({"run", demo, "--mqtt-port", std::to_string(broker.port()), "--mode", "realtime"},
              dir / "stderr.txt");
  ASSERT_TRUE(collector.wait_for_count(1, 20s)) << sim.err();
  EXPECT_TRUE(json::parse(collector.messages().front().payload).contains("seq"));
  sim.signal(SIGKILL);
  sim.wait(10s);
  ASSERT_TRUE(collector.wait_for_count(2, 20s)) << "no last will";
  const json will = json::parse(collector.messages().back().payload);
  EXPECT_EQ(will["operating_mode"], "offline");
  EXPECT_EQ(will["machine_id"], "c0000000-0000-0000-0000-000000000001");
  EXPECT_FALSE(will.contains("seq"));
  fs::remove_all(dir);
}

TEST(sim_integration, run_validates_like_validate_and_exits_2) {
  std::string err;
  const std::string broken =
      std::string(FACTORYSIM_SOURCE_DIR) + "/tests/scenarios/broken/several-problems.yaml";
  EXPECT_EQ(run_factorysim({"run", broken, "--output", "/dev/null"}, err, 30s), 2);
  // file:line:col: path: message, one line per problem.
  EXPECT_TRUE(std::regex_search(err, std::regex("several-problems\\.yaml:[0-9]+:[0-9]+: [a-z_\\[\\]0-9.]+: ")))
      << err;
  EXPECT_GE(std::count(err.begin(), err.end(), '\n'), 3) << err;
  EXPECT_EQ(run_factorysim({"run", demo, "--mode", "backfill", "--output", "/dev/null"}, err, 30s), 2)
      << "backfill without --from";
  EXPECT_EQ(run_factorysim({"run", demo, "--mode", "sideways"}, err, 30s), 2) << err;
  EXPECT_EQ(run_factorysim({"run", demo, "--mode", "backfill", "--from", "2024-06-01T00:00:00Z", "--to",
                            "2024-05-01T00:00:00Z", "--output", "/dev/null"},
                           err, 30s),
            2)
      << err;
}

// Numbers that would overflow a double -> integer cast (UB) are bad usage, checked before
// any connection is tried (the database and broker addresses here lead nowhere).
TEST(sim_integration, out_of_range_numeric_options_exit_2) {
  std::string err;
  for (const char* v : {"1e300", "nan", "-1"}) {
    EXPECT_EQ(run_factorysim({"run", demo, "--output", "/dev/null", "--shutdown-timeout", v}, err,
                             30s),
              2)
        << v << ": " << err;
  }
  const std::vector<std::string> ingest = {"ingest", "--db", "host=/nonexistent dbname=x",
                                           "--mqtt-port", "1", "--spool-dir", "/nonexistent/spool"};
  for (const char* opt : {"--spool-max-mb", "--max-payload-kib"}) {
    for (const char* v : {"1e300", "nan"}) {
      auto args = ingest;
      args.insert(args.end(), {opt, v});
      EXPECT_EQ(run_factorysim(args, err, 30s), 2) << opt << ' ' << v << ": " << err;
    }
  }
  const std::vector<std::string> loadgen = {"loadgen", "--db", "host=/nonexistent dbname=x",
                                            "--scenario", demo};
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--duration", "1e300"}, {"--duration", "nan"},
        {"--rows", "10", "--rate", "1e-300"}, {"--rows", "10", "--rate", "nan"}}) {
    auto args = loadgen;
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(run_factorysim(args, err, 30s), 2) << extra[0] << ' ' << extra[1] << ": " << err;
  }
}

TEST(sim_integration, realtime_timestamps_follow_the_wall_clock_on_interval_boundaries) {
  const fs::path dir = temp_dir();
  const auto before = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  process sim({"run", demo, "--mode", "realtime", "--output", (dir / "out.tsv").string()},
              dir / "stderr.txt");
  std::this_thread::sleep_for(3500ms);
  sim.signal(SIGINT);
  ASSERT_EQ(sim.wait(30s), 0) << sim.err();
  const auto after = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  std::istringstream lines(read_file(dir / "out.tsv"));
  std::string line;
  std::vector<factorysim::machines::sim_time> times;
  while (std::getline(lines, line)) {
    if (!line.starts_with("factory/demo/compressor-1/energy\t")) continue;
    factorysim::machines::sim_time t{};
    ASSERT_TRUE(factorysim::sim::parse_time(json::parse(line.substr(line.find('\t') + 1))["time"]
                                                .get<std::string>(),
                                            t));
    times.push_back(t);
  }
  ASSERT_GE(times.size(), 2u) << sim.err();
  for (std::size_t k = 0; k < times.size(); ++k) {
    EXPECT_EQ(times[k].time_since_epoch().count() % 1000, 0) << "not on a 1 s boundary";
    if (k > 0) {
      EXPECT_EQ(times[k] - times[k - 1], std::chrono::seconds(1));
    }
    EXPECT_GT(times[k], before);
    EXPECT_LE(times[k], after);
  }
  fs::remove_all(dir);
}

}  // namespace
