// Site supply (machines/grid.hpp): bounded, daily pattern, frequency spread and memory,
// stateless and seeded.
#include "machines/grid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::utc_local;

grid_supply g_at(std::uint64_t site, std::uint64_t grid, sim_time t) {
  return grid_at(site, grid, t, utc_local(t));
}

double mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double stddev(const std::vector<double>& x) {
  const double m = mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size()));
}

/// Sample autocorrelation of x at `lag` samples.
double autocorrelation(const std::vector<double>& x, std::size_t lag) {
  const double m = mean(x);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    den += (x[i] - m) * (x[i] - m);
    if (i + lag < x.size()) num += (x[i] - m) * (x[i + lag] - m);
  }
  return num / den;
}

/// A day of supply, one sample a second.
std::vector<grid_supply> day_of(std::uint64_t site, std::uint64_t grid, sim_time from) {
  std::vector<grid_supply> out;
  for (int s = 0; s < 86400; ++s) out.push_back(g_at(site, grid, from + std::chrono::seconds(s)));
  return out;
}

TEST(grid, voltage_stays_near_nominal_and_sags_in_the_afternoon) {
  double afternoon = 0, night = 0;
  int n = 0;
  for (int d = 1; d <= 20; ++d) {
    for (const auto& g : day_of(3, 4, at(2024, 3, d))) {
      ASSERT_GT(g.voltage_pu, 0.97);
      ASSERT_LT(g.voltage_pu, 1.03);
    }
    afternoon += g_at(3, 4, at(2024, 3, d, 14)).voltage_pu;
    night += g_at(3, 4, at(2024, 3, d, 2)).voltage_pu;
    ++n;
  }
  // The daily pattern is 1.6 % peak to peak; noise averages out over 20 days.
  EXPECT_GT(night / n - afternoon / n, 0.01)
      << "night " << night / n << ", 14:00 " << afternoon / n;
}

TEST(grid, frequency_spread_and_memory_match_a_grid_in_normal_operation) {
  std::vector<double> f;
  for (const auto& g : day_of(3, 4, at(2024, 5, 7))) f.push_back(g.frequency_offset_hz);
  const double sd = stddev(f);
  // Continental grids in normal operation: a standard deviation of 10 to 30 mHz.
  EXPECT_GT(sd, 0.010);
  EXPECT_LT(sd, 0.030);
  EXPECT_LT(std::abs(mean(f)), 0.01);
  for (double v : f) ASSERT_LE(std::abs(v), 0.2);
  // Correlated over a minute (the governors' and the inertia's time scale), not over hours.
  EXPECT_GT(autocorrelation(f, 10), 0.8);
  EXPECT_GT(autocorrelation(f, 60), 0.3);
  EXPECT_LT(std::abs(autocorrelation(f, 3600)), 0.3);
  // Continuous: no step between seconds is a jump of the whole spread.
  for (std::size_t i = 1; i < f.size(); ++i) ASSERT_LT(std::abs(f[i] - f[i - 1]), 0.005) << i;
}

TEST(grid, stateless_and_seeded) {
  const sim_time t = at(2024, 9, 1, 10, 30);
  const grid_supply a = g_at(1, 2, t);
  const grid_supply b = g_at(1, 2, t);
  EXPECT_EQ(a.voltage_pu, b.voltage_pu);
  EXPECT_EQ(a.frequency_offset_hz, b.frequency_offset_hz);
  // The voltage belongs to the site, the frequency to the grid.
  const grid_supply other_site = g_at(9, 2, t);
  EXPECT_NE(other_site.voltage_pu, a.voltage_pu);
  EXPECT_EQ(other_site.frequency_offset_hz, a.frequency_offset_hz);
  const grid_supply other_grid = g_at(1, 9, t);
  EXPECT_EQ(other_grid.voltage_pu, a.voltage_pu);
  EXPECT_NE(other_grid.frequency_offset_hz, a.frequency_offset_hz);
}

TEST(grid, smooth_noise_is_continuous_and_hits_its_knots) {
  const std::int64_t knot = 60'000;
  for (std::int64_t t = -5 * knot; t < 5 * knot; t += 250) {
    const double a = smooth_noise(5, t, knot, 0);
    const double b = smooth_noise(5, t + 250, knot, 0);
    ASSERT_LT(std::abs(a - b), 0.1) << t;
  }
  EXPECT_EQ(smooth_noise(5, 3 * knot, knot, 0), hashed_normal(5, 3));
}

}  // namespace
}  // namespace factorysim::machines
