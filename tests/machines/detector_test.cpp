// Severity calibration (issue 10), measured with a documented baseline detector.
//
// Detector (a rolling z-score, as a first condition-monitoring rule would be): every
// machine reports once a minute; for each numeric signal the fault lists (`signals`), the
// score of a reading is |x - mean| / std over a trailing window of 120 readings (two hours)
// that ended 240 readings (four hours) earlier, so a four-hour fault is compared with the
// time before it; a reading's score is the largest over those signals. Positives are the
// readings inside the fault, negatives the readings of the same day before it (after a
// warm-up) and well after it. AUC is the Mann-Whitney statistic over many seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using namespace std::chrono_literals;
using testing::at;
using testing::config_of;
using testing::driver;

double value_of(const reading& r, const std::string& k) {
  const auto& e = r.energy;
  const auto& p = r.production;
  const auto& v = r.environmental;
  const std::map<std::string, double> all = {
      {"power_kw", e.power_kw},
      {"energy_kwh", e.energy_kwh},
      {"voltage_v", e.voltage_v},
      {"current_a", e.current_a},
      {"power_factor", e.power_factor},
      {"production_count", static_cast<double>(p.production_count)},
      {"production_count_good", static_cast<double>(p.production_count_good)},
      {"production_count_bad", static_cast<double>(p.production_count_bad)},
      {"throughput_units_per_hour", p.throughput_units_per_hour},
      {"speed_percent", p.speed_percent},
      {"indoor_temp_c", v.indoor_temp_c},
      {"machine_temp_c", v.machine_temp_c},
      {"indoor_humidity_percent", v.indoor_humidity_percent},
      {"pressure_bar", v.pressure_bar},
      {"flow_rate_m3h", v.flow_rate_m3h},
      {"supply_air_temp_c", v.supply_air_temp_c},
      {"return_air_temp_c", v.return_air_temp_c},
      {"chilled_water_supply_temp_c", v.chilled_water_supply_temp_c},
      {"chilled_water_return_temp_c", v.chilled_water_return_temp_c},
      {"cop", v.cop},
      {"vibration_mm_s", v.vibration_mm_s}};
  const auto it = all.find(k);
  return it == all.end() ? absent : it->second;
}

constexpr int window = 120;
constexpr int lag_readings = 240;

struct scored {
  double score;
  bool positive;
};

/// One day of one machine with fault f from 08:00 to 12:00, scored by the detector.
std::vector<scored> one_day(machine_type t, fault_type type, double severity,
                            std::uint64_t seed) {
  machine_config c = config_of(t);
  c.interval = 60s;
  const sim_time start = at(2024, 7, 16, 0);
  driver d(c, start, seed);
  fault f;
  f.id = 1;
  f.type = type;
  f.severity = severity;
  f.start = at(2024, 7, 16, 8);
  f.end = at(2024, 7, 16, 12);
  const fault active[] = {f};
  std::vector<std::string> keys;
  for (const auto& k : affected_signals(type, t, "", severity))
    if (!std::isnan(value_of(d.step(), k)) && k != "energy_kwh") keys.push_back(k);
  std::vector<std::vector<double>> series(keys.size());
  std::vector<bool> on;
  std::vector<sim_time> times;
  while (d.now < at(2024, 7, 17, 0)) {
    const sim_time next = d.now + c.interval;
    const bool in_fault = f.start < next && next - c.interval < *f.end;
    const reading r = in_fault ? d.step(active) : d.step();
    for (std::size_t k = 0; k < keys.size(); ++k) series[k].push_back(value_of(r, keys[k]));
    on.push_back(in_fault);
    times.push_back(next);
  }
  std::vector<scored> out;
  for (std::size_t i = window + lag_readings; i < on.size(); ++i) {
    // Negatives: before the fault, or once the reference window no longer holds it.
    const bool clean_after = times[i] > *f.end + milliseconds(60'000LL * (lag_readings + 10));
    if (!on[i] && times[i] > f.start && !clean_after) continue;
    double best = 0;
    for (const auto& s : series) {
      double sum = 0, sq = 0;
      const std::size_t from = i - lag_readings - window;
      for (std::size_t j = from; j < from + window; ++j) {
        sum += s[j];
        sq += s[j] * s[j];
      }
      const double mean = sum / window;
      const double sd = std::sqrt(std::max(sq / window - mean * mean, 0.0));
      best = std::max(best, std::abs(s[i] - mean) / std::max(sd, 1e-6 + 1e-3 * std::abs(mean)));
    }
    out.push_back({best, on[i]});
  }
  return out;
}

double auc(machine_type t, fault_type type, double severity, int seeds) {
  std::vector<double> pos, neg;
  for (int s = 1; s <= seeds; ++s)
    for (const auto& x : one_day(t, type, severity, static_cast<std::uint64_t>(s)))
      (x.positive ? pos : neg).push_back(x.score);
  std::sort(neg.begin(), neg.end());
  double wins = 0;
  for (double p : pos) {
    const auto lo = std::lower_bound(neg.begin(), neg.end(), p);
    const auto hi = std::upper_bound(neg.begin(), neg.end(), p);
    wins += static_cast<double>(lo - neg.begin()) + 0.5 * static_cast<double>(hi - lo);
  }
  return wins / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
}

TEST(detector, auc_by_fault_type_and_severity) {
  struct target {
    fault_type type;
    machine_type machine;
  };
  const target targets[] = {
      {fault_type::air_leak, machine_type::compressor},
      {fault_type::bearing_wear, machine_type::motor},
      {fault_type::belt_slip, machine_type::motor},
      {fault_type::cavitation, machine_type::pump},
      {fault_type::heater_failure, machine_type::injection_molding},
      {fault_type::refrigerant_leak, machine_type::hvac},
      {fault_type::fouled_coil, machine_type::hvac},
  };
  for (const auto& x : targets) {
    const double strong = auc(x.machine, x.type, 1.0, 8);
    const double faint = auc(x.machine, x.type, 0.2, 8);
    std::printf("detector: %-16s on %-17s AUC at 1.0 = %.3f, at 0.2 = %.3f\n",
                std::string(to_string(x.type)).c_str(), std::string(to_string(x.machine)).c_str(),
                strong, faint);
    EXPECT_GT(strong, faint) << to_string(x.type);
  }
}

}  // namespace
}  // namespace factorysim::machines
