// UTC -> factory local time across daylight-saving changes (the shifts follow the wall clock
// of the factory, so 06:00 stays 06:00 after the change).
#include "scenarios/local_clock.hpp"

#include <gtest/gtest.h>

#include "scenarios/text_formats.hpp"

namespace fs = factorysim::scenarios;

namespace {

factorysim::machines::local_time at(fs::local_clock& clock, const char* utc) {
  const auto t = fs::parse_rfc3339(utc);
  EXPECT_TRUE(t) << utc;
  return clock.at(*t);
}

double hour_of(const factorysim::machines::local_time& lt) { return lt.minute_of_day / 60.0; }

}  // namespace

TEST(local_clock, los_angeles_spring_forward) {
  fs::local_clock la("America/Los_Angeles");
  // 2024-03-10 02:00 PST does not exist: 01:59 PST is followed by 03:00 PDT.
  auto before = at(la, "2024-03-10T09:59:00Z");
  EXPECT_DOUBLE_EQ(hour_of(before), 1 + 59 / 60.0);
  auto after = at(la, "2024-03-10T10:00:00Z");
  EXPECT_DOUBLE_EQ(hour_of(after), 3.0);
  EXPECT_EQ(after.year, 2024);
  EXPECT_EQ(after.month, 3);
  EXPECT_EQ(after.day, 10);
  EXPECT_EQ(after.weekday, 0);  // Sunday
  EXPECT_EQ(after.day_of_year, 31 + 29 + 9);
}

TEST(local_clock, los_angeles_fall_back_repeats_an_hour) {
  fs::local_clock la("America/Los_Angeles");
  EXPECT_DOUBLE_EQ(hour_of(at(la, "2024-11-03T08:30:00Z")), 1.5);  // PDT
  EXPECT_DOUBLE_EQ(hour_of(at(la, "2024-11-03T09:30:00Z")), 1.5);  // PST, the hour again
  EXPECT_DOUBLE_EQ(hour_of(at(la, "2024-11-03T10:30:00Z")), 2.5);
}

TEST(local_clock, berlin_spring_and_autumn) {
  fs::local_clock berlin("Europe/Berlin");
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-03-31T00:59:00Z")), 1 + 59 / 60.0);  // CET
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-03-31T01:00:00Z")), 3.0);            // CEST
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-10-27T00:30:00Z")), 2.5);            // CEST
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-10-27T01:30:00Z")), 2.5);            // CET
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-07-01T04:00:00Z")), 6.0);  // early shift starts
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-01-15T05:00:00Z")), 6.0);
}

TEST(local_clock, cache_survives_going_back_in_time) {
  fs::local_clock berlin("Europe/Berlin");
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-07-01T10:00:00Z")), 12.0);
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-01-01T10:00:00Z")), 11.0);
  EXPECT_DOUBLE_EQ(hour_of(at(berlin, "2024-07-01T10:00:00Z")), 12.0);
}

TEST(local_clock, date_fields_on_the_local_day) {
  fs::local_clock la("America/Los_Angeles");
  // 07:00 UTC on New Year's Day is still 23:00 on Sunday, 31 December 2023 in California.
  const auto lt = at(la, "2024-01-01T07:00:00Z");
  EXPECT_EQ(lt.year, 2023);
  EXPECT_EQ(lt.month, 12);
  EXPECT_EQ(lt.day, 31);
  EXPECT_EQ(lt.weekday, 0);
  EXPECT_EQ(lt.day_of_year, 364);
  EXPECT_DOUBLE_EQ(lt.minute_of_day, 23 * 60);

  fs::local_clock utc("UTC");
  const auto noon = at(utc, "2024-12-31T12:34:30.500Z");
  EXPECT_EQ(noon.day_of_year, 365);  // leap year
  EXPECT_EQ(noon.weekday, 2);        // Tuesday
  EXPECT_DOUBLE_EQ(noon.minute_of_day, 12 * 60 + 34 + 30.5 / 60);
}

TEST(local_clock, zone_names_are_checked) {
  EXPECT_TRUE(fs::local_clock::valid_zone("Europe/Berlin"));
  EXPECT_TRUE(fs::local_clock::valid_zone("UTC"));
  EXPECT_FALSE(fs::local_clock::valid_zone("Mars/Olympus_Mons"));
  EXPECT_FALSE(fs::local_clock::valid_zone(""));
  EXPECT_THROW(fs::local_clock("Mars/Olympus_Mons"), std::runtime_error);
}
