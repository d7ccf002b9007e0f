// Issue 9: the engine's scheduled send times for --stamp-send-time, with a memory sink and
// hand-driven clocks (no sockets, no sleeping). Paced modes stamp the pacer's wall instant of
// each deadline (so a late step keeps its due time); backfill stamps the hand-over.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/memory_sink.hpp"

namespace {

using namespace factorysim;
using namespace std::chrono_literals;
using machines::sim_time;

const sim_time t0 = sim_time{1'741'010'400'000ms};  // 2025-03-03T14:00:00Z

scenarios::scenario one_compressor(scenarios::time_mode mode, bool stamp) {
  scenarios::scenario s = scenarios::parse_scenario(R"(
name: stamp-test
seed: 1
time:
  mode: backfill
  from: 2025-03-03T14:00:00Z
  to: 2025-03-03T14:01:00Z
factories:
  - id: 44444444-4444-4444-4444-444444444444
    name: Test Shop
    timezone: UTC
machines:
  - id: c2000000-0000-0000-0000-000000000001
    name: Compressor-Q1
    type: compressor
    rated_power_kw: 30
    interval: 1s
    topic: factory/quick/compressor-1
mqtt:
  stamp_send_time: true
)",
                                                    "stamp-test.yaml");
  s.mode = mode;
  s.mqtt.stamp_send_time = stamp;
  if (mode != scenarios::time_mode::backfill) s.to.reset();
  return s;
}

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::int64_t> energy_stamps(const std::vector<sim::memory_message>& ms) {
  std::vector<std::int64_t> out;
  for (const auto& m : ms)
    if (m.topic.ends_with("/energy")) out.push_back(m.scheduled_send_us);
  return out;
}

TEST(send_stamp, the_yaml_key_turns_stamping_on) {
  EXPECT_TRUE(one_compressor(scenarios::time_mode::backfill, true).mqtt.stamp_send_time);
  EXPECT_FALSE(scenarios::mqtt_settings{}.stamp_send_time);
}

TEST(send_stamp, accelerated_steps_are_stamped_on_the_pacer_timeline_even_when_late) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  auto s = one_compressor(scenarios::time_mode::accelerated, true);
  s.from = t0;
  s.speed = 10;
  sim::engine_options o;
  o.utc_now = [] { return t0; };
  o.wall_now = [] { return sim::pacer::wall_time{} + 1000s; };  // frozen: every step is "late"
  sim::engine e(io, std::move(s), sink, o);
  const std::int64_t before_us = unix_now_us();
  e.start();
  const std::int64_t after_us = unix_now_us();
  e.advance_to(t0 + 20s);  // all at once, as a loop held up would
  const auto stamps = energy_stamps(sink.messages());
  ASSERT_GE(stamps.size(), 20u);
  // 1 s simulated at x10 is 100 ms of wall time, exactly, however late the step ran.
  for (std::size_t k = 1; k < stamps.size(); ++k) ASSERT_EQ(stamps[k] - stamps[k - 1], 100'000) << k;
  // The timeline starts at the run's start on the real clock.
  EXPECT_GE(stamps.front(), before_us);
  EXPECT_LE(stamps.front(), after_us + 100'000);
}

TEST(send_stamp, backfill_stamps_the_hand_over_and_no_flag_stamps_nothing) {
  for (const bool stamp : {true, false}) {
    boost::asio::io_context io;
    sim::memory_sink sink;
    sim::engine e(io, one_compressor(scenarios::time_mode::backfill, stamp), sink);
    const std::int64_t before_us = unix_now_us();
    e.start();
    io.run();
    const std::int64_t after_us = unix_now_us();
    ASSERT_GT(sink.messages().size(), 60u);
    std::int64_t previous = 0;
    for (const auto& m : sink.messages()) {
      if (!stamp) {
        ASSERT_EQ(m.scheduled_send_us, 0) << m.topic;
        continue;
      }
      ASSERT_GE(m.scheduled_send_us, std::max(previous, before_us)) << m.topic;
      ASSERT_LE(m.scheduled_send_us, after_us) << m.topic;
      previous = m.scheduled_send_us;
    }
  }
}

}  // namespace
