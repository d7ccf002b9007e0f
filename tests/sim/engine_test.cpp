// The engine without sockets: a memory sink, hand-driven simulated time, no sleeping.
#include "sim/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"
#include "sim/memory_sink.hpp"

namespace {

using namespace factorysim;
using namespace std::chrono_literals;
using machines::sim_time;
using nlohmann::json;

// 2025-03-03T14:00:00Z, a Monday afternoon.
const sim_time t0 = sim_time{1'741'010'400'000ms};

constexpr const char* compressor_id = "c2000000-0000-0000-0000-000000000001";

/// Three machines (1 s, 10 s, 10 s) and a scheduled air leak 20 s after the start for 30 s.
scenarios::scenario quick(scenarios::time_mode mode, std::uint64_t seed = 1) {
  const std::string yaml = R"(
name: engine-test
seed: 1
time:
  mode: backfill
  from: 2025-03-03T14:00:00Z
  to: 2025-03-03T14:01:00Z
factories:
  - id: 44444444-4444-4444-4444-444444444444
    name: Test Shop
    timezone: UTC
    calendar:
      shifts:
        - { name: early, start: "06:00", end: "14:00", load: 1.0 }
        - { name: late, start: "14:00", end: "22:00", load: 0.9 }
machines:
  - id: c2000000-0000-0000-0000-000000000001
    name: Compressor-Q1
    type: compressor
    rated_power_kw: 30
    interval: 1s
    topic: factory/quick/compressor-1
  - id: c2000000-0000-0000-0000-000000000002
    name: Pump-Q1
    type: pump
    rated_power_kw: 15
    interval: 10s
    topic: factory/quick/pump-1
  - id: c2000000-0000-0000-0000-000000000003
    name: Conveyor-Q1
    type: motor
    rated_power_kw: 7.5
    interval: 10s
    topic: factory/quick/conveyor-1
faults:
  - machine: c2000000-0000-0000-0000-000000000001
    type: air_leak
    severity: 0.6
    after: 20s
    duration: 30s
)";
  scenarios::scenario s = scenarios::parse_scenario(yaml, "engine-test.yaml");
  s.mode = mode;
  s.seed = seed;
  if (mode != scenarios::time_mode::backfill) s.to.reset();
  return s;
}

sim::engine_options fixed_clocks() {
  sim::engine_options o;
  o.utc_now = [] { return t0; };
  o.wall_now = [] { return sim::pacer::wall_time{} + 1000s; };
  o.report = [](std::string_view what) { ADD_FAILURE() << "engine reported: " << what; };
  return o;
}

std::map<std::string, std::vector<json>> by_topic(const std::vector<sim::memory_message>& ms) {
  std::map<std::string, std::vector<json>> out;
  for (const auto& m : ms) out[m.topic].push_back(json::parse(m.payload));
  return out;
}

void expect_seq_without_gaps(const std::map<std::string, std::vector<json>>& topics) {
  for (const auto& [topic, msgs] : topics)
    for (std::size_t k = 0; k < msgs.size(); ++k)
      ASSERT_EQ(msgs[k]["seq"].get<std::uint64_t>(), k + 1) << topic;
}

/// Runs a whole backfill on a fresh io_context; returns the messages.
std::vector<sim::memory_message> backfill(scenarios::scenario s, bool* ok = nullptr) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  bool finished = false;
  e.on_finished([&](bool good) {
    finished = true;
    if (ok) *ok = good;
  });
  e.start();
  io.run();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(sink.shut_down());
  EXPECT_EQ(e.status().state, sim::run_state::stopped);
  return sink.messages();
}

TEST(engine_backfill, one_minute_gives_one_message_per_interval_and_stream) {
  bool ok = false;
  const auto msgs = backfill(quick(scenarios::time_mode::backfill), &ok);
  EXPECT_TRUE(ok);
  const auto topics = by_topic(msgs);
  for (const char* stream : {"energy", "production", "environmental"}) {
    EXPECT_EQ(topics.at(std::string("factory/quick/compressor-1/") + stream).size(), 60u) << stream;
    EXPECT_EQ(topics.at(std::string("factory/quick/pump-1/") + stream).size(), 6u) << stream;
    EXPECT_EQ(topics.at(std::string("factory/quick/conveyor-1/") + stream).size(), 6u) << stream;
  }
  expect_seq_without_gaps(topics);
  // Readings carry their deadlines: t0 + n x interval.
  const auto& energy = topics.at("factory/quick/compressor-1/energy");
  EXPECT_EQ(energy.front()["time"], "2025-03-03T14:00:01.000Z");
  EXPECT_EQ(energy.back()["time"], "2025-03-03T14:01:00.000Z");
  EXPECT_EQ(topics.at("factory/quick/pump-1/energy").front()["time"], "2025-03-03T14:00:10.000Z");
  EXPECT_EQ(topics.at("factory/quick/pump-1/production").front()["shift"], "late");

  // The scheduled fault: start and end on T/events, as ground truth.
  const auto& events = topics.at("factory/quick/compressor-1/events");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "start");
  EXPECT_EQ(events[0]["anomaly_type"], "air_leak");
  EXPECT_EQ(events[0]["started_at"], "2025-03-03T14:00:20.000Z");
  EXPECT_EQ(events[0]["source"], "scenario");
  EXPECT_EQ(events[0]["severity"], "warning");
  EXPECT_EQ(events[1]["event"], "end");
  EXPECT_EQ(events[1]["ended_at"], "2025-03-03T14:00:50.000Z");

  // Status: first step, then changes, and offline at the end (retained).
  for (const char* m : {"compressor-1", "pump-1", "conveyor-1"}) {
    const auto& status = topics.at(std::string("factory/quick/") + m + "/status");
    ASSERT_GE(status.size(), 2u);
    EXPECT_EQ(status.back()["operating_mode"], "offline");
    EXPECT_EQ(status.back()["is_running"], false);
    EXPECT_EQ(status.back()["time"], "2025-03-03T14:01:00.000Z");
  }
  for (const auto& m : msgs)
    EXPECT_EQ(m.retain, m.topic.ends_with("/status")) << m.topic;
}

TEST(engine_backfill, same_seed_same_bytes_other_seed_differs) {
  const auto a = backfill(quick(scenarios::time_mode::backfill, 7));
  const auto b = backfill(quick(scenarios::time_mode::backfill, 7));
  const auto c = backfill(quick(scenarios::time_mode::backfill, 8));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].topic, b[i].topic);
    ASSERT_EQ(a[i].payload, b[i].payload);
  }
  std::size_t differing = 0;
  for (std::size_t i = 0; i < std::min(a.size(), c.size()); ++i)
    if (a[i].payload != c[i].payload) ++differing;
  EXPECT_GT(differing, a.size() / 2);
}

TEST(engine_backfill, a_full_sink_pauses_stepping_and_loses_nothing) {
  const auto reference = backfill(quick(scenarios::time_mode::backfill));
  boost::asio::io_context io;
  sim::memory_sink sink(25);  // a small "window"
  sim::engine e(io, quick(scenarios::time_mode::backfill), sink, fixed_clocks());
  bool finished = false;
  e.on_finished([&](bool) { finished = true; });
  e.start();
  std::vector<sim::memory_message> got;
  int rounds = 0;
  while (!finished && rounds < 10'000) {
    io.restart();
    io.run();  // returns when the engine waits for room (nothing else to do)
    EXPECT_LE(sink.messages().size(), 25u + 8u);  // at most one step beyond the window
    for (auto& m : sink.take()) got.push_back(std::move(m));
    ++rounds;
  }
  ASSERT_TRUE(finished);
  EXPECT_GE(static_cast<std::size_t>(rounds), reference.size() / (25 + 8));  // it did wait
  ASSERT_EQ(got.size(), reference.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].payload, reference[i].payload);
}

TEST(engine_paced, deadlines_are_drift_free_and_late_steps_count_as_overruns) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  // On time: the simulated clock reaches each deadline exactly.
  for (int k = 1; k <= 10; ++k) EXPECT_EQ(e.advance_to(t0 + 1s * k), k == 10 ? 3u : 1u);
  EXPECT_EQ(e.status().overruns, 0u);
  // The loop was held up for 5 s: the compressor's deadlines 11..15 all step now, each keeps
  // its own timestamp; those more than one interval late (11, 12, 13) are overruns.
  EXPECT_EQ(e.advance_to(t0 + 15s), 5u);
  EXPECT_EQ(e.status().overruns, 3u);
  EXPECT_EQ(e.machine(0).overruns, 3u);
  EXPECT_EQ(e.machine(1).overruns, 0u);
  const auto topics = by_topic(sink.messages());
  const auto& energy = topics.at("factory/quick/compressor-1/energy");
  ASSERT_EQ(energy.size(), 15u);
  for (std::size_t k = 0; k < energy.size(); ++k) {
    std::string expected = "2025-03-03T14:00:" + std::string(k + 1 < 10 ? "0" : "") +
                           std::to_string(k + 1) + ".000Z";
    EXPECT_EQ(energy[k]["time"], expected);
  }
  expect_seq_without_gaps(topics);
  EXPECT_EQ(e.status().published[0], 15u + 1u + 1u);  // energy: compressor 15, pump 1, conveyor 1
}

TEST(engine_paced, pause_and_resume_keep_seq_continuous) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  e.start();
  e.advance_to(t0 + 5s);
  e.pause();
  EXPECT_EQ(e.status().state, sim::run_state::paused);
  EXPECT_EQ(e.advance_to(t0 + 9s), 0u);  // nothing steps while paused
  EXPECT_THROW(e.pause(), sim::control_error);
  e.resume();
  e.advance_to(t0 + 12s);
  const auto topics = by_topic(sink.messages());
  const auto& energy = topics.at("factory/quick/compressor-1/energy");
  ASSERT_EQ(energy.size(), 12u);  // accelerated: continues where it paused, no interval lost
  expect_seq_without_gaps(topics);
}

TEST(engine_paced, realtime_resume_skips_the_paused_intervals_but_not_seq) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  sim_time utc = t0;
  auto wall = sim::pacer::wall_time{} + 1000s;
  auto o = fixed_clocks();
  o.utc_now = [&] { return utc; };
  o.wall_now = [&] { return wall; };
  sim::engine e(io, quick(scenarios::time_mode::realtime), sink, o);
  e.start();
  e.advance_to(t0 + 3s);
  e.pause();
  utc += 60s;
  wall += 60s;
  e.resume();
  e.advance_to(t0 + 62s);
  const auto topics = by_topic(sink.messages());
  const auto& energy = topics.at("factory/quick/compressor-1/energy");
  ASSERT_EQ(energy.size(), 5u);
  EXPECT_EQ(energy[2]["time"], "2025-03-03T14:00:03.000Z");
  EXPECT_EQ(energy[3]["time"], "2025-03-03T14:01:01.000Z");
  expect_seq_without_gaps(topics);
}

TEST(engine_control, a_stopped_machine_goes_offline_and_silent) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  e.start();
  e.advance_to(t0 + 5s);
  const std::vector<std::string> ids{compressor_id};
  e.set_machine_enabled(ids, false);
  EXPECT_FALSE(e.machine(0).enabled);
  EXPECT_EQ(e.status().machines_enabled, 2u);
  const auto after_stop = sink.messages().size();
  ASSERT_EQ(sink.messages().back().topic, "factory/quick/compressor-1/status");
  EXPECT_EQ(json::parse(sink.messages().back().payload)["operating_mode"], "offline");
  e.advance_to(t0 + 9s);
  for (std::size_t k = after_stop; k < sink.messages().size(); ++k)
    EXPECT_FALSE(sink.messages()[k].topic.starts_with("factory/quick/compressor-1/"));
  e.set_machine_enabled(ids, true);
  e.advance_to(t0 + 12s);
  const auto topics = by_topic(sink.messages());
  EXPECT_EQ(topics.at("factory/quick/compressor-1/energy").size(), 8u);  // 1..5, 10..12
  EXPECT_EQ(topics.at("factory/quick/compressor-1/energy")[5]["time"], "2025-03-03T14:00:10.000Z");
  expect_seq_without_gaps(topics);
  EXPECT_THROW(e.set_machine_enabled(std::vector<std::string>{"nope"}, false), sim::control_error);
}

TEST(engine_control, injected_fault_goes_through_the_fault_book_and_t_events) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  s.faults.clear();
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  e.start();
  e.advance_to(t0 + 60s);
  const std::size_t c = e.machine_index(compressor_id);
  const auto id = e.inject_fault(c, machines::fault_type::air_leak, 0.9, 20s);
  EXPECT_GT(id, 0u);
  e.advance_to(t0 + 61s);
  ASSERT_EQ(e.machine(c).active_faults.size(), 1u);
  EXPECT_EQ(e.status().active_faults, 1u);
  e.advance_to(t0 + 90s);
  EXPECT_TRUE(e.machine(c).active_faults.empty());
  const auto topics = by_topic(sink.messages());
  const auto& events = topics.at("factory/quick/compressor-1/events");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "start");
  EXPECT_EQ(events[0]["source"], "api");
  EXPECT_EQ(events[0]["severity"], "critical");
  EXPECT_EQ(events[0]["fault_id"], id);
  EXPECT_EQ(events[1]["event"], "end");
  EXPECT_EQ(events[1]["ended_at"], "2025-03-03T14:01:20.000Z");

  // Until cleared, then cleared by id.
  const auto open = e.inject_fault(c, machines::fault_type::bearing_wear, 0.5, std::nullopt);
  e.advance_to(t0 + 95s);
  EXPECT_EQ(e.machine(c).active_faults.size(), 1u);
  e.clear_fault(c, open);
  e.advance_to(t0 + 96s);
  EXPECT_TRUE(e.machine(c).active_faults.empty());
  EXPECT_THROW(e.clear_fault(c, 999), sim::control_error);

  try {
    e.inject_fault(c, machines::fault_type::heater_failure, 0.5, 10s);
    ADD_FAILURE() << "heater_failure on a compressor was accepted";
  } catch (const sim::control_error& err) {
    EXPECT_EQ(err.which(), sim::control_error::code::invalid_argument);
  }
  EXPECT_THROW(e.inject_fault(c, machines::fault_type::air_leak, 1.5, 10s), sim::control_error);
  EXPECT_THROW(e.inject_fault(c, machines::fault_type::air_leak, 0.5, 0s), sim::control_error);
  try {
    (void)e.machine_index("unknown");
    ADD_FAILURE();
  } catch (const sim::control_error& err) {
    EXPECT_EQ(err.which(), sim::control_error::code::not_found);
  }
}

TEST(engine_control, set_interval_and_set_speed) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  s.speed = 10;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  e.start();
  e.advance_to(t0 + 4s);
  e.set_interval(0, 5s);
  EXPECT_EQ(e.machine(0).interval, 5000ms);
  EXPECT_EQ(e.machine(0).next_deadline, t0 + 9s);
  e.advance_to(t0 + 20s);
  const auto topics = by_topic(sink.messages());
  const auto& energy = topics.at("factory/quick/compressor-1/energy");
  ASSERT_EQ(energy.size(), 4u + 3u);  // 1..4, then 9, 14, 19
  EXPECT_EQ(energy[4]["time"], "2025-03-03T14:00:09.000Z");
  // The reading covers the new, longer interval: about 5x the energy of a 1 s step.
  const double e1 = energy[3]["energy_kwh"].get<double>();
  const double e5 = energy[5]["energy_kwh"].get<double>();
  EXPECT_GT(e5, 2.5 * e1);
  EXPECT_THROW(e.set_interval(0, 1ms), sim::control_error);

  e.set_speed(100);
  EXPECT_DOUBLE_EQ(e.status().speed, 100);
  EXPECT_THROW(e.set_speed(0), sim::control_error);
}

TEST(engine_control, set_speed_is_refused_outside_accelerated_mode) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  sim::engine e(io, quick(scenarios::time_mode::backfill), sink, fixed_clocks());
  try {
    e.set_speed(2);
    ADD_FAILURE();
  } catch (const sim::control_error& err) {
    EXPECT_EQ(err.which(), sim::control_error::code::conflict);
  }
}

TEST(engine_control, stop_publishes_offline_status_once_per_machine) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::accelerated);
  s.from = t0;
  sim::engine e(io, std::move(s), sink, fixed_clocks());
  bool finished = false;
  e.on_finished([&](bool ok) {
    finished = true;
    EXPECT_TRUE(ok);
  });
  e.start();
  e.advance_to(t0 + 30s);
  const std::vector<std::string> ids{compressor_id};
  e.set_machine_enabled(ids, false);  // already offline: no second offline status
  e.request_stop();
  io.run();
  EXPECT_TRUE(finished);
  const auto topics = by_topic(sink.messages());
  const auto& status = topics.at("factory/quick/compressor-1/status");
  EXPECT_EQ(status.back()["operating_mode"], "offline");
  EXPECT_NE(status[status.size() - 2]["operating_mode"], "offline");
  EXPECT_EQ(topics.at("factory/quick/pump-1/status").back()["operating_mode"], "offline");
  EXPECT_EQ(topics.at("factory/quick/conveyor-1/status").back()["operating_mode"], "offline");
}

TEST(engine_options, backfill_without_a_start_is_refused) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = quick(scenarios::time_mode::backfill);
  s.from.reset();
  EXPECT_THROW(sim::engine(io, std::move(s), sink, fixed_clocks()), std::invalid_argument);
  auto s2 = quick(scenarios::time_mode::backfill);
  s2.to = *s2.from;
  EXPECT_THROW(sim::engine(io, std::move(s2), sink, fixed_clocks()), std::invalid_argument);
}

}  // namespace

namespace {

/// One conveyor that wears out within hours (issue 10), one minute steps, run to failure.
scenarios::scenario wearing(bool truth, bool run_to_failure) {
  std::string yaml = R"(
name: wear-test
seed: 3
time: { mode: backfill, from: 2025-03-03T00:00:00Z, to: 2025-03-06T00:00:00Z }
simulation: { truth: TRUTH }
factories:
  - id: 44444444-4444-4444-4444-444444444444
    name: Test Shop
    timezone: UTC
    calendar:
      working_days: [sun, mon, tue, wed, thu, fri, sat]
machines:
  - id: c2000000-0000-0000-0000-000000000003
    name: Conveyor-W1
    type: motor
    rated_power_kw: 7.5
    interval: 60s
    topic: factory/wear/conveyor-1
    degradation: { initial_wear: { bearing: 0.5 }, life_scale: 0.001 }
    maintenance:
      run_to_failure: RTF
      corrective: { response: 1h, duration: 3h }
)";
  yaml.replace(yaml.find("TRUTH"), 5, truth ? "true" : "false");
  yaml.replace(yaml.find("RTF"), 3, run_to_failure ? "true" : "false");
  return scenarios::parse_scenario(yaml, "wear-test.yaml");
}

TEST(engine_truth, truth_follows_every_energy_reading_and_failure_and_repair_go_to_t_events) {
  const auto topics = by_topic(backfill(wearing(true, false)));
  expect_seq_without_gaps(topics);
  const auto& truth = topics.at("factory/wear/conveyor-1/truth");
  const auto& energy = topics.at("factory/wear/conveyor-1/energy");
  ASSERT_EQ(truth.size(), energy.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ASSERT_EQ(truth[i]["time"], energy[i]["time"]);
    for (const char* k : {"health_index", "limiting_component", "rul_operating_h",
                          "rul_calendar_h", "failed", "active_faults", "faulted_signals",
                          "health_bearing"})
      ASSERT_TRUE(truth[i].contains(k)) << k;
  }
  const auto& events = topics.at("factory/wear/conveyor-1/events");
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["event"], "failure");
  EXPECT_EQ(events[0]["component"], "bearing");
  EXPECT_EQ(events[0]["anomaly_type"], "bearing_failure");
  EXPECT_EQ(events[0]["severity"], "critical");
  EXPECT_EQ(events[1]["event"], "maintenance_start");
  EXPECT_EQ(events[1]["maintenance_type"], "corrective");
  EXPECT_EQ(events[1]["component"], "bearing");
  EXPECT_EQ(events[1]["health_before"], 0.0);
  EXPECT_EQ(events[1]["health_after"], 1.0);
  EXPECT_EQ(events[1]["duration_h"], 3.0);
  EXPECT_EQ(events[2]["event"], "maintenance_end");
  EXPECT_EQ(events[2]["work_order"], events[1]["work_order"]);
  EXPECT_EQ(events[1]["work_order"].get<std::string>().rfind("WO-", 0), 0u);

  // The truth at the failure's instant says failed with RUL 0; the status says fault, then
  // maintenance, then running again.
  const std::string failed_at = events[0]["time"];
  bool seen = false;
  for (const auto& t : truth)
    if (t["time"] == failed_at) {
      seen = true;
      EXPECT_EQ(t["failed"], true);
      EXPECT_EQ(t["rul_operating_h"], 0.0);
      EXPECT_EQ(t["health_bearing"], 0.0);
    }
  EXPECT_TRUE(seen);
  std::vector<std::string> modes;
  for (const auto& s : topics.at("factory/wear/conveyor-1/status")) modes.push_back(s["operating_mode"]);
  const auto fault = std::find(modes.begin(), modes.end(), "fault");
  ASSERT_NE(fault, modes.end());
  const auto maintenance = std::find(fault, modes.end(), "maintenance");
  ASSERT_NE(maintenance, modes.end());
  EXPECT_NE(std::find(maintenance, modes.end(), "running"), modes.end());
}

TEST(engine_truth, an_interruption_is_named_in_the_truth_of_the_idle_readings_it_causes) {
  // Three days of a conveyor on every day: micro-stops at 1.5 per hour by default.
  const auto topics = by_topic(backfill(wearing(true, false)));
  const auto& truth = topics.at("factory/wear/conveyor-1/truth");
  const auto& production = topics.at("factory/wear/conveyor-1/production");
  ASSERT_EQ(truth.size(), production.size());
  int stops = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ASSERT_EQ(truth[i]["time"], production[i]["time"]);
    if (!truth[i].contains("interruption")) continue;
    ++stops;
    EXPECT_EQ(truth[i]["interruption"], "micro_stop");  // a conveyor has no changeovers
    EXPECT_EQ(production[i]["operating_mode"], "idle") << truth[i]["time"];
    EXPECT_EQ(production[i]["production_count"], 0) << truth[i]["time"];
  }
  // One-minute steps see the stops that are under way at a step's end: about 1.5 x 38 s per
  // hour of the 72, minus the hours the conveyor is down for repair.
  EXPECT_GT(stops, 10);
  EXPECT_LT(stops, 200);
}

TEST(engine_truth, truth_false_publishes_no_truth_and_the_readings_stay_the_same) {
  const auto with = backfill(wearing(true, true));
  const auto without = backfill(wearing(false, true));
  std::vector<sim::memory_message> filtered;
  for (const auto& m : with)
    if (!m.topic.ends_with("/truth")) filtered.push_back(m);
  ASSERT_EQ(filtered.size(), without.size());
  for (std::size_t i = 0; i < without.size(); ++i) {
    ASSERT_FALSE(without[i].topic.ends_with("/truth"));
    ASSERT_EQ(filtered[i].payload, without[i].payload);
  }
}

}  // namespace
