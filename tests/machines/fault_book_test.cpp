// Fault lifecycle: scheduled, cleared and random faults, and their events.
#include "machines/fault_book.hpp"

#include <gtest/gtest.h>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::at;

fault make(fault_type t, sim_time start, std::optional<sim_time> end, double severity = 0.5) {
  fault f;
  f.type = t;
  f.start = start;
  f.end = end;
  f.severity = severity;
  f.source = "scenario";
  return f;
}

TEST(fault_book, scheduled_fault_starts_and_ends_once) {
  fault_book book(machine_type::compressor, 1);
  const sim_time t0 = at(2024, 7, 16, 8);
  const auto id = book.add(make(fault_type::air_leak, t0 + minutes(10), t0 + minutes(20)));
  EXPECT_NE(id, 0u);
  EXPECT_EQ(book.pending().size(), 1u);
  std::vector<fault_event> events;
  int starts = 0, ends = 0;
  for (sim_time t = t0; t <= t0 + minutes(30); t += seconds(10)) {
    events.clear();
    book.advance(t, 10, events);
    for (const auto& e : events) {
      EXPECT_EQ(e.f.id, id);
      EXPECT_EQ(e.f.type, fault_type::air_leak);
      EXPECT_FALSE(e.signals.empty());
      if (e.what == fault_event::kind::start) {
        ++starts;
        EXPECT_EQ(e.at, t0 + minutes(10));
      } else {
        ++ends;
        EXPECT_EQ(e.at, t0 + minutes(20));
      }
    }
    // Issue 10: active for the intervals (t - 10 s, t] it overlaps, stamped at their end.
    const bool should_be_active = t > t0 + minutes(10) && t <= t0 + minutes(20);
    EXPECT_EQ(book.active().size(), should_be_active ? 1u : 0u) << "at +" << (t - t0).count();
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(ends, 1);
  EXPECT_TRUE(book.pending().empty());
}

TEST(fault_book, open_ended_fault_lasts_until_cleared) {
  fault_book book(machine_type::pump, 2);
  const sim_time t0 = at(2024, 7, 16, 8);
  const auto id = book.add(make(fault_type::cavitation, t0, std::nullopt));
  std::vector<fault_event> events;
  book.advance(t0, 1, events);
  EXPECT_TRUE(events.empty());  // the reading ending at the start instant is not faulted
  book.advance(t0 + seconds(1), 1, events);
  ASSERT_EQ(events.size(), 1u);
  book.advance(t0 + minutes(600), 1, events);
  EXPECT_EQ(book.active().size(), 1u);
  EXPECT_TRUE(book.clear(id, t0 + minutes(601)));
  EXPECT_FALSE(book.clear(id, t0 + minutes(602)));  // already over
  EXPECT_FALSE(book.clear(999, t0 + minutes(602)));
  events.clear();
  book.advance(t0 + minutes(601), 1, events);
  EXPECT_TRUE(events.empty());  // active during the interval that ends at the clear
  book.advance(t0 + minutes(601) + seconds(1), 1, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, fault_event::kind::end);
  EXPECT_EQ(events[0].at, t0 + minutes(601));
  EXPECT_TRUE(book.active().empty());
}

TEST(fault_book, clear_all_ends_active_and_drops_pending) {
  fault_book book(machine_type::hvac, 3);
  const sim_time t0 = at(2024, 7, 16, 8);
  book.add(make(fault_type::fouled_coil, t0, std::nullopt));
  book.add(make(fault_type::spike, t0 + minutes(60), t0 + minutes(70)));
  std::vector<fault_event> events;
  book.advance(t0 + seconds(10), 10, events);
  EXPECT_EQ(book.clear_all(t0 + minutes(5)), 2u);
  events.clear();
  book.advance(t0 + minutes(5) + seconds(10), 10, events);
  ASSERT_EQ(events.size(), 1u);  // the pending spike never happens
  EXPECT_EQ(events[0].what, fault_event::kind::end);
  events.clear();
  book.advance(t0 + minutes(90), 10, events);
  EXPECT_TRUE(events.empty());
}

TEST(fault_book, fault_shorter_than_a_step_still_reports_both_events) {
  fault_book book(machine_type::motor, 4);
  const sim_time t0 = at(2024, 7, 16, 8);
  book.add(make(fault_type::spike, t0 + seconds(3), t0 + seconds(5)));
  std::vector<fault_event> events;
  book.advance(t0 + seconds(30), 30, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, fault_event::kind::start);
  EXPECT_EQ(book.active().size(), 1u);  // it overlaps the interval (0 s, 30 s]
  book.advance(t0 + seconds(60), 30, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].what, fault_event::kind::end);
  EXPECT_TRUE(book.active().empty());
}

TEST(fault_book, random_rate_matches_per_day) {
  // Fixed seed: statistical, but it cannot flake. 2 per day over 200 days = ~400 faults.
  fault_book book(machine_type::compressor, derive_seed(1, "c1/faults"));
  random_fault_rate rate;
  rate.type = fault_type::air_leak;
  rate.per_day = 2;
  rate.severity_min = 0.2;
  rate.severity_max = 0.6;
  rate.duration_min = minutes(1);
  rate.duration_max = minutes(2);
  book.add_random(rate);
  std::vector<fault_event> events;
  const sim_time t0 = at(2024, 1, 1);
  int starts = 0, ends = 0;
  for (sim_time t = t0; t < t0 + std::chrono::days(200); t += seconds(10)) {
    events.clear();
    book.advance(t, 10, events);
    for (const auto& e : events) {
      if (e.what == fault_event::kind::start) {
        ++starts;
        EXPECT_EQ(e.f.source, "random");
        EXPECT_GE(e.f.severity, 0.2);
        EXPECT_LE(e.f.severity, 0.6);
        ASSERT_TRUE(e.f.end);
        EXPECT_GE(*e.f.end - e.f.start, minutes(1));
        EXPECT_LE(*e.f.end - e.f.start, minutes(2));
      } else {
        ++ends;
      }
    }
  }
  // Poisson: mean 400, sd 20; 4 sd either side.
  EXPECT_GT(starts, 320);
  EXPECT_LT(starts, 480);
  EXPECT_GE(ends, starts - 1);
}

TEST(fault_book, random_faults_are_seeded) {
  auto run = [](std::uint64_t seed) {
    fault_book book(machine_type::pump, seed);
    random_fault_rate rate;
    rate.type = fault_type::cavitation;
    rate.per_day = 5;
    book.add_random(rate);
    std::vector<fault_event> events;
    const sim_time t0 = at(2024, 1, 1);
    for (sim_time t = t0; t < t0 + std::chrono::days(5); t += seconds(30))
      book.advance(t, 30, events);
    std::vector<std::int64_t> starts;
    for (const auto& e : events) starts.push_back(e.at.time_since_epoch().count());
    return starts;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace factorysim::machines
