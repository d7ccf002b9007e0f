// Labels are precise (issue 10): the `signals` of a fault list exactly the payload keys it
// changes, found by comparing a faulted run with its unfaulted twin of the same seed; and a
// fault acts on the readings of the intervals it overlaps, not on the one that ends at its start.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "machines/fault_book.hpp"
#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using namespace std::chrono_literals;
using testing::at;
using testing::config_of;
using testing::driver;

/// Every reading key with its value as the wire shows it (rounded to its decimals).
std::map<std::string, double> wire_values(const reading& r, bool& energy, bool& production,
                                          bool& environmental) {
  std::map<std::string, double> out;
  auto put = [&](const char* k, double v, int decimals) {
    if (std::isnan(v)) return;
    out[k] = std::round(v * std::pow(10.0, decimals));
  };
  energy = !r.energy_dropped;
  production = !r.production_dropped;
  environmental = !r.environmental_dropped;
  if (energy) {
    const auto& e = r.energy;
    put("power_kw", e.power_kw, 3);
    put("energy_kwh", e.energy_kwh, 6);
    put("energy_total_kwh", e.energy_total_kwh, 3);
    put("voltage_v", e.voltage_v, 1);
    put("current_a", e.current_a, 2);
    put("power_factor", e.power_factor, 3);
    put("frequency_hz", e.frequency_hz, 3);
    put("current_l1_a", e.current_l1_a, 2);
    put("current_l2_a", e.current_l2_a, 2);
    put("current_l3_a", e.current_l3_a, 2);
  }
  if (production) {
    const auto& p = r.production;
    put("production_count", static_cast<double>(p.production_count), 0);
    put("production_count_good", static_cast<double>(p.production_count_good), 0);
    put("production_count_bad", static_cast<double>(p.production_count_bad), 0);
    put("throughput_units_per_hour", p.throughput_units_per_hour, 1);
    put("operating_mode", static_cast<double>(p.mode), 0);
    put("speed_percent", p.speed_percent, 1);
  }
  if (environmental) {
    const auto& v = r.environmental;
    put("outdoor_temp_c", v.outdoor_temp_c, 2);
    put("indoor_temp_c", v.indoor_temp_c, 2);
    put("machine_temp_c", v.machine_temp_c, 2);
    put("outdoor_humidity_percent", v.outdoor_humidity_percent, 1);
    put("indoor_humidity_percent", v.indoor_humidity_percent, 1);
    put("pressure_bar", v.pressure_bar, 2);
    put("pressure_setpoint_bar", v.pressure_setpoint_bar, 2);
    put("flow_rate_m3h", v.flow_rate_m3h, 2);
    put("supply_air_temp_c", v.supply_air_temp_c, 2);
    put("return_air_temp_c", v.return_air_temp_c, 2);
    put("chilled_water_supply_temp_c", v.chilled_water_supply_temp_c, 2);
    put("chilled_water_return_temp_c", v.chilled_water_return_temp_c, 2);
    put("cop", v.cop, 3);
    put("vibration_mm_s", v.vibration_mm_s, 2);
    put("bearing_temp_c", v.bearing_temp_c, 1);
    put("vibration_1x_mm_s", v.vibration_1x_mm_s, 2);
    put("vibration_2x_mm_s", v.vibration_2x_mm_s, 2);
    put("vibration_accel_peak_g", v.vibration_accel_peak_g, 3);
    put("vibration_crest_factor", v.vibration_crest_factor, 2);
    put("vibration_kurtosis", v.vibration_kurtosis, 2);
    put("vibration_bearing_defect_ge", v.vibration_bearing_defect_ge, 3);
    put("current_unbalance_percent", v.current_unbalance_percent, 2);
    put("run_hours", v.run_hours, 2);
    put("start_count", v.start_count, 0);
  }
  return out;
}

/// Keys whose wire value differs between a run with fault f and its twin without, over
/// several hours of a summer and a winter working day.
std::set<std::string> changed_keys(machine_type t, fault f) {
  std::set<std::string> changed;
  for (const sim_time start : {at(2025, 7, 2, 9), at(2025, 1, 15, 9)}) {
    machine_config c = config_of(t);
    driver healthy(c, start);
    driver faulty(c, start);
    f.start = start + c.interval * 20;
    f.end = f.start + 3h;
    const std::array<fault, 1> active{f};
    for (int i = 0; healthy.now < *f.end + 1h; ++i) {
      const sim_time next = faulty.now + c.interval;
      // As the fault book does: active for every interval it overlaps.
      const bool on = f.start < next && next - c.interval < *f.end;
      bool e1, p1, v1, e2, p2, v2;
      const auto a = wire_values(healthy.step(), e1, p1, v1);
      const auto b = wire_values(on ? faulty.step(active) : faulty.step(), e2, p2, v2);
      for (const auto& [k, v] : a)
        if (!b.contains(k) || b.at(k) != v) changed.insert(k);
      for (const auto& [k, v] : b)
        if (!a.contains(k)) changed.insert(k);
    }
  }
  return changed;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& k : s) out += k + " ";
  return out;
}

TEST(labels, the_signals_of_every_physics_fault_are_exactly_the_keys_it_changes) {
  for (auto t : testing::all_types) {
    for (auto type : all_fault_types) {
      if (is_generic(type) || !fault_applies(type, t)) continue;
      for (double severity : {1.0, 0.5}) {
        fault f;
        f.id = 9;
        f.type = type;
        f.severity = severity;
        const auto listed = affected_signals(type, t, "", severity);
        const std::set<std::string> want(listed.begin(), listed.end());
        const std::set<std::string> got = changed_keys(t, f);
        if (severity == 1.0) {
          EXPECT_EQ(join(got), join(want)) << to_string(type) << " on " << to_string(t);
        } else {
          // A weaker fault may leave some of them alone, but never moves another key.
          for (const auto& k : got)
            EXPECT_TRUE(want.contains(k)) << k << ": " << to_string(type) << " on " << to_string(t);
        }
      }
    }
  }
}

TEST(labels, the_signals_of_every_sensor_fault_are_exactly_the_keys_it_changes) {
  for (auto t : testing::all_types) {
    for (auto type : all_fault_types) {
      if (!is_generic(type)) continue;
      for (std::string signal : {"", "power_kw", "machine_temp_c", "voltage_v", "speed_percent",
                                 "bearing_temp_c", "current_l1_a", "vibration_kurtosis"}) {
        fault f;
        f.id = 9;
        f.type = type;
        f.severity = 1.0;
        f.signal = signal;
        const auto listed = affected_signals(type, t, signal, 1.0);
        const std::set<std::string> want(listed.begin(), listed.end());
        const std::set<std::string> got = changed_keys(t, f);
        // A sensor fault on a signal that holds still (a compressor's speed, a barrel at its
        // set point) may show nothing; on power and for dropouts it always does.
        if (type == fault_type::dropout || signal.empty() || signal == "power_kw") {
          EXPECT_EQ(join(got), join(want))
              << to_string(type) << " on " << to_string(t) << " signal '" << signal << "'";
        } else {
          for (const auto& k : got) EXPECT_TRUE(want.contains(k)) << k;
          EXPECT_LE(got.size(), 1u);
        }
      }
    }
  }
}

}  // namespace
}  // namespace factorysim::machines
