// `factorysim replay` (issue 13) with a real mosquitto and a libmosquitto subscriber: the bytes
// of a capture reach the broker unchanged (as fast as possible, paced, from tsv and jsonl),
// /status topics are retained, a paced replay never runs ahead of the capture's clock, and
// rebasing changes only the time values.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/text_formats.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/mosquitto_server.hpp"

namespace {

using namespace std::chrono_literals;
namespace ft = factorysim::test;
using nlohmann::json;

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct message {
  std::string topic, payload;
  bool operator<(const message& o) const {
    return std::tie(topic, payload) < std::tie(o.topic, o.payload);
  }
  bool operator==(const message&) const = default;
};

std::vector<message> capture_lines(const std::string& path) {
  std::vector<message> out;
  std::istringstream in(read_all(path));
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    out.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return out;
}

/// Per topic, in arrival order (one topic is one session: MQTT keeps its order).
std::map<std::string, std::vector<std::string>> by_topic(const std::vector<message>& ms) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& m : ms) out[m.topic].push_back(m.payload);
  return out;
}

class replay_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ft::make_temp_dir("factorysim-replay");
    capture_ = dir_ + "/hour.tsv";
    // One simulated hour of the demo plant: 7 machines, every stream, four fault events.
    const auto r = ft::run_factorysim_child(
        {"run", std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml", "--mode",
         "backfill", "--from", "2024-06-01T00:00:00Z", "--to", "2024-06-01T01:00:00Z", "--output",
         capture_, "--control", "off"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<message> received(ft::mqtt_collector& c, std::size_t n) {
    EXPECT_TRUE(c.wait_for_count(n, 30s)) << c.count() << " of " << n;
    c.wait_quiet(300ms, 5s);
    std::vector<message> out;
    for (const auto& m : c.messages()) out.push_back({m.topic, m.payload});
    return out;
  }

  std::string dir_, capture_;
  ft::mosquitto_server broker_;
};

TEST_F(replay_test, asap_delivers_every_message_byte_for_byte_and_retains_status) {
  const auto expected = capture_lines(capture_);
  ASSERT_GT(expected.size(), 20000u);
  ft::mqtt_collector collector(broker_.host(), broker_.port(), "factory/#");
  const auto r = ft::run_factorysim_child(
      {"replay", capture_, "--mqtt-port", std::to_string(broker_.port()), "--asap"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("published " + std::to_string(expected.size()) + " of"), std::string::npos)
      << r.err;
  const auto got = received(collector, expected.size());
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(by_topic(got), by_topic(expected));  // same bytes, same order per topic

  // The last status of each machine stays retained on the broker.
  ft::mqtt_collector late(broker_.host(), broker_.port(), "factory/+/+/status");
  ASSERT_TRUE(late.wait_for_count(7, 10s));
  std::map<std::string, std::string> last_status;
  for (const auto& m : expected)
    if (m.topic.ends_with("/status")) last_status[m.topic] = m.payload;
  for (const auto& m : late.messages()) {
    EXPECT_TRUE(m.retained) << m.topic;
    EXPECT_EQ(m.payload, last_status.at(m.topic));
  }
}

TEST_F(replay_test, jsonl_capture_replays_the_same_bytes) {
  const std::string jsonl = dir_ + "/hour.jsonl";
  const auto run = ft::run_factorysim_child(
      {"run", std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml", "--mode",
       "backfill", "--from", "2024-06-01T00:00:00Z", "--to", "2024-06-01T01:00:00Z", "--output",
       jsonl, "--format", "jsonl", "--control", "off"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto expected = capture_lines(capture_);
  ft::mqtt_collector collector(broker_.host(), broker_.port(), "factory/#");
  const auto r =
      ft::run_factorysim_child({"replay", jsonl, "--mqtt-port", std::to_string(broker_.port()),
                                "--asap", "--sessions", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = received(collector, expected.size());
  // One session: the broker keeps the capture's whole order.
  EXPECT_EQ(got, expected);
}

TEST_F(replay_test, paced_replay_never_runs_ahead_of_the_capture_clock) {
  // quick-test's minute at x30: the last message is due ~2 s after the first; pacing may
  // only be late, never early.
  const std::string two_min = dir_ + "/minute.tsv";
  const auto run = ft::run_factorysim_child(
      {"run", std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/quick-test.yaml", "--output",
       two_min, "--control", "off"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto expected = capture_lines(two_min);
  ft::mqtt_collector collector(broker_.host(), broker_.port(), "factory/#");
  const auto r = ft::run_factorysim_child(
      {"replay", two_min, "--mqtt-port", std::to_string(broker_.port()), "--speed", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // quick-test spans 59 s between its first and last message: 59 / 30 = 1.97 s at least.
  EXPECT_GE(r.wall_s, 59.0 / 30.0) << r.err;
  EXPECT_EQ(by_topic(received(collector, expected.size())), by_topic(expected));
}

TEST_F(replay_test, rebasing_changes_only_time_values_by_one_offset) {
  const auto expected = capture_lines(capture_);
  ft::mqtt_collector collector(broker_.host(), broker_.port(), "factory/#");
  const auto r =
      ft::run_factorysim_child({"replay", capture_, "--mqtt-port", std::to_string(broker_.port()),
                                "--asap", "--rebase-to", "2030-01-07T08:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = by_topic(received(collector, expected.size()));
  const auto want = by_topic(expected);
  ASSERT_EQ(got.size(), want.size());
  // The capture's earliest `time` moves to 2030-01-07T08:00:00Z; every time by that offset.
  std::optional<factorysim::machines::sim_time> first;
  for (const auto& m : expected) {
    const auto t =
        factorysim::scenarios::parse_rfc3339(json::parse(m.payload).at("time").get<std::string>());
    if (!first || *t < *first) first = t;
  }
  const auto offset = *factorysim::scenarios::parse_rfc3339("2030-01-07T08:00:00Z") - *first;
  std::size_t rebased = 0;
  for (const auto& [topic, payloads] : want) {
    ASSERT_EQ(got.at(topic).size(), payloads.size()) << topic;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      const json a = json::parse(payloads[i]);
      const json b = json::parse(got.at(topic)[i]);
      ASSERT_EQ(a.size(), b.size());
      EXPECT_EQ(payloads[i].size(), got.at(topic)[i].size());  // same length: only digits move
      for (auto it = a.begin(); it != a.end(); ++it) {
        const std::string& key = it.key();
        if (key == "time" || key.ends_with("_at")) {
          const auto ta = factorysim::scenarios::parse_rfc3339(it->get<std::string>());
          const auto tb = factorysim::scenarios::parse_rfc3339(b.at(key).get<std::string>());
          ASSERT_TRUE(ta && tb);
          EXPECT_EQ(*tb - *ta, offset) << key;
          ++rebased;
        } else {
          EXPECT_EQ(*it, b.at(key)) << topic << " " << key;
        }
      }
    }
  }
  EXPECT_GT(rebased, expected.size());
}

TEST_F(replay_test, a_malformed_capture_is_bad_input_with_its_line) {
  const std::string bad = dir_ + "/bad.tsv";
  std::ofstream(bad) << "factory/x/energy\t{\"time\":\"2024-01-01T00:00:00.000Z\"}\n"
                     << "no tab here\n";
  const auto r = ft::run_factorysim_child(
      {"replay", bad, "--mqtt-port", std::to_string(broker_.port()), "--asap"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bad + ":2: expected topic<TAB>payload"), std::string::npos) << r.err;
  const auto missing =
      ft::run_factorysim_child({"replay", dir_ + "/none.tsv", "--mqtt-port", "1", "--asap"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
}

}  // namespace
