// Issue 4 end to end: the real `factorysim run --control` binary publishing the demo plant to a
// real mosquitto, driven through a real HTTP client. An injected fault moves the readings and
// shows on T/events (start, then end after DELETE); stop silences a machine and marks it
// offline; pause/resume keep seq continuous; the bad-request suite is answered and publishing
// goes on; idle clients do not stall it; the start-up checks exit 2; /shutdown exits 0.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/mosquitto_server.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using factorysim::test::collected_message;
using factorysim::test::http_connection;
using factorysim::test::http_response;
using factorysim::test::mosquitto_server;
using factorysim::test::mqtt_collector;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string demo = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
const std::string compressor = "c0000000-0000-0000-0000-000000000001";
const std::string compressor_topic = "factory/demo/compressor-1";
const std::string compressor_eu_topic = "factory/europe/compressor-1";
const std::string token = "test-token-4";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// `factorysim run` as a child process with its stderr in a file.
class sim_process {
 public:
  sim_process(std::vector<std::string> args, std::vector<std::string> extra_env = {}) {
    char tmpl[] = "/tmp/factorysim-ctlit-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    stderr_file_ = dir_ / "stderr.txt";
    args.insert(args.begin(), FACTORYSIM_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string(*e).rfind("FACTORYSIM_CONTROL_TOKEN=", 0) != 0) env_strings.emplace_back(*e);
    for (auto& e : extra_env) env_strings.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + std::string(argv[0]));
  }
  ~sim_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  sim_process(const sim_process&) = delete;
  sim_process& operator=(const sim_process&) = delete;

  std::string err() const { return read_text(stderr_file_); }

  /// Waits for the exit; returns the exit code, or -1 on timeout / death by signal.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  /// The port from "control endpoint on http://127.0.0.1:PORT" on stderr.
  int control_port(std::chrono::milliseconds timeout = 20s) {
    static const std::regex line("control endpoint on http://127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      const std::string text = err();
      if (std::regex_search(text, m, line)) return std::stoi(m[1].str());
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("factorysim exited before opening the control endpoint:\n" + text);
      }
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("no control endpoint line on stderr:\n" + err());
  }

  void terminate() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }

 private:
  fs::path dir_;
  fs::path stderr_file_;
  pid_t pid_ = -1;
};

/// Broker + collector + the simulator (accelerated x10, Monday morning) + its HTTP port.
class control_api : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<mosquitto_server>();
    collector_ = std::make_unique<mqtt_collector>(broker_->host(), broker_->port(), "factory/#");
    sim_ = std::make_unique<sim_process>(
        std::vector<std::string>{"run", demo, "--mqtt-host", broker_->host(), "--mqtt-port",
                                 std::to_string(broker_->port()), "--mode", "accelerated",
                                 "--speed", "10", "--from", "2024-06-03T08:00:00Z", "--control",
                                 "127.0.0.1:0"},
        std::vector<std::string>{"FACTORYSIM_CONTROL_TOKEN=" + token});
    port_ = sim_->control_port();
    ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", 3, 20s)) << sim_->err();
  }
  void TearDown() override {
    if (sim_) {
      sim_->terminate();
      EXPECT_EQ(sim_->wait(20s), 0) << sim_->err();
    }
  }

  http_response send(const std::string& method, const std::string& target,
                     const std::string& body = {}, bool with_token = true) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (with_token) headers.emplace_back("Authorization", "Bearer " + token);
    return factorysim::test::http_request("127.0.0.1", port_, method, target, body, headers);
  }

  std::vector<json> on(const std::string& topic) const {
    std::vector<json> out;
    for (const auto& m : collector_->messages())
      if (m.topic == topic) out.push_back(json::parse(m.payload));
    return out;
  }
  std::size_t count_on(const std::string& topic) const {
    std::size_t n = 0;
    for (const auto& m : collector_->messages()) n += m.topic == topic ? 1 : 0;
    return n;
  }
  bool wait_for_topic_count(const std::string& topic, std::size_t n, std::chrono::milliseconds t) {
    return collector_->wait_until(
        [&](const std::vector<collected_message>& ms) {
          std::size_t k = 0;
          for (const auto& m : ms) k += m.topic == topic ? 1 : 0;
          return k >= n;
        },
        t);
  }
  /// Every energy/production/environmental/events topic: seq +1 per message, no gap, no repeat.
  void expect_seq_continuous() const {
    std::map<std::string, std::uint64_t> last;
    for (const auto& m : collector_->messages()) {
      if (m.retained || m.topic.ends_with("/status")) continue;  // retained status: seen once
      const auto seq = json::parse(m.payload)["seq"].get<std::uint64_t>();
      auto it = last.find(m.topic);
      if (it != last.end()) {
        EXPECT_EQ(seq, it->second + 1) << m.topic;
      }
      last[m.topic] = seq;
    }
  }

  std::unique_ptr<mosquitto_server> broker_;
  std::unique_ptr<mqtt_collector> collector_;
  std::unique_ptr<sim_process> sim_;
  int port_ = 0;
};

TEST_F(control_api, an_injected_fault_moves_the_readings_and_shows_on_t_events) {
  const std::string faults = "/machines/" + compressor + "/faults";
  // Pressure tripled while active: far outside the compressor's load/unload band.
  auto r = send("POST", faults, R"({"type":"spike","severity":1.0,"signal":"pressure_bar"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = json::parse(r.body)["fault_id"].get<std::uint64_t>();
  ASSERT_TRUE(collector_->wait_until(
      [&](const std::vector<collected_message>& ms) {
        for (const auto& m : ms)
          if (m.topic == compressor_topic + "/events") return true;
        return false;
      },
      20s));
  const std::size_t seen = count_on(compressor_topic + "/environmental");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/environmental", seen + 10, 20s));
  r = send("GET", faults);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(json::parse(r.body).size(), 1u);
  EXPECT_EQ(json::parse(r.body)[0]["state"], "active");
  r = send("DELETE", faults + "/" + std::to_string(id));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(collector_->wait_until(
      [&](const std::vector<collected_message>& ms) {
        for (const auto& m : ms)
          if (m.topic == compressor_topic + "/events" &&
              m.payload.find("\"end\"") != std::string::npos)
            return true;
        return false;
      },
      20s));
  const std::size_t after = count_on(compressor_topic + "/environmental");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/environmental", after + 10, 20s));

  const auto events = on(compressor_topic + "/events");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "start");
  EXPECT_EQ(events[0]["fault_id"], id);
  EXPECT_EQ(events[0]["anomaly_type"], "spike");
  EXPECT_EQ(events[0]["source"], "api");
  EXPECT_EQ(events[0]["signals"], json::array({"pressure_bar"}));
  EXPECT_EQ(events[1]["event"], "end");
  EXPECT_EQ(events[1]["fault_id"], id);
  const std::string started = events[0]["started_at"].get<std::string>();
  const std::string ended = events[1]["ended_at"].get<std::string>();
  ASSERT_LT(started, ended);

  double before_max = 0, during_min = 1e9, after_max = 0;
  std::size_t before_n = 0, during_n = 0, after_n = 0;
  // Issue 10: a reading covers the interval that ends at its stamp, so the first one after
  // the end instant still covers part of the fault (and is labelled so): skip it.
  bool skipped_first_after = false;
  for (const auto& m : on(compressor_topic + "/environmental")) {
    const std::string t = m["time"].get<std::string>();
    const double p = m["pressure_bar"].get<double>();
    if (t < started) {
      before_max = std::max(before_max, p);
      ++before_n;
    } else if (t > started && t < ended) {
      during_min = std::min(during_min, p);
      ++during_n;
    } else if (t > ended && !skipped_first_after) {
      skipped_first_after = true;
    } else if (t > ended) {
      after_max = std::max(after_max, p);
      ++after_n;
    }
  }
  ASSERT_GE(before_n, 3u);
  ASSERT_GE(during_n, 5u);
  ASSERT_GE(after_n, 5u);
  EXPECT_GT(during_min, 1.8 * before_max) << "the spike did not show in pressure_bar";
  EXPECT_LT(after_max, 1.5 * before_max) << "pressure_bar did not return after DELETE";
  expect_seq_continuous();
}

TEST_F(control_api, stop_silences_a_machine_with_status_offline_and_start_brings_it_back) {
  auto r = send("POST", "/stop", R"({"machine_ids":[")" + compressor + "\"]}");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(collector_->wait_until(
      [&](const std::vector<collected_message>& ms) {
        for (const auto& m : ms)
          if (m.topic == compressor_topic + "/status" &&
              m.payload.find("\"operating_mode\":\"offline\"") != std::string::npos)
            return true;
        return false;
      },
      20s));
  EXPECT_EQ(json::parse(send("GET", "/machines/" + compressor).body)["state"], "stopped");
  // The EU compressor (same 1 s interval) publishes 20 more readings; ours none.
  const std::size_t silent = count_on(compressor_topic + "/energy");
  const std::size_t eu = count_on(compressor_eu_topic + "/energy");
  ASSERT_TRUE(wait_for_topic_count(compressor_eu_topic + "/energy", eu + 20, 20s));
  EXPECT_EQ(count_on(compressor_topic + "/energy"), silent);

  r = send("POST", "/start", R"({"machine_ids":[")" + compressor + "\"]}");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", silent + 5, 20s));
  expect_seq_continuous();
}

TEST_F(control_api, pause_and_resume_keep_seq_continuous) {
  auto r = send("POST", "/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["state"], "paused");
  collector_->wait_quiet(500ms, 10s);
  const std::size_t paused = collector_->count();
  std::this_thread::sleep_for(500ms);  // nothing may arrive while paused (5 simulated seconds)
  EXPECT_EQ(collector_->count(), paused);
  EXPECT_EQ(json::parse(send("GET", "/status").body)["state"], "paused");
  r = send("POST", "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::size_t energy = count_on(compressor_topic + "/energy");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", energy + 10, 20s));
  expect_seq_continuous();
}

TEST_F(control_api, bad_requests_get_their_status_and_publishing_goes_on) {
  const std::string m = "/machines/" + compressor;
  struct bad {
    std::string method, target, body;
    int status;
    bool with_token = true;
  };
  const std::vector<bad> cases = {
      {"POST", "/stop", R"({"machine_ids":[")" + compressor + "\"]}", 401, false},
      {"DELETE", m + "/faults", "", 401, false},
      {"POST", "/stop", "{not json", 400},
      {"POST", "/stop", R"({"machine_ids":"all"})", 400},
      {"POST", "/stop", R"({"machine_ids":["nope"]})", 404},
      {"PUT", "/speed", R"({"speed":"fast"})", 400},
      {"PUT", "/speed", R"({"speed":-1})", 400},
      {"PATCH", m, R"({"interval_s":0})", 400},
      {"PATCH", "/machines/nope", R"({"interval_s":2})", 404},
      {"POST", m + "/faults", R"({"type":"meltdown","severity":0.5})", 400},
      {"POST", m + "/faults", R"({"type":"heater_failure","severity":0.5})", 400},
      {"POST", m + "/faults", R"({"type":"air_leak","severity":7})", 400},
      {"POST", m + "/faults", R"({"type":"air_leak","severity":0.5,"duration_s":-3})", 400},
      {"DELETE", m + "/faults/999999", "", 404},
      {"DELETE", m + "/faults/x", "", 400},
      {"POST", "/resume", "", 409},
      {"GET", "/speed", "", 405},
      {"GET", "/no/such/path", "", 404},
      {"POST", "/stop", std::string(70 * 1024, ' '), 413},
  };
  for (const auto& c : cases) {
    const auto r = send(c.method, c.target, c.body, c.with_token);
    EXPECT_EQ(r.status, c.status) << c.method << ' ' << c.target << ' ' << c.body.substr(0, 60)
                                  << " -> " << r.body;
    const auto j = json::parse(r.body);
    EXPECT_TRUE(j.contains("error") && j.contains("detail")) << r.body;
  }
  // Nothing was changed by them, and the plant still publishes.
  const auto st = json::parse(send("GET", "/status").body);
  EXPECT_EQ(st["machines_enabled"], 7);
  EXPECT_EQ(st["state"], "running");
  const std::size_t energy = count_on(compressor_topic + "/energy");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", energy + 10, 20s));
  // The live /metrics of the binary passes promtool too.
  const auto metrics = send("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("factorysim_control_responses_total{code=\"413\"} 1"),
            std::string::npos);
  const fs::path file =
      fs::temp_directory_path() / ("factorysim-live-metrics-" + std::to_string(::getpid()));
  std::ofstream(file) << metrics.body;
  const int rc =
      std::system(("promtool check metrics < " + file.string() + " > /dev/null 2>&1").c_str());
  fs::remove(file);
  EXPECT_EQ(rc, 0) << metrics.body;
}

// Issue 12: what another web page can make a browser send to the real binary. A form POST
// (text/plain, a foreign Origin), a rebinding name in Host, and `GET /%FF` (was a 500).
TEST_F(control_api, browser_requests_from_other_sites_change_nothing_issue_12) {
  using headers = std::vector<std::pair<std::string, std::string>>;
  const headers auth{{"Authorization", "Bearer " + token}};
  const auto with = [&](headers h) {
    h.insert(h.end(), auth.begin(), auth.end());
    return h;
  };
  struct refused {
    std::string method, target;
    headers extra;
    int status;
  };
  const std::vector<refused> cases = {
      {"POST", "/shutdown", with({{"Content-Type", "text/plain"}}), 415},
      {"POST", "/shutdown", with({{"Content-Type", "application/x-www-form-urlencoded"}}), 415},
      {"POST", "/shutdown",
       with({{"Content-Type", "application/json"}, {"Origin", "http://evil.example"}}), 403},
      {"GET", "/status", {{"Origin", "null"}}, 403},
  };
  for (const auto& c : cases) {
    const auto r =
        factorysim::test::http_request("127.0.0.1", port_, c.method, c.target, {}, c.extra);
    EXPECT_EQ(r.status, c.status) << c.method << ' ' << c.target << " -> " << r.body;
    EXPECT_TRUE(json::parse(r.body).contains("detail")) << r.body;
  }
  // A rebinding name: the same socket, but Host says evil.example.
  http_connection c("127.0.0.1", port_);
  c.send_raw("GET /status HTTP/1.1\r\nHost: evil.example:" + std::to_string(port_) + "\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.status, 421) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "misdirected_request");
  c.send_raw("GET /%FF HTTP/1.1\r\nHost: localhost\r\n\r\n");
  r = c.read_response();
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "bad_request");
  c.send_raw("GET /machines/%FF HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 400);
  // Still running and publishing; the same requests from a script work.
  const auto st = json::parse(send("GET", "/status").body);
  EXPECT_EQ(st["state"], "running");
  const std::size_t energy = count_on(compressor_topic + "/energy");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", energy + 5, 20s));
  EXPECT_EQ(send("PUT", "/speed", R"({"speed":1e300})").status, 400);
  EXPECT_EQ(send("PUT", "/speed", R"({"speed":120})").status, 200);
}

TEST_F(control_api, fifty_idle_clients_do_not_stall_publishing) {
  std::vector<std::unique_ptr<http_connection>> idle;
  for (int i = 0; i < 50; ++i)
    idle.push_back(std::make_unique<http_connection>("127.0.0.1", port_));
  const std::size_t energy = count_on(compressor_topic + "/energy");
  ASSERT_TRUE(wait_for_topic_count(compressor_topic + "/energy", energy + 30, 20s));
  EXPECT_EQ(idle.front()->request("GET", "/health").status, 200);
  const auto st = json::parse(send("GET", "/status").body);
  EXPECT_GE(st["control"]["open_connections"].get<int>(), 50);
  expect_seq_continuous();
}

TEST_F(control_api, shutdown_ends_the_run_with_exit_0_and_every_machine_offline) {
  const auto r = send("POST", "/shutdown");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(sim_->wait(30s), 0) << sim_->err();
  sim_.reset();
  collector_->wait_quiet(300ms, 5s);
  for (const char* t :
       {"factory/demo/compressor-1", "factory/demo/hvac-main", "factory/europe/hvac-north"}) {
    const auto status = on(std::string(t) + "/status");
    ASSERT_FALSE(status.empty()) << t;
    EXPECT_EQ(status.back()["operating_mode"], "offline") << t;
  }
}

TEST(control_api_startup, refuses_bad_addresses_and_open_binds_without_a_token) {
  {
    sim_process p({"run", demo, "--mode", "accelerated", "--from", "2024-06-03T08:00:00Z",
                   "--mqtt-port", "1", "--control", "0.0.0.0:0"});
    EXPECT_EQ(p.wait(20s), 2) << p.err();
    EXPECT_NE(p.err().find("non-loopback"), std::string::npos) << p.err();
  }
  {
    sim_process p({"run", demo, "--mode", "accelerated", "--from", "2024-06-03T08:00:00Z",
                   "--mqtt-port", "1", "--control", "nonsense"});
    EXPECT_EQ(p.wait(20s), 2) << p.err();
    EXPECT_NE(p.err().find("--control"), std::string::npos) << p.err();
  }
}

}  // namespace
