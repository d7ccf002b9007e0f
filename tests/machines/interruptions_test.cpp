// Micro-stops and changeovers (issue 10, "Realism"): how often and how long they are, that
// only a line machine that should produce has them, and what the readings show meanwhile.
#include "machines/interruptions.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::config_of;
using testing::driver;

struct episode {
  interruption kind;
  std::int64_t length_ms;
};

/// Episodes of interruption_at over `hours`, sampled every second.
std::vector<episode> episodes(const interruption_plan& p, std::uint64_t seed, double hours) {
  std::vector<episode> out;
  const std::int64_t t0 = at(2025, 3, 3, 0).time_since_epoch().count();
  interruption prev = interruption::none;
  std::int64_t since = 0;
  for (std::int64_t t = t0; t < t0 + static_cast<std::int64_t>(hours * 3.6e6); t += 1000) {
    const interruption now = interruption_at(p, seed, t);
    if (now != prev) {
      if (prev != interruption::none) out.push_back({prev, t - since});
      since = t;
      prev = now;
    }
  }
  return out;
}

TEST(interruptions, micro_stops_come_at_their_rate_with_their_mean_length) {
  const interruption_plan p{1.5, 40, 0, 0};
  std::int64_t count = 0, total_ms = 0, longest_ms = 0, shortest_ms = 1 << 30;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (const episode& e : episodes(p, seed, 24 * 7)) {
      ASSERT_EQ(e.kind, interruption::micro_stop);
      ++count;
      total_ms += e.length_ms;
      longest_ms = std::max(longest_ms, e.length_ms);
      shortest_ms = std::min(shortest_ms, e.length_ms);
    }
  }
  // 4 machine-weeks at 1.5/h: 1008 expected (two stops can merge; Poisson sd ~32).
  EXPECT_NEAR(static_cast<double>(count), 1008, 100);
  // Exponential, mean 40 s, clipped to 5 .. 200 s: the clipped mean is ~38 s.
  EXPECT_NEAR(static_cast<double>(total_ms) / static_cast<double>(count) / 1000.0, 38, 5);
  EXPECT_GE(shortest_ms, 5'000);
  EXPECT_LE(longest_ms, 2 * 200'000);  // at most two overlapping stops back to back
}

TEST(interruptions, one_changeover_in_each_window_with_its_length) {
  const interruption_plan p{0, 0, 8, 30};
  const auto all = episodes(p, 11, 24 * 14);
  // 42 windows of 8 h in two weeks; the first may have begun before the sample started.
  EXPECT_GE(all.size(), 41u);
  EXPECT_LE(all.size(), 42u);
  for (const episode& e : all) {
    EXPECT_EQ(e.kind, interruption::changeover);
    EXPECT_GE(e.length_ms, static_cast<std::int64_t>(0.75 * 30 * 60'000) - 1000);
    EXPECT_LE(e.length_ms, static_cast<std::int64_t>(1.25 * 30 * 60'000) + 1000);
  }
}

TEST(interruptions, zero_rates_switch_them_off_and_seeds_differ) {
  EXPECT_TRUE(episodes({0, 40, 0, 30}, 3, 24 * 7).empty());
  EXPECT_TRUE(episodes({1.5, 0, 8, 0}, 3, 24 * 7).empty());
  const auto a = episodes({1.5, 40, 0, 0}, 1, 24);
  const auto b = episodes({1.5, 40, 0, 0}, 2, 24);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a.size() * 1000003 + static_cast<std::size_t>(a[0].length_ms),
            b.size() * 1000003 + static_cast<std::size_t>(b[0].length_ms));
}

TEST(interruptions, before_1970_slots_count_down) {
  // A backfill from 1969: the slot of a negative time is the one that contains it.
  const interruption_plan p{0, 0, 1, 30};
  int in_changeover = 0;
  for (std::int64_t t = -7'200'000; t < 0; t += 1000)
    in_changeover += interruption_at(p, 5, t) == interruption::changeover;
  // Two whole 1-hour windows, 22.5 .. 37.5 minutes each.
  EXPECT_GE(in_changeover, 2 * 1350 - 2);
  EXPECT_LE(in_changeover, 2 * 2250 + 2);
}

TEST(interruptions, a_stopped_line_idles_makes_nothing_and_says_why) {
  calendar always;
  for (auto type : {machine_type::motor, machine_type::injection_molding}) {
    machine_config c = config_of(type);
    c.interval = std::chrono::milliseconds{1000};
    driver d(c, at(2025, 3, 3, 0));  // UTC midnight: three whole 8-hour changeover windows
    d.cal = always;
    int stopped = 0, micro = 0, changeover = 0;
    std::int64_t made_in_stop = 0;
    for (int i = 0; i < 24 * 3600; ++i) {
      const reading r = d.step();
      if (r.stop == interruption::none) {
        made_in_stop = 0;
        continue;
      }
      ++stopped;
      micro += r.stop == interruption::micro_stop;
      changeover += r.stop == interruption::changeover;
      ASSERT_EQ(r.production.mode, operating_mode::idle) << to_string(type) << " " << i;
      ASSERT_FALSE(r.is_running);
      ASSERT_GT(r.energy.power_kw, 0);  // powered: drives, controls and barrel heaters stay on
      // The line stops at once; a molding shot under way still finishes and ejects its parts.
      made_in_stop += r.production.production_count;
      ASSERT_LE(made_in_stop, type == machine_type::injection_molding ? 4 : 0)
          << to_string(type) << " " << i;
    }
    EXPECT_GT(micro, 0) << to_string(type);
    if (type == machine_type::injection_molding) {
      // Three mold changes of 22.5 .. 37.5 minutes in a day.
      EXPECT_GE(changeover, 3 * 1350 - 3);
      EXPECT_LE(changeover, 3 * 2250 + 3);
    } else {
      EXPECT_EQ(changeover, 0);
    }
    EXPECT_LT(stopped, 24 * 3600 / 5) << to_string(type);
  }
}

TEST(interruptions, only_lines_that_should_produce_are_interrupted) {
  calendar closed;
  closed.working_days = {false, false, false, false, false, false, false};
  closed.weekend_load = 0;
  for (auto type : testing::all_types) {
    driver d(config_of(type), at(2025, 3, 3, 6));
    if (type == machine_type::motor || type == machine_type::injection_molding) d.cal = closed;
    else d.cal = calendar{};
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(d.step().stop, interruption::none) << to_string(type);
  }
}

}  // namespace
}  // namespace factorysim::machines
