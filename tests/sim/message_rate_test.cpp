// The expected message rate of a scenario and the run summary (issue 13): computed from the
// expanded scenario, checked against hand-computed figures and against what the engine really
// publishes over a range.
#include "sim/message_rate.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "scenarios/scenario.hpp"
#include "scenarios/text_formats.hpp"
#include "sim/engine.hpp"
#include "sim/memory_sink.hpp"
#include "sim/run_summary.hpp"

namespace {

namespace sim = factorysim::sim;
namespace sc = factorysim::scenarios;
using namespace std::chrono_literals;

const std::string source_dir = FACTORYSIM_SOURCE_DIR;

sc::scenario demo(sc::load_options o = {}) {
  return sc::load_scenario(source_dir + "/scenarios/demo-plant.yaml", o);
}

factorysim::machines::sim_time at(const char* t) {
  return *sc::parse_rfc3339(t);
}

TEST(message_rate, demo_plant_by_hand) {
  // Two 1 s compressors, three 10 s machines (two HVACs, a conveyor), two 30 s machines.
  const auto r = sim::estimate_message_rate(demo(), std::nullopt, std::nullopt);
  EXPECT_EQ(r.machines, 7u);
  EXPECT_NEAR(r.readings_per_s, 2 + 3 * 0.1 + 2 / 30.0, 1e-12);
  EXPECT_EQ(r.reading_streams, 4);  // T/truth is on by default
  EXPECT_NEAR(r.readings_all_streams_per_s(), 4 * (2 + 0.3 + 2 / 30.0), 1e-12);
  EXPECT_EQ(r.speed, 1);  // realtime
  EXPECT_EQ(r.status_start_end, 14u);
  // Random faults: spike 2/day on each of the 7, air leak 1, fouled coil 0.3, belt slip 0.5;
  // two events (start, end) each.
  EXPECT_NEAR(r.random_events_per_s, 2 * (7 * 2 + 1 + 0.3 + 0.5) / 86400.0, 1e-12);
  EXPECT_FALSE(r.readings_total);
  EXPECT_NEAR(r.wall_rate_per_s(), 4 * r.readings_per_s + r.random_events_per_s, 1e-12);
}

TEST(message_rate, replicas_scale_it_and_accelerated_multiplies_by_the_speed) {
  auto s = demo({.replicas = 10});
  EXPECT_EQ(s.machines.size(), 70u);
  s.mode = sc::time_mode::accelerated;
  s.speed = 60;
  const auto r = sim::estimate_message_rate(s, std::nullopt, std::nullopt);
  EXPECT_NEAR(r.readings_per_s, 10 * (2 + 0.3 + 2 / 30.0), 1e-9);
  EXPECT_NEAR(r.wall_rate_per_s(), 60 * (4 * r.readings_per_s + r.random_events_per_s), 1e-9);
}

TEST(message_rate, readings_in_a_range_are_the_deadlines_after_from_up_to_to) {
  EXPECT_EQ(sim::readings_in_range(1s, at("2024-06-01T00:00:00Z"), at("2024-06-01T01:00:00Z")),
            3600u);
  EXPECT_EQ(sim::readings_in_range(30s, at("2024-06-01T00:00:00Z"), at("2024-06-01T01:00:00Z")),
            120u);
  // Unaligned ends: deadlines at :10, :20 ... inside (00:00:05, 00:00:35].
  EXPECT_EQ(sim::readings_in_range(10s, at("2024-06-01T00:00:05Z"), at("2024-06-01T00:00:35Z")),
            3u);
  EXPECT_EQ(sim::readings_in_range(10s, at("2024-06-01T00:00:05Z"), at("2024-06-01T00:00:05Z")),
            0u);
}

// The estimate against the engine: readings and status at start/end exactly, events close.
TEST(message_rate, a_backfill_publishes_what_the_estimate_says) {
  auto s = sc::load_scenario(source_dir + "/scenarios/quick-test.yaml");
  const auto r = sim::estimate_message_rate(s, s.from, s.to);
  ASSERT_TRUE(r.readings_total);
  boost::asio::io_context io;
  sim::memory_sink sink;
  sim::engine e(io, std::move(s), sink);
  e.start();
  io.run();
  const auto st = e.status();
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(st.published[k], *r.readings_total);
  EXPECT_EQ(st.published[static_cast<std::size_t>(sim::stream::truth)], *r.readings_total);
  EXPECT_GE(st.published[static_cast<std::size_t>(sim::stream::status)], r.status_start_end);
  EXPECT_EQ(st.published[static_cast<std::size_t>(sim::stream::events)], r.scheduled_events);
}

TEST(run_summary, json_has_the_documented_keys_and_the_achieved_rate) {
  sim::run_summary s;
  s.version = "0.1.0 (abc)";
  s.scenario = "demo-plant";
  s.mode = "backfill";
  s.machines = 7;
  s.target = "mqtt://127.0.0.1:1883";
  s.qos = 1;
  s.expected =
      sim::estimate_message_rate(demo(), at("2024-06-01T00:00:00Z"), at("2024-06-01T01:00:00Z"));
  s.published = {{"energy", 8520},
                 {"production", 8520},
                 {"environmental", 8520},
                 {"status", 14},
                 {"events", 4}};
  s.wall_s = 2.0;
  s.simulated_s = 3600;
  const auto j = nlohmann::json::parse(sim::to_json(s));
  for (const char* k : {"factorysim", "scenario",    "file",       "seed",     "mode",
                        "speed",      "from",        "to",         "machines", "target",
                        "format",     "qos",         "sessions",   "expected", "published",
                        "wall_s",     "simulated_s", "rate_per_s", "overruns", "publish_errors",
                        "reconnects", "exit_code"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["published"]["total"], 25578);
  EXPECT_DOUBLE_EQ(j["rate_per_s"].get<double>(), 12789.0);
  EXPECT_EQ(j["expected"]["readings_total_per_stream"], 8520);
  EXPECT_TRUE(j["format"].is_null());
  EXPECT_EQ(sim::achieved_rate_line(s),
            "achieved: 25578 messages in 2.000 s wall = 12789 msg/s, 3600 simulated s (x1800)");
}

}  // namespace
