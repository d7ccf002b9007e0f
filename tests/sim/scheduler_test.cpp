// The deadline heap and the pacer: pure, driven by hand, never sleeping.
#include "sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <vector>

#include "sim/pacer.hpp"

namespace {

using namespace std::chrono_literals;
using factorysim::machines::sim_time;
using factorysim::scenarios::time_mode;
using factorysim::sim::pacer;
using factorysim::sim::scheduler;

const sim_time t0 = sim_time{std::chrono::milliseconds{1'717'200'000'000}};  // 2024-06-01T00:00Z

TEST(scheduler, deadlines_are_drift_free_multiples_of_the_interval) {
  scheduler s;
  s.add(0, t0, 1000ms);
  s.add(1, t0, 10'000ms);
  s.add(2, t0 + 3ms, 333ms);
  std::map<std::size_t, std::vector<sim_time>> seen;
  while (s.next_deadline() <= t0 + 1h) {
    seen[s.next_machine()].push_back(s.next_deadline());
    s.advance_next();
  }
  ASSERT_EQ(seen[0].size(), 3600u);
  ASSERT_EQ(seen[1].size(), 360u);
  for (std::size_t n = 0; n < seen[0].size(); ++n)
    ASSERT_EQ(seen[0][n], t0 + 1000ms * static_cast<long>(n + 1));  // no accumulated drift
  for (std::size_t n = 0; n < seen[2].size(); ++n)
    ASSERT_EQ(seen[2][n].time_since_epoch().count() % 333, 0);  // aligned to the epoch
  EXPECT_GT(seen[2].front(), t0 + 3ms);
}

TEST(scheduler, ties_go_to_the_lower_index_in_time_order) {
  scheduler s;
  for (std::size_t i = 0; i < 5; ++i) s.add(i, t0, 1000ms);
  sim_time last{};
  std::size_t last_index = 0;
  for (int k = 0; k < 50; ++k) {
    const sim_time d = s.next_deadline();
    const std::size_t i = s.next_machine();
    if (k > 0) {
      ASSERT_GE(d, last);
      if (d == last) {
        ASSERT_GT(i, last_index);
      }
    }
    last = d;
    last_index = i;
    s.advance_next();
  }
}

TEST(scheduler, set_interval_continues_from_the_last_deadline) {
  scheduler s;
  s.add(0, t0, 1000ms);
  s.add(1, t0, 1000ms);
  for (int k = 0; k < 6; ++k) s.advance_next();  // both stepped t0+1s..t0+3s
  ASSERT_EQ(s.deadline_of(0), t0 + 4s);
  s.set_interval(0, 5000ms);
  EXPECT_EQ(s.deadline_of(0), t0 + 8s);  // last deadline t0+3s plus the new interval
  EXPECT_EQ(s.interval_of(0), 5000ms);
  std::vector<sim_time> of0;
  while (s.next_deadline() <= t0 + 30s) {
    if (s.next_machine() == 0) of0.push_back(s.next_deadline());
    s.advance_next();
  }
  // The stale entry at t0+4s never surfaces; steps follow the new interval.
  EXPECT_EQ(of0, (std::vector<sim_time>{t0 + 8s, t0 + 13s, t0 + 18s, t0 + 23s, t0 + 28s}));
}

TEST(scheduler, skip_to_drops_missed_deadlines_and_realigns) {
  scheduler s;
  s.add(0, t0, 1000ms);
  s.add(1, t0, 10'000ms);
  s.skip_to(t0 + 125'500ms);
  EXPECT_EQ(s.deadline_of(0), t0 + 126s);
  EXPECT_EQ(s.deadline_of(1), t0 + 130s);
  EXPECT_EQ(s.next_machine(), 0u);
}

TEST(pacer, accelerated_maps_both_ways_without_early_deadlines) {
  const auto w0 = pacer::wall_time{} + 1000s;
  pacer p(time_mode::accelerated, 60, t0, w0);
  EXPECT_EQ(p.sim_at(w0), t0);
  EXPECT_EQ(p.sim_at(w0 + 1s), t0 + 60s);
  EXPECT_EQ(p.wall_at(t0 + 60s), w0 + 1s);
  for (int ms = 1; ms < 5000; ms += 7) {
    const sim_time t = t0 + std::chrono::milliseconds(ms);
    ASSERT_GE(p.sim_at(p.wall_at(t)), t) << ms;  // when the timer fires, the deadline is due
    ASSERT_GE(p.wall_at(t), w0 + std::chrono::nanoseconds(static_cast<long>(ms * 1e6 / 60)));
  }
}

TEST(pacer, set_speed_rebases_without_a_jump) {
  const auto w0 = pacer::wall_time{} + 1000s;
  pacer p(time_mode::accelerated, 10, t0, w0);
  const auto w1 = w0 + 2s;
  const sim_time before = p.sim_at(w1);
  p.set_speed(100, w1);
  EXPECT_EQ(p.sim_at(w1), before);
  EXPECT_EQ(p.sim_at(w1 + 1s), before + 100s);
  EXPECT_DOUBLE_EQ(p.speed(), 100);
}

TEST(pacer, pause_freezes_and_resume_continues_or_jumps) {
  const auto w0 = pacer::wall_time{} + 1000s;
  pacer acc(time_mode::accelerated, 10, t0, w0);
  acc.pause(w0 + 1s);
  EXPECT_EQ(acc.sim_at(w0 + 50s), t0 + 10s);
  EXPECT_EQ(acc.wall_at(t0 + 11s), pacer::wall_time::max());
  acc.resume(w0 + 50s, t0 + 999s);
  EXPECT_EQ(acc.sim_at(w0 + 51s), t0 + 20s);  // continues where it stopped

  pacer rt(time_mode::realtime, 1, t0, w0);
  rt.pause(w0 + 1s);
  rt.resume(w0 + 60s, t0 + 60s);  // realtime follows the wall clock
  EXPECT_EQ(rt.sim_at(w0 + 61s), t0 + 61s);
}

TEST(pacer, backfill_is_never_paced) {
  pacer p(time_mode::backfill, 1, t0, pacer::wall_time{});
  EXPECT_EQ(p.wall_at(t0 + 24h), pacer::wall_time::min());
}

}  // namespace

// Issue 12: PUT /speed 1e300 sent the simulated clock to year 0 (a double -> integer cast out
// of range). The conversions saturate: whatever the speed, time never runs backwards.
TEST(pacer, absurd_speeds_saturate_instead_of_wrapping_issue_12) {
  const auto w0 = pacer::wall_time{} + 1000s;
  for (const double speed : {1e300, 1e19, std::numeric_limits<double>::max()}) {
    pacer p(time_mode::accelerated, 10, t0, w0);
    p.set_speed(speed, w0);
    for (const std::chrono::nanoseconds dt :
         {1ns, 1'000'000ns, 1'000'000'000ns, 3600'000'000'000ns}) {
      const auto t = p.sim_at(w0 + dt);
      EXPECT_GE(t, t0) << speed << " after " << dt.count() << " ns";
    }
    EXPECT_GE(p.sim_at(w0 + 2s), p.sim_at(w0 + 1s)) << speed;
    // The way back: a deadline far ahead is not reached before the start instant.
    EXPECT_GE(p.wall_at(t0 + 1000h), w0) << speed;
    EXPECT_GE(p.wall_at(sim_time::max()), w0) << speed;
  }
  // Tiny speeds: a deadline far ahead is far ahead, not in the past.
  pacer slow(time_mode::accelerated, 10, t0, w0);
  slow.set_speed(1e-300, w0);
  EXPECT_GE(slow.wall_at(t0 + 1s), w0);
  EXPECT_EQ(slow.sim_at(w0 + 3600s), t0);
}
