// `factorysim run` load knobs, rates and summary (issue 13), through the real binary: the
// command-line overrides reach a real mosquitto (machine count, interval, QoS, shared
// sessions), the expected rate printed at start matches what arrives, --summary-json counts
// what was published; and the small items: --speed outside accelerated mode, an end before
// the start named by its real source, --to defaulting to now, --version.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_server.hpp"

namespace {

using namespace std::chrono_literals;
namespace ft = factorysim::test;
using nlohmann::json;

const std::string demo = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(run_knobs, command_line_overrides_reach_the_broker_and_the_summary_counts_them) {
  ft::mosquitto_server broker;
  ft::mqtt_collector collector(broker.host(), broker.port(), "#");
  const std::string dir = ft::make_temp_dir("factorysim-knobs");
  const std::string summary = dir + "/summary.json";
  const auto r = ft::run_factorysim_child({"run",
                                           demo,
                                           "--mqtt-port",
                                           std::to_string(broker.port()),
                                           "--mode",
                                           "backfill",
                                           "--from",
                                           "2024-06-03T08:00:00Z",
                                           "--to",
                                           "2024-06-03T08:10:00Z",
                                           "--replicas",
                                           "3",
                                           "--interval",
                                           "5s",
                                           "--qos",
                                           "0",
                                           "--sessions",
                                           "2",
                                           "--window",
                                           "50",
                                           "--summary-json",
                                           summary,
                                           "--control",
                                           "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 21 machines at 5 s for 600 s: 120 readings each per stream.
  EXPECT_NE(r.err.find("21 machines x 4 streams: energy, production, environmental, truth 4.2 "
                       "msg per "
                       "simulated s each"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(2520 per reading stream)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("achieved: "), std::string::npos) << r.err;

  const json s = json::parse(read_all(summary));
  EXPECT_EQ(s.at("machines"), 21);
  EXPECT_EQ(s.at("qos"), 0);
  EXPECT_EQ(s.at("sessions"), 2);
  EXPECT_EQ(s.at("published").at("energy"), 2520);
  EXPECT_EQ(s.at("expected").at("readings_total_per_stream"), 2520);
  EXPECT_EQ(s.at("simulated_s"), 600.0);
  EXPECT_GT(s.at("rate_per_s").get<double>(), 0);
  const std::uint64_t total = s.at("published").at("total");

  // What the broker delivered: the published messages plus the two shared sessions'
  // online/offline statuses; QoS 0; 21 distinct machines; readings 5 s apart.
  collector.wait_for_count(total + 4, 20s);
  collector.wait_quiet(300ms, 5s);
  const auto got = collector.messages();
  std::set<std::string> machines, session_topics;
  std::size_t readings = 0, from_sim = 0;
  std::string prev_time;
  for (const auto& m : got) {
    if (m.topic.starts_with("factorysim/")) {
      session_topics.insert(m.topic);
      continue;
    }
    ++from_sim;
    EXPECT_EQ(m.qos, 0) << m.topic;
    if (m.topic.ends_with("/energy")) {
      ++readings;
      machines.insert(json::parse(m.payload).at("machine_id"));
    }
  }
  EXPECT_EQ(from_sim, total);
  EXPECT_EQ(readings, 2520u);
  EXPECT_EQ(machines.size(), 21u);
  EXPECT_EQ(session_topics, (std::set<std::string>{"factorysim/factorysim-demo-s0/status",
                                                   "factorysim/factorysim-demo-s1/status"}));
  std::filesystem::remove_all(dir);
}

TEST(run_knobs, accelerated_start_line_states_the_expected_wall_rate) {
  const auto r = ft::run_factorysim_child(
      {"run", demo, "--mode", "accelerated", "--speed", "10", "--from", "2024-06-03T08:00:00Z",
       "--to", "2024-06-03T08:00:01Z", "--output", "/dev/null", "--control", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 7 machines, 2.3667 readings per simulated second per stream, x10, 4 streams with T/truth.
  EXPECT_NE(r.err.find("expected load: 94.7 msg/s (7 machines x 4 streams: energy, production, "
                       "environmental, truth 23.7 msg/s each"),
            std::string::npos)
      << r.err;
}

// Issue 13 small items: each a clear bad-usage exit that names the real source.
TEST(run_small_items, speed_outside_accelerated_mode_is_bad_usage) {
  const auto r = ft::run_factorysim_child({"run", demo, "--speed", "10", "--output", "/dev/null"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--speed applies to accelerated mode only, but the mode is realtime "
                       "(time.mode in " +
                       demo + "); add --mode accelerated"),
            std::string::npos)
      << r.err;
  const auto b =
      ft::run_factorysim_child({"run", demo, "--mode", "backfill", "--from", "2024-06-01T00:00:00Z",
                                "--speed", "2", "--output", "/dev/null"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("but the mode is backfill (--mode)"), std::string::npos) << b.err;
}

TEST(run_small_items, an_end_before_the_start_names_where_each_came_from) {
  const std::string quick = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/quick-test.yaml";
  const auto r = ft::run_factorysim_child(
      {"run", quick, "--from", "2030-01-01T00:00:00Z", "--output", "/dev/null"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the end time (time.to in " + quick +
                       ": 2025-03-03T14:01:00.000Z) must be after the start (--from: "
                       "2030-01-01T00:00:00.000Z)"),
            std::string::npos)
      << r.err;
  const auto o =
      ft::run_factorysim_child({"run", demo, "--mode", "backfill", "--from", "2024-06-02T00:00:00Z",
                                "--to", "2024-06-01T00:00:00Z", "--output", "/dev/null"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("the end time (--to: 2024-06-01T00:00:00.000Z) must be after the start "
                       "(--from: 2024-06-02T00:00:00.000Z)"),
            std::string::npos)
      << o.err;
  // Backfill without any end runs to now: a start in the future says so.
  const auto n = ft::run_factorysim_child({"run", demo, "--mode", "backfill", "--from",
                                           "2999-01-01T00:00:00Z", "--output", "/dev/null"});
  EXPECT_EQ(n.exit_code, 2);
  EXPECT_NE(n.err.find("the end time (now (backfill runs to now when neither --to nor time.to "
                       "gives an end)"),
            std::string::npos)
      << n.err;
}

TEST(run_small_items, backfill_without_to_runs_to_now) {
  // A start 3 s ago: the run covers [from, now) and ends by itself.
  const auto from = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
                    std::chrono::seconds(3);
  const std::time_t tt = std::chrono::system_clock::to_time_t(from);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&tt));
  const auto r = ft::run_factorysim_child(
      {"run", demo, "--mode", "backfill", "--from", text, "--output", "-", "--control", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(std::string("from ") + std::string(text).substr(0, 19)), std::string::npos)
      << r.err;
  // Two 1 s compressors: at least 3 energy readings each.
  std::size_t n = 0;
  for (std::size_t at = r.out.find("compressor-1/energy\t"); at != std::string::npos;
       at = r.out.find("compressor-1/energy\t", at + 1))
    ++n;
  EXPECT_GE(n, 6u);
}

TEST(run_small_items, rfc3339_with_microseconds_is_accepted_and_truncated) {
  const auto r = ft::run_factorysim_child(
      {"run", demo, "--mode", "backfill", "--from", "2024-06-01T00:00:00.123456Z", "--to",
       "2024-06-01T00:00:02.999999+00:00", "--output", "/dev/null", "--control", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("from 2024-06-01T00:00:00.123Z to 2024-06-01T00:00:02.999Z"),
            std::string::npos)
      << r.err;
}

TEST(run_small_items, version_prints_the_version_and_the_commit) {
  const auto r = ft::run_factorysim_child({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(
      r.out,
      std::regex(
          R"(factorysim \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown: built outside a git checkout)\)\n)")))
      << r.out;
}

}  // namespace

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Issue 10: `--runs N` gives N seeded histories of one scenario, one file each; run k is the
// single run with seed + k - 1, byte for byte.
TEST(run_knobs, runs_gives_one_seeded_history_per_file) {
  const std::string dir = ft::make_temp_dir("factorysim-runs");
  const std::string quick = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/quick-test.yaml";
  const auto r = ft::run_factorysim_child(
      {"run", quick, "--runs", "3", "--seed", "40", "--output", dir + "/h.tsv", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string a = read_text(dir + "/h.run-0001.tsv");
  const std::string b = read_text(dir + "/h.run-0002.tsv");
  const std::string c = read_text(dir + "/h.run-0003.tsv");
  ASSERT_FALSE(a.empty());
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a.find("/truth\t"), std::string::npos);
  const auto single = ft::run_factorysim_child({"run", quick, "--seed", "41", "--output",
                                                dir + "/single.tsv", "--no-progress", "--control",
                                                "off"});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(read_text(dir + "/single.tsv"), b);
  // Without a file there is nowhere to put the histories.
  const auto bad = ft::run_factorysim_child({"run", quick, "--runs", "2"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--runs needs --output"), std::string::npos) << bad.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
