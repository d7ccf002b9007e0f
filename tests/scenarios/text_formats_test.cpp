// Durations, RFC 3339 times, clock times, dates and uuids as a scenario file writes them.
#include "scenarios/text_formats.hpp"

#include <gtest/gtest.h>

namespace fs = factorysim::scenarios;
using namespace std::chrono_literals;

TEST(parse_duration, accepts_units_compounds_and_plain_seconds) {
  EXPECT_EQ(fs::parse_duration("90s"), 90s);
  EXPECT_EQ(fs::parse_duration("15m"), 15min);
  EXPECT_EQ(fs::parse_duration("2h"), 2h);
  EXPECT_EQ(fs::parse_duration("1d"), 24h);
  EXPECT_EQ(fs::parse_duration("250ms"), 250ms);
  EXPECT_EQ(fs::parse_duration("1h30m"), 90min);
  EXPECT_EQ(fs::parse_duration("10"), 10s);
  EXPECT_EQ(fs::parse_duration("0.5"), 500ms);
  EXPECT_EQ(fs::parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(fs::parse_duration("0"), 0ms);
}

TEST(parse_duration, rejects_garbage) {
  for (const char* bad : {"", "s", "-5s", "10 s", "10sec", "1h30", "5x", "1..5s", ".5s", "1e3",
                          "15min", "abc", "1h 30m"})
    EXPECT_FALSE(fs::parse_duration(bad)) << bad;
}

TEST(parse_duration, rejects_fractions_of_a_millisecond) {
  EXPECT_FALSE(fs::parse_duration("0.0005"));
  EXPECT_FALSE(fs::parse_duration("1.5ms"));
  ASSERT_TRUE(fs::parse_duration_ms("0.0005"));  // a number, just too fine
  EXPECT_DOUBLE_EQ(*fs::parse_duration_ms("0.0005"), 0.5);
}

TEST(format_duration, prints_the_largest_exact_unit) {
  EXPECT_EQ(fs::format_duration(100ms), "100ms");
  EXPECT_EQ(fs::format_duration(90s), "90s");
  EXPECT_EQ(fs::format_duration(15min), "15m");
  EXPECT_EQ(fs::format_duration(48h), "2d");
  EXPECT_EQ(fs::format_duration(0ms), "0s");
}

TEST(parse_rfc3339, utc_offsets_and_fractions) {
  const auto t = fs::parse_rfc3339("2024-06-01T00:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->time_since_epoch(), 1717200000000ms);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T02:00:00+02:00"), t);
  EXPECT_EQ(fs::parse_rfc3339("2024-05-31T17:00:00-07:00"), t);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01t00:00:00z"), t);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.250Z"), *t + 250ms);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.1Z"), *t + 100ms);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.250000Z"), *t + 250ms);
}

// Issue 13: a valid RFC 3339 time with more than three decimals (Python's isoformat() writes
// six) was called invalid; the digits below a millisecond are now truncated, never rounded.
TEST(parse_rfc3339, truncates_digits_finer_than_a_millisecond) {
  const auto t = *fs::parse_rfc3339("2024-06-01T00:00:00Z");
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.0001Z"), t);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.1239Z"), t + 123ms);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T02:00:00.999999+02:00"), t + 999ms);
  EXPECT_EQ(fs::parse_rfc3339("2024-06-01T00:00:00.123456789012Z"), t + 123ms);
}

TEST(parse_rfc3339, rejects_incomplete_or_impossible_times) {
  for (const char* bad :
       {"2024-06-01", "2024-06-01T00:00:00", "2024-06-01T00:00Z", "2024-02-30T00:00:00Z",
        "2024-06-01T24:00:00Z", "2024-06-01T00:60:00Z", "2024-06-01T00:00:00+0200",
        "2024-06-01T00:00:00.Z", "2024-6-1T00:00:00Z", "yesterday", "2024-06-01T00:00:00ZZ"})
    EXPECT_FALSE(fs::parse_rfc3339(bad)) << bad;
}

TEST(format_rfc3339, round_trips_with_milliseconds) {
  const auto t = *fs::parse_rfc3339("2024-02-29T23:59:59.007+01:00");
  EXPECT_EQ(fs::format_rfc3339(t), "2024-02-29T22:59:59.007Z");
  EXPECT_EQ(fs::parse_rfc3339(fs::format_rfc3339(t)), t);
}

TEST(parse_clock_minutes, hours_and_minutes) {
  EXPECT_EQ(fs::parse_clock_minutes("06:00"), 360);
  EXPECT_EQ(fs::parse_clock_minutes("22:30"), 1350);
  EXPECT_EQ(fs::parse_clock_minutes("24:00"), 1440);
  EXPECT_FALSE(fs::parse_clock_minutes("24:01"));
  EXPECT_FALSE(fs::parse_clock_minutes("6:00"));
  EXPECT_FALSE(fs::parse_clock_minutes("06:60"));
}

TEST(parse_civil_date, real_dates_only) {
  EXPECT_EQ(fs::parse_civil_date("2024-02-29"), (factorysim::machines::civil_date{2024, 2, 29}));
  EXPECT_FALSE(fs::parse_civil_date("2023-02-29"));
  EXPECT_FALSE(fs::parse_civil_date("2024-12-25T00:00:00Z"));
}

TEST(uuid, validation_and_normalization) {
  EXPECT_TRUE(fs::is_uuid("c0000000-0000-0000-0000-000000000001"));
  EXPECT_TRUE(fs::is_uuid("C0000000-ABCD-0000-0000-000000000001"));
  EXPECT_FALSE(fs::is_uuid("c0000000-0000-0000-0000-00000000001"));
  EXPECT_FALSE(fs::is_uuid("c0000000_0000-0000-0000-000000000001"));
  EXPECT_FALSE(fs::is_uuid("g0000000-0000-0000-0000-000000000001"));
  EXPECT_EQ(fs::normalize_uuid("C0000000-ABCD-0000-0000-000000000001"),
            "c0000000-abcd-0000-0000-000000000001");
}

TEST(uuid5, matches_rfc_4122_and_python) {
  // Expected values from Python's uuid.uuid5, an independent implementation.
  EXPECT_EQ(fs::uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(fs::uuid5("c1000000-0000-0000-0000-000000000000", "00001"),
            "a6e6fc2d-e793-566c-81b0-b8319d86ecf1");
  EXPECT_EQ(fs::uuid5("c1000000-0000-0000-0000-000000000000", "10000"),
            "92634186-0b54-54d4-9e39-fb8cf023b381");
}
