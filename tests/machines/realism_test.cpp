// Realism of the models' edges (issue 10): an HVAC unit that never draws more than its
// rating (a configured backup heater aside), a COP that is absent while the compressor stands
// still, and temperature sensors that read like sensors, not like model state.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "machines/electrical.hpp"
#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::config_of;
using testing::uninterrupted;
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


TEST(realism, power_factor_follows_the_drive_and_the_heaters) {
  electrical_rating dol{22, 400, 50, 0.86, false};
  electrical_rating vfd = dol;
  vfd.vfd = true;
  // Heaters alone draw no reactive power.
  EXPECT_DOUBLE_EQ(machine_power_factor(dol, 0, 10), 1.0);
  // A motor alone: the induction motor curve direct on line, about 0.95 through a drive.
  EXPECT_NEAR(machine_power_factor(dol, 22, 0), power_factor_at(0.86, 1.0), 1e-12);
  EXPECT_NEAR(machine_power_factor(vfd, 22, 0), 0.95, 1e-9);
  EXPECT_GT(machine_power_factor(vfd, 0.3 * 22, 0), 0.9);
  EXPECT_GT(machine_power_factor(vfd, 0.3 * 22, 0), power_factor_at(0.86, 0.3) + 0.1);
  // Mixed: P / sqrt(P^2 + Q_motor^2).
  const double pf_m = power_factor_at(0.86, 0.5);
  const double q = 11 * std::sqrt(1 / (pf_m * pf_m) - 1);
  EXPECT_NEAR(machine_power_factor(dol, 11, 30), 41 / std::hypot(41, q), 1e-12);
}

TEST(realism, conveyor_on_its_drive_and_molding_with_its_heaters_read_a_high_power_factor) {
  calendar always;
  driver conveyor(uninterrupted(config_of(machine_type::motor)), at(2024, 7, 16, 9));
  driver molding(uninterrupted(config_of(machine_type::injection_molding)), at(2024, 7, 16, 9));
  conveyor.cal = always;
  molding.cal = always;
  for (int i = 0; i < 360; ++i) {
    const reading c = conveyor.step();
    const reading m = molding.step();
    if (c.energy.power_kw > 0.3 * 22) {
      EXPECT_GT(c.energy.power_factor, 0.88) << i;
    }
    if (m.energy.power_kw > 0) {
      // The heater bands lift it above what the hydraulic motor alone would read.
      EXPECT_GT(m.energy.power_factor, power_factor_at(0.86, m.energy.power_kw / 120) + 0.03)
          << i;
    }
    // The meter's identity still holds for what it shows.
    for (const reading* r : {&c, &m}) {
      if (r->energy.power_kw > 0) {
        EXPECT_NEAR(std::sqrt(3.0) * r->energy.voltage_v * r->energy.current_a *
                        r->energy.power_factor / 1000.0,
                    r->energy.power_kw, 0.01 * r->energy.power_kw + 0.01);
      }
    }
  }
}

TEST(realism, compressor_oil_is_held_by_its_thermostat_and_loaded_power_passes_the_rating) {
  calendar always;
  driver d(config_of(machine_type::compressor), at(2024, 7, 16, 9));
  d.cal = always;
  double max_kw = 0;
  for (int i = 0; i < 4 * 3600; ++i) {
    const reading r = d.step();
    max_kw = std::max(max_kw, r.energy.power_kw);
    if (i > 3600 && r.production.speed_percent > 99) {
      EXPECT_GE(r.environmental.machine_temp_c, 70) << i;
      EXPECT_LE(r.environmental.machine_temp_c, 88) << i;
    }
  }
  // A screw package at full load and pressure draws 1.05-1.1 x its motor's nameplate.
  EXPECT_GT(max_kw, 1.04 * 55);
  EXPECT_LT(max_kw, 1.14 * 55);
}

TEST(realism, compressor_load_cycles_vary_with_the_air_demand) {
  calendar always;
  driver d(config_of(machine_type::compressor), at(2024, 7, 16, 9));
  d.cal = always;
  std::vector<double> loaded_runs;
  double prev = d.step().environmental.pressure_bar;
  int run = 0;
  for (int i = 0; i < 4 * 3600; ++i) {
    const double p = d.step().environmental.pressure_bar;
    if (p > prev) {
      ++run;
    } else if (run > 0) {
      loaded_runs.push_back(run);
      run = 0;
    }
    prev = p;
  }
  ASSERT_GT(loaded_runs.size(), 30u);
  double mean = 0, var = 0;
  for (double x : loaded_runs) mean += x;
  mean /= static_cast<double>(loaded_runs.size());
  for (double x : loaded_runs) var += (x - mean) * (x - mean);
  const double cv = std::sqrt(var / static_cast<double>(loaded_runs.size() - 1)) / mean;
  // The measurement found cycles repeating within 1.6 %; a real air net's vary 20-50 %.
  EXPECT_GT(cv, 0.2) << "mean loaded run " << mean << " s over " << loaded_runs.size();
  EXPECT_LT(cv, 0.8);
}

TEST(realism, compressed_air_costs_more_energy_in_summer) {
  // Same schedule, a cold and a hot constant outdoor temperature: thinner intake air.
  auto kwh_per_m3 = [](double outdoor_c) {
    calendar always;
    driver d(config_of(machine_type::compressor), at(2024, 7, 16, 9));
    d.cal = always;
    d.clim = constant_climate(outdoor_c);
    double kwh = 0, m3 = 0;
    for (int i = 0; i < 4 * 3600; ++i) {
      const reading r = d.step();
      kwh += r.energy.energy_kwh;
      m3 += static_cast<double>(r.production.production_count);
    }
    return kwh / m3;
  };
  const double cold = kwh_per_m3(0), hot = kwh_per_m3(35);
  // The hall follows outdoors by 0.3 K/K: intake 10.5 vs 21 C, about 2.5 % less free air.
  EXPECT_GT(hot, cold * 1.01);
  EXPECT_LT(hot, cold * 1.08);
}

TEST(realism, no_two_working_days_alike_and_power_correlated_from_step_to_step) {
  calendar always;
  driver d(config_of(machine_type::motor), at(2024, 7, 15));
  d.cal = always;
  d.clim = constant_climate(20);
  std::vector<double> day_kwh(5, 0.0);
  std::vector<double> power;
  for (int day = 0; day < 5; ++day)
    for (int i = 0; i < 8640; ++i) {
      const reading r = d.step();
      day_kwh[static_cast<std::size_t>(day)] += r.energy.energy_kwh;
      if (day == 1 && i < 360) power.push_back(r.energy.power_kw);
    }
  double lo = day_kwh[0], hi = day_kwh[0];
  for (double k : day_kwh) lo = std::min(lo, k), hi = std::max(hi, k);
  EXPECT_GT(hi / lo, 1.02) << "days " << lo << " .. " << hi << " kWh";
  EXPECT_LT(hi / lo, 1.3);
  // Lag-1 autocorrelation of power within an hour at 10 s steps.
  double mean = 0;
  for (double x : power) mean += x;
  mean /= static_cast<double>(power.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < power.size(); ++i) {
    den += (power[i] - mean) * (power[i] - mean);
    if (i > 0) num += (power[i] - mean) * (power[i - 1] - mean);
  }
  EXPECT_GT(num / den, 0.3);
}

}  // namespace
}  // namespace factorysim::machines
