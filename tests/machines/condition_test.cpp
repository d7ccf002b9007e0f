// Condition-monitoring sensors (issue 10): each feature follows bearing damage the way the
// P-F curve says (envelope and kurtosis first, velocity later, temperature last), the phase
// currents average to the meter's current with the stated unbalance, and run hours and starts
// count what the machine did.
#include "machines/condition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using testing::at;
using testing::config_of;
using testing::driver;

/// A running compressor of healthy RMS velocity 2.6 mm/s whose bearing has `damage`; the
/// model's velocity grows by 1 + 3 damage^2 (docs/machines.md).
/// Its environmental features; the phase currents land in `energy`.
environmental_reading features(double damage, std::int64_t time_ms = 0,
                               energy_reading* energy = nullptr) {
  condition_input in;
  in.type = machine_type::compressor;
  in.bearing_damage = damage;
  in.vibration_healthy_mm_s = 2.6;
  in.vibration_mm_s = 2.6 * (1 + 3 * damage * damage);
  in.machine_temp_c = 78;
  in.hall_temp_c = 22;
  in.current_a = 80;
  in.running = true;
  in.unbalance_offset = 0.5;
  in.phase_angle = 0.2;
  in.noise_seed = 99;
  in.time_ms = time_ms;
  environmental_reading env;
  energy_reading e;
  fill_condition(in, e, env);
  if (energy != nullptr) *energy = e;
  return env;
}

/// Mean of a feature over 200 noisy samples.
template <typename F>
double mean_of(double damage, F f) {
  double sum = 0;
  for (int i = 0; i < 200; ++i) sum += f(features(damage, i * 1000));
  return sum / 200;
}

TEST(condition, the_envelope_sees_a_spall_long_before_the_velocity_moves) {
  auto defect = [](const environmental_reading& e) { return e.vibration_bearing_defect_ge; };
  const double new_ge = mean_of(0, defect);
  const double spall_ge = mean_of(0.3, defect);
  EXPECT_LT(new_ge, 0.1);
  // At damage 0.3 the velocity is up 27 %; the envelope is up more than five times.
  EXPECT_GT(spall_ge, 5 * new_ge);
  EXPECT_GT(mean_of(1.0, defect), 3.0);
}

TEST(condition, kurtosis_and_crest_factor_rise_with_the_first_spalls_then_fall_back) {
  auto kurt = [](const environmental_reading& e) { return e.vibration_kurtosis; };
  auto crest = [](const environmental_reading& e) { return e.vibration_crest_factor; };
  EXPECT_NEAR(mean_of(0, kurt), 3.0, 0.1);  // Gaussian vibration
  EXPECT_GT(mean_of(0.4, kurt), 10.0);
  EXPECT_LT(mean_of(1.0, kurt), mean_of(0.4, kurt) - 3);
  EXPECT_GT(mean_of(1.0, kurt), mean_of(0, kurt));
  EXPECT_NEAR(mean_of(0, crest), 3.2, 0.1);
  EXPECT_GT(mean_of(0.4, crest), 7.0);
  EXPECT_LT(mean_of(1.0, crest), mean_of(0.4, crest) - 1);
}

TEST(condition, bearing_temperature_is_the_last_to_move) {
  auto temp = [](const environmental_reading& e) { return e.bearing_temp_c; };
  EXPECT_LT(mean_of(0.3, temp) - mean_of(0, temp), 1.5);
  EXPECT_GT(mean_of(1.0, temp) - mean_of(0, temp), 30);
}

TEST(condition, spectral_bands_never_exceed_the_overall_velocity) {
  for (double d : {0.0, 0.2, 0.5, 0.8, 1.0})
    for (int i = 0; i < 50; ++i) {
      const auto e = features(d, i * 1000);
      const double v = 2.6 * (1 + 3 * d * d);
      EXPECT_LE(std::hypot(e.vibration_1x_mm_s, e.vibration_2x_mm_s), v + 0.01) << d;
      EXPECT_GT(e.vibration_1x_mm_s, 0);
      EXPECT_GT(e.vibration_accel_peak_g, 0);
    }
}

TEST(condition, phase_currents_average_to_the_meter_and_carry_the_stated_unbalance) {
  for (double d : {0.0, 0.5, 1.0}) {
    energy_reading e;
    const auto env = features(d, 0, &e);
    const double mean = (e.current_l1_a + e.current_l2_a + e.current_l3_a) / 3;
    EXPECT_NEAR(mean, 80, 0.02);
    const double dev = std::max({std::abs(e.current_l1_a - mean), std::abs(e.current_l2_a - mean),
                                 std::abs(e.current_l3_a - mean)});
    EXPECT_NEAR(env.current_unbalance_percent, 100 * dev / mean, 0.01);
  }
  // A healthy motor on a decent supply: 0.3-1.5 %; an eccentric rotor adds about 3 points.
  auto unbalance = [](const environmental_reading& e) { return e.current_unbalance_percent; };
  EXPECT_GT(mean_of(0, unbalance), 0.3);
  EXPECT_LT(mean_of(0, unbalance), 1.6);
  EXPECT_NEAR(mean_of(1.0, unbalance) - mean_of(0, unbalance), 3.0, 0.2);
  // No current, no phases to compare.
  condition_input off;
  off.current_a = 0;
  environmental_reading env;
  energy_reading e;
  fill_condition(off, e, env);
  EXPECT_EQ(e.current_l1_a, 0);
  EXPECT_TRUE(std::isnan(env.current_unbalance_percent));
}

TEST(condition, iso_zones_of_a_group_2_machine_on_a_rigid_foundation) {
  EXPECT_EQ(iso10816_zone(0.5), 'A');
  EXPECT_EQ(iso10816_zone(1.4), 'B');
  EXPECT_EQ(iso10816_zone(2.79), 'B');
  EXPECT_EQ(iso10816_zone(2.8), 'C');
  EXPECT_EQ(iso10816_zone(4.5), 'D');
  EXPECT_EQ(iso10816_zone(std::nan("")), '?');
}

TEST(condition, run_hours_and_starts_count_what_the_conveyor_did_in_a_week) {
  // Three shifts on weekdays, nothing at weekends: the conveyor starts every Monday and
  // (at the weekend's standby load) stops for good; with its warm start on a Monday morning
  // while running, the first start is the next Monday.
  driver d(config_of(machine_type::motor), at(2024, 7, 15, 8));  // a Monday
  double running_h = 0;
  double last_hours = 0, last_starts = 0;
  bool was_running = false;
  int starts = 0;
  bool first = true;
  for (int i = 0; i < 8 * 8640; ++i) {
    const reading r = d.step();
    if (r.is_running) running_h += 10.0 / 3600;
    if (!first && r.is_running && !was_running) ++starts;
    first = false;
    was_running = r.is_running;
    ASSERT_GE(r.environmental.run_hours, last_hours);
    ASSERT_GE(r.environmental.start_count, last_starts);
    last_hours = r.environmental.run_hours;
    last_starts = r.environmental.start_count;
  }
  EXPECT_GT(starts, 0);
  EXPECT_EQ(last_starts, starts);
  EXPECT_NEAR(last_hours, running_h, 0.02);
}

TEST(condition, a_severe_bearing_fault_shows_in_every_bearing_feature) {
  auto run = [](double severity) {
    calendar always;
    driver d(config_of(machine_type::pump), at(2024, 7, 16, 9));
    d.cal = always;
    fault f;
    f.id = 1;
    f.type = fault_type::bearing_wear;
    f.severity = severity;
    const fault active[] = {f};
    environmental_reading sum;
    sum.vibration_bearing_defect_ge = sum.vibration_kurtosis = sum.bearing_temp_c = 0;
    for (int i = 0; i < 120; ++i) {
      const reading r = severity > 0 ? d.step(active) : d.step();
      sum.vibration_bearing_defect_ge += r.environmental.vibration_bearing_defect_ge / 120;
      sum.vibration_kurtosis += r.environmental.vibration_kurtosis / 120;
      sum.bearing_temp_c += r.environmental.bearing_temp_c / 120;
    }
    return sum;
  };
  const auto healthy = run(0);
  const auto worn = run(1.0);
  EXPECT_GT(worn.vibration_bearing_defect_ge, 10 * healthy.vibration_bearing_defect_ge);
  EXPECT_GT(worn.vibration_kurtosis, healthy.vibration_kurtosis + 1);
  EXPECT_GT(worn.bearing_temp_c, healthy.bearing_temp_c + 20);
}

}  // namespace
}  // namespace factorysim::machines
