// Shifts, breaks, weekends and holidays on the factory's local clock.
#include "machines/calendar.hpp"

#include <gtest/gtest.h>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::three_shifts;
using testing::utc_local;

schedule_point at_time(const calendar& c, int y, int mo, int d, int h, int mi = 0) {
  return schedule_at(c, utc_local(at(y, mo, d, h, mi)));
}

TEST(calendar, civil_day_arithmetic_round_trips) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  for (int d = -1000; d < 30000; d += 37) {
    const civil_date c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(civil_from_days(days_from_civil(2024, 2, 29) + 1), (civil_date{2024, 3, 1}));
}

TEST(calendar, utc_helper_knows_weekdays) {
  EXPECT_EQ(utc_local(at(2024, 7, 15, 10)).weekday, 1);  // a Monday
  EXPECT_EQ(utc_local(at(2024, 7, 14, 10)).weekday, 0);  // a Sunday
  EXPECT_EQ(utc_local(at(2024, 1, 1)).day_of_year, 0);
}

TEST(calendar, day_shifts_and_off_shift) {
  const calendar c = three_shifts();
  const auto early = at_time(c, 2024, 7, 16, 8);  // Tuesday
  EXPECT_EQ(early.shift_index, 0);
  EXPECT_DOUBLE_EQ(early.load, 1.0);
  EXPECT_TRUE(early.working_day);
  const auto late = at_time(c, 2024, 7, 16, 15);
  EXPECT_EQ(late.shift_index, 1);
  EXPECT_DOUBLE_EQ(late.load, 0.9);
  // Boundaries: end is exclusive, start inclusive.
  EXPECT_EQ(at_time(c, 2024, 7, 16, 14).shift_index, 1);
  EXPECT_EQ(at_time(c, 2024, 7, 16, 6).shift_index, 0);
}

TEST(calendar, gaps_between_shifts_use_off_shift_load) {
  calendar c;
  c.shifts = {{"day", 8 * 60, 16 * 60, 1.0}};
  c.off_shift_load = 0.1;
  const auto evening = at_time(c, 2024, 7, 16, 20);
  EXPECT_EQ(evening.shift_index, -1);
  EXPECT_TRUE(evening.working_day);
  EXPECT_DOUBLE_EQ(evening.load, 0.1);
}

TEST(calendar, night_shift_wraps_midnight_into_the_next_morning) {
  const calendar c = three_shifts();
  const auto evening = at_time(c, 2024, 7, 16, 23);  // Tuesday 23:00
  EXPECT_EQ(evening.shift_index, 2);
  const auto morning = at_time(c, 2024, 7, 17, 3);  // Wednesday 03:00, started Tuesday
  EXPECT_EQ(morning.shift_index, 2);
  EXPECT_DOUBLE_EQ(morning.load, 0.6);
  // Friday's night shift continues into Saturday morning...
  const auto saturday_early = at_time(c, 2024, 7, 20, 2);
  EXPECT_EQ(saturday_early.shift_index, 2);
  EXPECT_FALSE(saturday_early.working_day);
  // ...but nothing starts on Saturday evening, and Monday morning follows a Sunday.
  EXPECT_EQ(at_time(c, 2024, 7, 20, 23).shift_index, -1);
  const auto monday_early = at_time(c, 2024, 7, 15, 2);
  EXPECT_EQ(monday_early.shift_index, -1);
  EXPECT_DOUBLE_EQ(monday_early.load, c.off_shift_load);
  EXPECT_EQ(at_time(c, 2024, 7, 15, 22, 30).shift_index, 2);  // Monday's night shift
}

TEST(calendar, breaks_drop_the_load_inside_shifts_only) {
  calendar c = three_shifts();
  const auto lunch = at_time(c, 2024, 7, 16, 12, 10);
  EXPECT_EQ(lunch.shift_index, 0);
  EXPECT_DOUBLE_EQ(lunch.load, 0.2);
  EXPECT_DOUBLE_EQ(at_time(c, 2024, 7, 16, 12, 30).load, 1.0);  // break over
  // A break over midnight, within the night shift.
  c.breaks.push_back({23 * 60 + 50, 20, 0.3});
  EXPECT_DOUBLE_EQ(at_time(c, 2024, 7, 17, 0, 5).load, 0.3);
  EXPECT_DOUBLE_EQ(at_time(c, 2024, 7, 16, 23, 55).load, 0.3);
  // On a Sunday there is no shift, so no break either.
  EXPECT_DOUBLE_EQ(at_time(c, 2024, 7, 14, 12, 10).load, c.weekend_load);
}

TEST(calendar, weekends_and_holidays) {
  calendar c = three_shifts();
  c.weekend_load = 0.07;
  c.holiday_load = 0.01;
  c.holidays = {{2024, 12, 25}};
  const auto sunday = at_time(c, 2024, 7, 14, 10);
  EXPECT_FALSE(sunday.working_day);
  EXPECT_FALSE(sunday.holiday);
  EXPECT_DOUBLE_EQ(sunday.load, 0.07);
  const auto christmas = at_time(c, 2024, 12, 25, 10);  // a Wednesday
  EXPECT_TRUE(christmas.holiday);
  EXPECT_FALSE(christmas.working_day);
  EXPECT_DOUBLE_EQ(christmas.load, 0.01);
  // The night shift of Christmas Eve (a working Tuesday) still runs into the holiday...
  EXPECT_EQ(at_time(c, 2024, 12, 25, 3).shift_index, 2);
  // ...while the holiday's own night shift does not carry into the 26th.
  EXPECT_EQ(at_time(c, 2024, 12, 26, 3).shift_index, -1);
  EXPECT_EQ(at_time(c, 2024, 12, 26, 8).shift_index, 0);
}

TEST(calendar, working_days_are_configurable) {
  calendar c = three_shifts();
  c.working_days = {true, true, true, true, true, true, true};  // 7 days
  EXPECT_EQ(at_time(c, 2024, 7, 14, 10).shift_index, 0);        // Sunday
  calendar none;
  none.working_days.fill(false);
  EXPECT_DOUBLE_EQ(at_time(none, 2024, 7, 16, 10).load, none.weekend_load);
  calendar continuous;  // no shifts: all day on working days
  EXPECT_DOUBLE_EQ(at_time(continuous, 2024, 7, 16, 3).load, 1.0);
}

}  // namespace
}  // namespace factorysim::machines
