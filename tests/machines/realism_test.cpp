// Realism of the models' edges (issue 10): an HVAC unit that never draws more than its
// rating (a configured backup heater aside), a COP that is absent while the compressor stands
// still, and temperature sensors that read like sensors, not like model state.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::config_of;
using testing::driver;

/// A site whose outdoor temperature is held at `c` (no season, day or weather).
climate constant_climate(double c) {
  climate k;
  k.annual_mean_c = c;
  k.annual_amplitude_c = 0;
  k.daily_amplitude_c = 0;
  k.weather_noise_c = 0;
  return k;
}

struct hvac_run {
  double max_power_kw = 0;
  double mean_power_kw = 0;
  double mean_indoor_c = 0;
};

/// A working week of the demo HVAC unit (150 kW) at a constant outdoor temperature.
hvac_run run_hvac(double outdoor_c, double backup_heater_kw = 0) {
  machine_config c = config_of(machine_type::hvac);
  std::get<hvac_params>(c.params).backup_heater_kw = backup_heater_kw;
  driver d(c, at(2024, 1, 15));  // a Monday
  d.clim = constant_climate(outdoor_c);
  hvac_run out;
  int n = 0;
  for (int i = 0; i < static_cast<int>(5 * 86400 / d.dt_s); ++i) {
    const reading r = d.step();
    out.max_power_kw = std::max(out.max_power_kw, r.energy.power_kw);
    if (i < static_cast<int>(86400 / d.dt_s)) continue;  // the first day settles the hall
    out.mean_power_kw += r.energy.power_kw;
    out.mean_indoor_c += r.environmental.indoor_temp_c;
    ++n;
  }
  out.mean_power_kw /= n;
  out.mean_indoor_c /= n;
  return out;
}

TEST(realism, hvac_never_draws_more_than_its_rating) {
  for (double outdoor_c : {-25.0, -10.0, 0.0, 15.0, 35.0, 45.0}) {
    const hvac_run r = run_hvac(outdoor_c);
    EXPECT_LE(r.max_power_kw, 150.0) << outdoor_c << " C";
    EXPECT_GT(r.mean_power_kw, 0) << outdoor_c << " C";
  }
}

TEST(realism, backup_heater_covers_the_cold_and_shows_on_the_meter) {
  const hvac_run heat_pump_only = run_hvac(-25);
  const hvac_run with_backup = run_hvac(-25, 120);
  // At -25 C the heat pump has lost most of its capacity: the hall runs cold without help.
  EXPECT_LT(heat_pump_only.mean_indoor_c, 19.0);
  EXPECT_GT(with_backup.mean_indoor_c, heat_pump_only.mean_indoor_c + 1.0);
  // The heater is a resistive load beside the unit's rating, at COP 1.
  EXPECT_GT(with_backup.max_power_kw, 150.0);
  EXPECT_LE(with_backup.max_power_kw, 150.0 + 120.0);
  EXPECT_GT(with_backup.mean_power_kw, heat_pump_only.mean_power_kw + 20.0);
  // A mild day never calls for it.
  EXPECT_NEAR(run_hvac(12, 120).mean_power_kw, run_hvac(12).mean_power_kw, 1e-9);
}

TEST(realism, hvac_cop_is_absent_while_the_compressor_stands_still) {
  driver d(config_of(machine_type::hvac), at(2024, 7, 16, 10));
  d.clim = constant_climate(30);
  for (int i = 0; i < 360; ++i) {
    const reading r = d.step();
    if (i > 60) {
      ASSERT_FALSE(std::isnan(r.environmental.cop)) << "cooling on a hot day, step " << i;
    }
  }
  d.m.set_enabled(false);
  for (int i = 0; i < 60; ++i) EXPECT_TRUE(std::isnan(d.step().environmental.cop)) << i;
}

/// Standard deviation and mean of a field over `steps` steps.
template <typename F>
std::pair<double, double> spread(driver& d, int steps, F field) {
  std::vector<double> x;
  for (int i = 0; i < steps; ++i) x.push_back(field(d.step()));
  double m = 0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return {std::sqrt(s / static_cast<double>(x.size())), m};
}

TEST(realism, molding_barrel_temperature_hunts_around_its_set_point) {
  machine_config c = config_of(machine_type::injection_molding);
  c.interval = std::chrono::seconds(5);
  const double setpoint = std::get<injection_molding_params>(c.params).barrel_setpoint_c;
  driver d(c, at(2024, 7, 16, 6, 30));
  for (int i = 0; i < 720; ++i) d.step();  // an hour into the early shift: regulating
  const auto [sd, mean] =
      spread(d, 240, [](const reading& r) { return r.environmental.machine_temp_c; });
  // A controller's limit cycle plus a thermocouple's noise: about 1 K, not a flat line.
  EXPECT_GT(sd, 0.5);
  EXPECT_LT(sd, 2.5);
  EXPECT_NEAR(mean, setpoint, 3.0);
}

TEST(realism, molding_machines_of_a_hall_do_not_hunt_in_step) {
  machine_config c = config_of(machine_type::injection_molding);
  c.interval = std::chrono::seconds(5);
  std::vector<driver> hall;
  for (std::uint64_t seed = 1; seed <= 4; ++seed)
    hall.emplace_back(c, at(2024, 7, 16, 6, 30), seed);
  std::vector<std::vector<double>> temps(hall.size());
  for (int i = 0; i < 960; ++i)
    for (std::size_t m = 0; m < hall.size(); ++m) {
      const double t = hall[m].step().environmental.machine_temp_c;
      if (i >= 720) temps[m].push_back(t);
    }
  double diff = 0;
  int pairs = 0;
  for (std::size_t a = 0; a < hall.size(); ++a)
    for (std::size_t b = a + 1; b < hall.size(); ++b, ++pairs)
      for (std::size_t i = 0; i < temps[a].size(); ++i) diff += std::abs(temps[a][i] - temps[b][i]);
  diff /= pairs * static_cast<double>(temps[0].size());
  // Two thermocouples alone differ by about 0.34 K on average; hunting out of step (random
  // phases, amplitude 1.5 K) adds about 1 K more.
  EXPECT_GT(diff, 0.7);
}

TEST(realism, chilled_water_supply_varies_at_part_load) {
  driver d(config_of(machine_type::hvac), at(2024, 7, 16, 9));
  d.clim = constant_climate(28);
  for (int i = 0; i < 360; ++i) d.step();
  const auto [sd, mean] =
      spread(d, 360, [](const reading& r) { return r.environmental.chilled_water_supply_temp_c; });
  EXPECT_GT(sd, 0.15);
  EXPECT_LT(sd, 1.0);
  const hvac_params p = std::get<hvac_params>(config_of(machine_type::hvac).params);
  EXPECT_NEAR(mean, p.chilled_water_supply_c, 1.5);
}

}  // namespace
}  // namespace factorysim::machines
