// Machine models: electrical physics, energy, meter, calendar response, climate response,
// determinism and the per-type physics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "machines/electrical.hpp"
#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using std::chrono::hours;
using testing::all_types;
using testing::at;
using testing::config_of;
using testing::uninterrupted;
using testing::driver;

std::string name(machine_type t) {
  return std::string(to_string(t));
}

TEST(electrical, power_factor_falls_at_light_load) {
  EXPECT_NEAR(power_factor_at(0.86, 1.0), 0.86, 1e-12);
  double prev = 0;
  for (double x = 0.05; x <= 1.2; x += 0.05) {
    const double pf = power_factor_at(0.86, x);
    EXPECT_GT(pf, prev);
    prev = pf;
  }
  EXPECT_LT(power_factor_at(0.86, 0.1), 0.5);
}

TEST(models, three_phase_power_identity_within_rounding) {
  for (auto t : all_types) {
    driver d(config_of(t), at(2024, 7, 19, 0));  // Friday into the weekend: busy and idle
    const int steps = static_cast<int>(2 * 86400 / d.dt_s);
    int with_current = 0;
    for (int i = 0; i < steps; ++i) {
      const reading r = d.step();
      const auto& e = r.energy;
      ASSERT_GE(e.power_kw, 0) << name(t);
      ASSERT_NEAR(e.voltage_v, 400, 20) << name(t);
      ASSERT_NEAR(e.frequency_hz, 50, 0.1) << name(t);
      ASSERT_EQ(e.power_kw, round_to(e.power_kw, 3));
      ASSERT_EQ(e.current_a, round_to(e.current_a, 2));
      ASSERT_EQ(e.power_factor, round_to(e.power_factor, 3));
      if (e.power_kw == 0) continue;
      ++with_current;
      ASSERT_GT(e.power_factor, 0) << name(t);
      ASSERT_LE(e.power_factor, 1) << name(t);
      const double p_from_vi = std::sqrt(3.0) * e.voltage_v * e.current_a * e.power_factor / 1000;
      // Only the current's 2-decimal rounding separates the two sides.
      const double tolerance = std::sqrt(3.0) * e.voltage_v * 0.005 * e.power_factor / 1000 + 1e-9;
      ASSERT_NEAR(e.power_kw, p_from_vi, tolerance) << name(t) << " step " << i;
    }
    EXPECT_GT(with_current, steps / 2) << name(t);
  }
}

TEST(models, power_factor_lower_when_lightly_loaded) {
  for (auto t : all_types) {
    driver d(config_of(t), at(2024, 7, 19, 0));
    double light_sum = 0, heavy_sum = 0;
    int light = 0, heavy = 0;
    for (int i = 0; i < static_cast<int>(3 * 86400 / d.dt_s); ++i) {
      const reading r = d.step();
      const double x = r.energy.power_kw / d.m.config().rated_power_kw;
      if (x > 0 && x < 0.3) light_sum += r.energy.power_factor, ++light;
      if (x > 0.5) heavy_sum += r.energy.power_factor, ++heavy;
    }
    ASSERT_GT(light, 0) << name(t);
    ASSERT_GT(heavy, 0) << name(t);
    EXPECT_LT(light_sum / light + 0.1, heavy_sum / heavy) << name(t);
  }
}

TEST(models, interval_energy_is_power_times_time_and_meter_adds_it_up) {
  for (auto t : all_types) {
    driver d(config_of(t), at(2024, 7, 16, 5));
    double previous_total = 0;
    double sum = 0;
    for (int i = 0; i < static_cast<int>(6 * 3600 / d.dt_s); ++i) {
      const reading r = d.step();
      ASSERT_DOUBLE_EQ(r.energy.energy_kwh, r.energy.power_kw * d.dt_s / 3600.0) << name(t);
      sum += r.energy.energy_kwh;
      ASSERT_NEAR(r.energy.energy_total_kwh - previous_total, r.energy.energy_kwh, 1e-9);
      previous_total = r.energy.energy_total_kwh;
    }
    EXPECT_NEAR(d.m.energy_total_kwh(), sum, 1e-6 * sum) << name(t);
    EXPECT_GT(sum, 0) << name(t);
  }
}

TEST(models, meter_never_runs_backwards_over_a_week_with_faults_and_stops) {
  for (auto t : all_types) {
    driver d(config_of(t), at(2024, 7, 15, 0));
    std::vector<fault> faults;
    const fault_type specific = t == machine_type::compressor ? fault_type::air_leak
                                : t == machine_type::hvac     ? fault_type::fouled_coil
                                : t == machine_type::motor    ? fault_type::belt_slip
                                : t == machine_type::pump     ? fault_type::cavitation
                                                              : fault_type::heater_failure;
    const fault_type kinds[] = {
        fault_type::spike,       fault_type::dip,     fault_type::drift, fault_type::stuck_sensor,
        fault_type::noise_burst, fault_type::dropout, specific};
    std::uint64_t id = 1;
    for (int day = 0; day < 7; ++day) {
      for (auto k : kinds) {
        fault f;
        f.id = id++;
        f.type = k;
        f.severity = 1.0;  // the harshest
        f.start = at(2024, 7, 15 + day, 2 + 3 * static_cast<int>(f.id % 7));
        f.end = f.start + hours(2);
        faults.push_back(f);
      }
    }
    double previous_total = 0;
    std::vector<fault> active;
    const int steps = static_cast<int>(7 * 86400 / d.dt_s);
    for (int i = 0; i < steps; ++i) {
      // A stop for two hours each Wednesday noon.
      d.m.set_enabled(!(d.now >= at(2024, 7, 17, 12) && d.now < at(2024, 7, 17, 14)));
      active.clear();
      const sim_time next = d.now + d.m.config().interval;
      for (const auto& f : faults) {
        if (f.start <= next && next < *f.end) active.push_back(f);
      }
      const reading r = d.step(active);
      ASSERT_GE(r.energy.energy_kwh, 0) << name(t);
      ASSERT_GE(r.energy.power_kw, 0) << name(t);
      ASSERT_GE(r.energy.energy_total_kwh, previous_total) << name(t) << " step " << i;
      ASSERT_FALSE(std::isnan(r.energy.energy_total_kwh));
      previous_total = r.energy.energy_total_kwh;
    }
    EXPECT_GT(previous_total, 0);
  }
}

/// Mean power per hour of a week that starts on Monday 2024-07-15 00:00 UTC.
std::vector<double> hourly_power(machine_type t, calendar cal, int year = 2024, int month = 7,
                                 int day = 15) {
  driver d(config_of(t), at(year, month, day));
  d.cal = std::move(cal);
  std::vector<double> out;
  const int per_hour = static_cast<int>(3600 / d.dt_s);
  for (int h = 0; h < 7 * 24; ++h) out.push_back(d.mean_power_kw(per_hour * d.dt_s));
  return out;
}

double mean_of(const std::vector<double>& v, int from_h, int to_h) {
  double s = 0;
  for (int h = from_h; h < to_h; ++h) s += v[static_cast<std::size_t>(h)];
  return s / (to_h - from_h);
}

TEST(models, off_shift_and_weekend_draw_less_than_the_day_shift) {
  calendar two_shifts;
  two_shifts.shifts = {{"early", 6 * 60, 14 * 60, 1.0}, {"late", 14 * 60, 22 * 60, 0.9}};
  for (auto t : all_types) {
    const auto power = hourly_power(t, two_shifts);
    const double day = mean_of(power, 24 + 8, 24 + 11);              // Tuesday 08-11
    const double night = mean_of(power, 48 + 1, 48 + 5);             // Wednesday 01-05
    const double weekend = mean_of(power, 6 * 24 + 8, 6 * 24 + 11);  // Sunday 08-11
    EXPECT_LT(night, 0.8 * day) << name(t) << " night " << night << " day " << day;
    EXPECT_LT(weekend, 0.8 * day) << name(t) << " weekend " << weekend << " day " << day;
  }
}

TEST(models, hvac_summer_draws_more_than_spring) {
  const auto summer = hourly_power(machine_type::hvac, testing::three_shifts(), 2024, 7, 15);
  const auto spring = hourly_power(machine_type::hvac, testing::three_shifts(), 2024, 4, 15);
  double s = 0, p = 0;
  for (int day = 0; day < 5; ++day) {
    s += mean_of(summer, day * 24 + 8, day * 24 + 18);
    p += mean_of(spring, day * 24 + 8, day * 24 + 18);
  }
  EXPECT_GT(s, 1.3 * p) << "summer " << s / 5 << " kW, spring " << p / 5 << " kW";
}

TEST(models, long_intervals_stay_stable_and_agree_with_short_ones) {
  // A 15-minute meter interval must not make any model oscillate or drift.
  for (auto t : all_types) {
    for (int month : {1, 7}) {
      machine_config fine = config_of(t);
      machine_config coarse = config_of(t);
      coarse.interval = std::chrono::minutes(15);
      driver a(fine, at(2024, month, 15));
      driver b(coarse, at(2024, month, 15));
      const double week_s = 7 * 86400;
      const double fine_mean = a.mean_power_kw(week_s);
      double coarse_sum = 0;
      const int steps = static_cast<int>(week_s / b.dt_s);
      for (int i = 0; i < steps; ++i) {
        const reading r = b.step();
        ASSERT_LE(r.energy.power_kw, 1.2 * coarse.rated_power_kw) << name(t);
        if (t == machine_type::hvac) {
          ASSERT_GT(r.environmental.indoor_temp_c, 10) << "month " << month;
          ASSERT_LT(r.environmental.indoor_temp_c, 32) << "month " << month;
        }
        coarse_sum += r.energy.power_kw;
      }
      EXPECT_NEAR(coarse_sum / steps, fine_mean, 0.1 * fine_mean) << name(t) << " month " << month;
    }
  }
}

TEST(models, hvac_cop_falls_with_outdoor_temperature) {
  const hvac_params p = std::get<hvac_params>(default_params(machine_type::hvac, 150));
  EXPECT_NEAR(cooling_cop(p, p.rating_outdoor_c), p.nominal_cop, 1e-12);
  EXPECT_GT(cooling_cop(p, 20), cooling_cop(p, 30));
  EXPECT_GT(cooling_cop(p, 30), cooling_cop(p, 40));
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

/// Bit-for-bit equality of every published field (NaN = absent equals absent).
bool same_reading(const reading& a, const reading& b, bool compare_meter = true) {
  const auto &x = a.energy, &y = b.energy;
  const auto &p = a.production, &q = b.production;
  const auto &u = a.environmental, &v = b.environmental;
  return a.time == b.time && same(x.power_kw, y.power_kw) && same(x.energy_kwh, y.energy_kwh) &&
         (!compare_meter || same(x.energy_total_kwh, y.energy_total_kwh)) &&
         same(x.voltage_v, y.voltage_v) && same(x.current_a, y.current_a) &&
         same(x.power_factor, y.power_factor) && same(x.frequency_hz, y.frequency_hz) &&
         p.production_count == q.production_count &&
         p.production_count_good == q.production_count_good &&
         p.production_count_bad == q.production_count_bad &&
         same(p.throughput_units_per_hour, q.throughput_units_per_hour) && p.mode == q.mode &&
         same(p.speed_percent, q.speed_percent) && same(u.outdoor_temp_c, v.outdoor_temp_c) &&
         same(u.indoor_temp_c, v.indoor_temp_c) && same(u.machine_temp_c, v.machine_temp_c) &&
         same(u.outdoor_humidity_percent, v.outdoor_humidity_percent) &&
         same(u.indoor_humidity_percent, v.indoor_humidity_percent) &&
         same(u.pressure_bar, v.pressure_bar) &&
         same(u.pressure_setpoint_bar, v.pressure_setpoint_bar) &&
         same(u.flow_rate_m3h, v.flow_rate_m3h) && same(u.supply_air_temp_c, v.supply_air_temp_c) &&
         same(u.return_air_temp_c, v.return_air_temp_c) &&
         same(u.chilled_water_supply_temp_c, v.chilled_water_supply_temp_c) &&
         same(u.chilled_water_return_temp_c, v.chilled_water_return_temp_c) && same(u.cop, v.cop) &&
         same(u.vibration_mm_s, v.vibration_mm_s) && a.is_running == b.is_running &&
         a.energy_dropped == b.energy_dropped && a.production_dropped == b.production_dropped &&
         a.environmental_dropped == b.environmental_dropped;
}

TEST(models, same_seed_same_readings_other_seed_differs) {
  for (auto t : all_types) {
    driver a(config_of(t), at(2024, 7, 16), 42);
    driver b(config_of(t), at(2024, 7, 16), 42);
    driver c(config_of(t), at(2024, 7, 16), 43);
    int differ = 0;
    const int steps = static_cast<int>(86400 / a.dt_s);
    for (int i = 0; i < steps; ++i) {
      const reading ra = a.step();
      ASSERT_TRUE(same_reading(ra, b.step())) << name(t) << " step " << i;
      differ += same_reading(ra, c.step()) ? 0 : 1;
    }
    EXPECT_GT(differ, steps * 9 / 10) << name(t);
  }
}

TEST(models, stopped_machine_is_offline_and_restarts) {
  for (auto t : all_types) {
    driver d(config_of(t), at(2024, 7, 16, 8));
    for (int i = 0; i < 10; ++i) d.step();
    d.m.set_enabled(false);
    EXPECT_FALSE(d.m.enabled());
    const double total = d.m.energy_total_kwh();
    for (int i = 0; i < 20; ++i) {
      const reading r = d.step();
      EXPECT_EQ(r.production.mode, operating_mode::offline) << name(t);
      EXPECT_FALSE(r.is_running);
      EXPECT_EQ(r.energy.power_kw, 0) << name(t);
      EXPECT_EQ(r.energy.current_a, 0);
      EXPECT_EQ(r.production.production_count, 0) << name(t);
    }
    EXPECT_EQ(d.m.energy_total_kwh(), total);
    d.m.set_enabled(true);
    double power = 0;
    for (int i = 0; i < static_cast<int>(1800 / d.dt_s); ++i) {
      const reading r = d.step();
      EXPECT_NE(r.production.mode, operating_mode::offline);
      power += r.energy.power_kw;
    }
    EXPECT_GT(power, 0) << name(t);
    EXPECT_GT(d.m.energy_total_kwh(), total);
  }
}

TEST(models, start_up_ramp_follows_the_schedule_gradually) {
  // The conveyor at the start of the early shift: speed climbs over several intervals.
  driver d(config_of(machine_type::motor), at(2024, 7, 15, 5, 58));  // Monday: nothing before 6:00
  std::vector<double> speeds;
  for (int i = 0; i < 30; ++i) speeds.push_back(d.step().production.speed_percent);
  EXPECT_EQ(speeds.front(), 0);
  EXPECT_GT(speeds.back(), 95);
  int intermediate = 0;
  for (double s : speeds) intermediate += (s > 5 && s < 90) ? 1 : 0;
  EXPECT_GE(intermediate, 2);
  for (std::size_t i = 1; i < speeds.size(); ++i) EXPECT_GE(speeds[i], speeds[i - 1]);
}

TEST(models, compressor_holds_its_pressure_band) {
  driver d(config_of(machine_type::compressor), at(2024, 7, 16, 7));
  const auto p = std::get<compressor_params>(d.m.config().params);
  int loaded_high = 0, low = 0;
  double min_p = 100, max_p = 0;
  for (int i = 0; i < 3 * 3600; ++i) {
    const reading r = d.step();
    min_p = std::min(min_p, r.environmental.pressure_bar);
    max_p = std::max(max_p, r.environmental.pressure_bar);
    if (r.energy.power_kw > 0.8 * 55) ++loaded_high;
    if (r.energy.power_kw < 0.35 * 55) ++low;
  }
  EXPECT_GE(min_p, p.pressure_min_bar - 0.05);
  EXPECT_LE(max_p, p.pressure_max_bar + 1e-9);
  EXPECT_GT(max_p - min_p, 0.8 * (p.pressure_max_bar - p.pressure_min_bar));
  EXPECT_GT(loaded_high, 3600);  // loaded most of the time at 70% demand
  EXPECT_GT(low, 300);           // and unloaded between
}

TEST(models, pump_power_is_flow_times_pressure_over_efficiency) {
  const auto p = std::get<pump_params>(default_params(machine_type::pump, 45));
  const pump_operating_point press = pump_point(p, 1);
  EXPECT_DOUBLE_EQ(press.pressure_bar, 210);
  // 210 bar x Q m3/h = 210e5 Pa x Q/3600 m3/s.
  const double hydraulic_kw = 210e5 * press.flow_m3h / 3600.0 / 1000.0;
  EXPECT_NEAR(pump_power_kw(p, 45, press), hydraulic_kw / 0.85 + 45 * 0.08, 1e-9);
  EXPECT_NEAR(pump_power_kw(p, 45, press), 0.95 * 45 + 45 * 0.08, 0.01);

  // Stroking back to back at full load, the mean power is the phase-weighted mean.
  const double fractions[] = {0.2, 0.35, 0.2, 0.15, 0.1};
  double expected = 0;
  for (int i = 0; i < 5; ++i) expected += fractions[i] * pump_power_kw(p, 45, pump_point(p, i));
  calendar always;  // no shifts: load 1 on working days
  driver d(config_of(machine_type::pump), at(2024, 7, 16, 1));
  d.cal = always;
  d.step();  // warm start at full load
  double sum = 0;
  std::int64_t strokes = 0;
  const int steps = 3600 / 30;
  for (int i = 0; i < steps; ++i) {
    const reading r = d.step();
    sum += r.energy.power_kw;
    strokes += r.production.production_count;
  }
  EXPECT_NEAR(sum / steps, expected, 0.02 * expected);
  // Production wanders a few percent below the schedule's full load (docs/machines.md,
  // "What every machine shares"), never above the press's cycle rate.
  EXPECT_LE(static_cast<double>(strokes), 3600.0 / p.press_cycle_s + 1);
  EXPECT_GE(static_cast<double>(strokes), 0.95 * 3600.0 / p.press_cycle_s);
}

TEST(models, molding_counts_parts_per_shot_with_good_and_bad) {
  calendar always;
  driver d(uninterrupted(config_of(machine_type::injection_molding)), at(2024, 7, 16, 1));
  d.cal = always;
  std::int64_t parts = 0, good = 0, bad = 0;
  for (int i = 0; i < 8 * 3600 / 30; ++i) {
    const reading r = d.step();
    ASSERT_EQ(r.production.production_count,
              r.production.production_count_good + r.production.production_count_bad);
    ASSERT_EQ(r.production.production_count % 4, 0);  // four cavities per shot
    parts += r.production.production_count;
    good += r.production.production_count_good;
    bad += r.production.production_count_bad;
    ASSERT_NEAR(r.environmental.machine_temp_c, 230, 3);  // barrel held at its set point
  }
  // At most one shot per cycle; the production load wanders a few percent below full.
  EXPECT_LE(static_cast<double>(parts), 8 * 3600 / 24.0 * 4 + 4);
  EXPECT_GE(static_cast<double>(parts), 0.95 * 8 * 3600 / 24.0 * 4);
  EXPECT_NEAR(static_cast<double>(bad) / static_cast<double>(parts), 0.02, 0.01);
  EXPECT_GT(good, bad);
}

TEST(models, conveyor_speed_and_throughput_follow_the_line) {
  const auto run = [](int hour) {
    driver d(config_of(machine_type::motor), at(2024, 7, 16, hour));
    reading r;
    double throughput = 0;
    for (int i = 0; i < 360; ++i) {
      r = d.step();
      throughput += r.production.throughput_units_per_hour;
    }
    return std::pair{r.production.speed_percent, throughput / 360};
  };
  const auto [day_speed, day_throughput] = run(8);      // early shift, load 1.0
  const auto [night_speed, night_throughput] = run(1);  // night shift, load 0.6
  EXPECT_GT(day_speed, night_speed + 20);
  EXPECT_GT(day_throughput, 1.3 * night_throughput);
}

}  // namespace
}  // namespace factorysim::machines
