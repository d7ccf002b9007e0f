// Site climate: seasons, days, continuity, determinism.
#include "machines/climate.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::utc_local;

weather w_at(const climate& c, std::uint64_t seed, sim_time t) {
  return weather_at(c, seed, t, utc_local(t));
}

double monthly_mean(const climate& c, int month) {
  double sum = 0;
  int n = 0;
  for (int d = 1; d <= 28; ++d) {
    for (int h = 0; h < 24; h += 3) {
      sum += w_at(c, 11, at(2024, month, d, h)).outdoor_temp_c;
      ++n;
    }
  }
  return sum / n;
}

TEST(climate, summer_is_warmer_than_winter) {
  const climate c;
  const double july = monthly_mean(c, 7);
  const double january = monthly_mean(c, 1);
  EXPECT_GT(july - january, 1.5 * c.annual_amplitude_c);
  EXPECT_NEAR(july, c.annual_mean_c + c.annual_amplitude_c, 2.5);
  EXPECT_NEAR(january, c.annual_mean_c - c.annual_amplitude_c, 2.5);
}

TEST(climate, afternoon_is_warmer_and_drier_than_dawn) {
  const climate c;
  double warm = 0, cold = 0, dry = 0, humid = 0;
  for (int d = 1; d <= 28; ++d) {
    const auto afternoon = w_at(c, 3, at(2024, 4, d, 15));
    const auto dawn = w_at(c, 3, at(2024, 4, d, 3));
    warm += afternoon.outdoor_temp_c;
    cold += dawn.outdoor_temp_c;
    dry += afternoon.outdoor_humidity_percent;
    humid += dawn.outdoor_humidity_percent;
  }
  EXPECT_GT((warm - cold) / 28, c.daily_amplitude_c);
  EXPECT_LT(dry, humid);
}

TEST(climate, continuous_minute_to_minute) {
  const climate c;
  sim_time t = at(2024, 3, 1);
  double prev = w_at(c, 5, t).outdoor_temp_c;
  for (int i = 0; i < 60 * 24 * 30; ++i) {
    t += std::chrono::minutes(1);
    const weather w = w_at(c, 5, t);
    ASSERT_LT(std::abs(w.outdoor_temp_c - prev), 0.25) << "at minute " << i;
    ASSERT_GE(w.outdoor_humidity_percent, 5.0);
    ASSERT_LE(w.outdoor_humidity_percent, 100.0);
    prev = w.outdoor_temp_c;
  }
}

TEST(climate, stateless_and_seeded) {
  const climate c;
  const sim_time t = at(2024, 5, 5, 13, 17);
  EXPECT_EQ(w_at(c, 9, t).outdoor_temp_c, w_at(c, 9, t).outdoor_temp_c);
  int differ = 0;
  for (int d = 1; d <= 20; ++d) {
    const sim_time td = at(2024, 5, d, 13);
    differ += w_at(c, 9, td).outdoor_temp_c != w_at(c, 10, td).outdoor_temp_c ? 1 : 0;
  }
  EXPECT_GE(differ, 18);
}

}  // namespace
}  // namespace factorysim::machines
