// A plant built from a scenario: deterministic, faults from the file arrive on time.
#include "scenarios/plant.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "scenarios/scenario.hpp"

namespace fs = factorysim::scenarios;
namespace fm = factorysim::machines;
using namespace std::chrono_literals;

namespace {

const std::string source_dir = FACTORYSIM_SOURCE_DIR;

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

bool same(const fm::reading& a, const fm::reading& b) {
  const auto& ea = a.energy;
  const auto& eb = b.energy;
  const auto& va = a.environmental;
  const auto& vb = b.environmental;
  return a.time == b.time && same(ea.power_kw, eb.power_kw) && same(ea.energy_kwh, eb.energy_kwh) &&
         same(ea.energy_total_kwh, eb.energy_total_kwh) && same(ea.voltage_v, eb.voltage_v) &&
         same(ea.current_a, eb.current_a) && same(ea.power_factor, eb.power_factor) &&
         same(ea.frequency_hz, eb.frequency_hz) &&
         a.production.production_count == b.production.production_count &&
         a.production.production_count_good == b.production.production_count_good &&
         a.production.mode == b.production.mode &&
         same(a.production.speed_percent, b.production.speed_percent) &&
         same(va.outdoor_temp_c, vb.outdoor_temp_c) && same(va.pressure_bar, vb.pressure_bar) &&
         same(va.flow_rate_m3h, vb.flow_rate_m3h) && same(va.cop, vb.cop) &&
         same(va.vibration_mm_s, vb.vibration_mm_s) && same(va.machine_temp_c, vb.machine_temp_c) &&
         a.is_running == b.is_running;
}

/// Steps every machine of `p` on its own interval from `from` for `span`, in time order.
std::vector<fm::reading> run(fs::plant& p, fm::sim_time from, std::chrono::milliseconds span,
                             std::vector<fm::fault_event>& events) {
  std::vector<fm::reading> out;
  for (auto t = from + 1s; t <= from + span; t += 1s)
    for (std::size_t i = 0; i < p.size(); ++i)
      if ((t - from) % p.machine_at(i).config().interval == 0ms)
        out.push_back(p.step(i, t, events));
  return out;
}

}  // namespace

TEST(plant, two_plants_from_one_scenario_give_identical_readings) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/demo-plant.yaml");
  fs::plant a(s), b(s);
  ASSERT_EQ(a.size(), 7u);
  const auto from = fm::sim_time{} + 1'717'228'800'000ms;  // 2024-06-01T08:00:00Z
  std::vector<fm::fault_event> events_a, events_b;
  const auto ra = run(a, from, 2h, events_a);
  const auto rb = run(b, from, 2h, events_b);
  ASSERT_EQ(ra.size(), rb.size());
  // 2 h of 1 s, 10 s and 30 s machines: 2 x 7200 + 3 x 720 + 2 x 240.
  EXPECT_EQ(ra.size(), 2u * 7200 + 3u * 720 + 2u * 240);
  for (std::size_t k = 0; k < ra.size(); ++k) ASSERT_TRUE(same(ra[k], rb[k])) << "reading " << k;
  ASSERT_EQ(events_a.size(), events_b.size());
  for (std::size_t k = 0; k < events_a.size(); ++k) {
    EXPECT_EQ(events_a[k].at, events_b[k].at);
    EXPECT_EQ(events_a[k].f.type, events_b[k].f.type);
  }
}

TEST(plant, another_seed_gives_other_readings) {
  fs::scenario s = fs::load_scenario(source_dir + "/scenarios/demo-plant.yaml");
  fs::plant a(s);
  s.seed += 1;
  fs::plant b(s);
  const auto from = fm::sim_time{} + 1'717'228'800'000ms;
  std::vector<fm::fault_event> ea, eb;
  const auto ra = run(a, from, 10min, ea);
  const auto rb = run(b, from, 10min, eb);
  ASSERT_EQ(ra.size(), rb.size());
  std::size_t differing = 0;
  for (std::size_t k = 0; k < ra.size(); ++k) differing += same(ra[k], rb[k]) ? 0 : 1;
  EXPECT_GT(differing, ra.size() / 2);
}

TEST(plant, scheduled_fault_starts_and_ends_on_time) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/quick-test.yaml");
  fs::plant p(s);
  const std::size_t compressor = p.find("c2000000-0000-0000-0000-000000000001");
  ASSERT_LT(compressor, p.size());
  EXPECT_EQ(p.find("c0000000-0000-0000-0000-00000000dead"), p.size());
  std::vector<fm::fault_event> events;
  run(p, *s.from, 60s, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].what, fm::fault_event::kind::start);
  EXPECT_EQ(events[0].f.type, fm::fault_type::air_leak);
  EXPECT_EQ(events[0].at, *s.from + 20s);
  EXPECT_EQ(events[1].what, fm::fault_event::kind::end);
  EXPECT_EQ(events[1].at, *s.from + 50s);
}

TEST(plant, after_counts_from_an_overridden_from) {
  fs::scenario s = fs::load_scenario(source_dir + "/scenarios/quick-test.yaml");
  s.from = *s.from + 1h;  // as `run --from` does
  s.to = *s.to + 1h;
  fs::plant p(s);
  ASSERT_EQ(p.faults_at(0).pending().size(), 1u);
  EXPECT_EQ(p.faults_at(0).pending()[0].start, *s.from + 20s);
  ASSERT_TRUE(p.faults_at(0).pending()[0].end);
  EXPECT_EQ(*p.faults_at(0).pending()[0].end, *s.from + 50s);
}

TEST(plant, builds_ten_thousand_replicas) {
  const fs::scenario s = fs::load_scenario(source_dir + "/scenarios/load-test.yaml");
  fs::plant p(s);
  ASSERT_EQ(p.size(), 10000u);
  EXPECT_EQ(p.find(s.machines[9999].id), 9999u);
  std::vector<fm::fault_event> events;
  const auto r = p.step(9999, *s.from + 1s, events);
  EXPECT_EQ(r.time, *s.from + 1s);
  EXPECT_GE(r.energy.power_kw, 0);
}

namespace {

// Four machines on three sites; sites A and B are on one synchronous grid, C on another.
const char* const grid_yaml = R"(name: grid-test
seed: 7
time: {mode: backfill, from: 2025-03-03T00:00:00Z, to: 2025-03-04T00:00:00Z}
factories:
  - {id: a0000000-0000-0000-0000-000000000001, name: A, timezone: UTC, grid: continental}
  - {id: b0000000-0000-0000-0000-000000000001, name: B, timezone: UTC, grid: continental}
  - {id: c0000000-0000-0000-0000-000000000001, name: C, timezone: UTC, grid: island}
machines:
  - {id: a1000000-0000-0000-0000-000000000001, name: A1, type: pump, rated_power_kw: 15,
     interval: 60s, topic: t/a1, factory: a0000000-0000-0000-0000-000000000001}
  - {id: a2000000-0000-0000-0000-000000000001, name: A2, type: compressor, rated_power_kw: 30,
     interval: 60s, topic: t/a2, factory: a0000000-0000-0000-0000-000000000001}
  - {id: b1000000-0000-0000-0000-000000000001, name: B1, type: pump, rated_power_kw: 15,
     interval: 60s, topic: t/b1, factory: b0000000-0000-0000-0000-000000000001}
  - {id: c1000000-0000-0000-0000-000000000001, name: C1, type: pump, rated_power_kw: 15,
     interval: 60s, topic: t/c1, factory: c0000000-0000-0000-0000-000000000001}
)";

/// The site's per-unit supply voltage seen by a meter: its reading with the machine's own
/// feeder sag (1.2 % at full load, docs/machines.md) added back.
double site_voltage_pu(const fm::reading& r, const fm::machine& m) {
  const auto& c = m.config();
  const double load = std::min(std::max(r.energy.power_kw, 0.0) / c.rated_power_kw, 1.5);
  return r.energy.voltage_v / c.rated_voltage_v + 0.012 * load;
}

}  // namespace

TEST(plant, machines_of_one_site_see_one_supply_and_sites_of_one_grid_one_frequency) {
  const fs::scenario s = fs::parse_scenario(grid_yaml, "grid-test.yaml");
  fs::plant p(s);
  ASSERT_EQ(p.size(), 4u);
  std::vector<fm::fault_event> events;
  double same_site_v = 0, other_site_v = 0, same_grid_hz = 0, other_grid_hz = 0;
  double same_site_v_max = 0, same_grid_hz_max = 0;
  int n = 0;
  for (auto t = *s.from + 60s; t <= *s.to; t += 60s, ++n) {
    std::array<fm::reading, 4> r;
    for (std::size_t i = 0; i < 4; ++i) r[i] = p.step(i, t, events);
    const double a1 = site_voltage_pu(r[0], p.machine_at(0));
    const double a2 = site_voltage_pu(r[1], p.machine_at(1));
    const double b1 = site_voltage_pu(r[2], p.machine_at(2));
    same_site_v += std::abs(a1 - a2);
    same_site_v_max = std::max(same_site_v_max, std::abs(a1 - a2));
    other_site_v += std::abs(a1 - b1);
    const double f_ab = std::abs(r[0].energy.frequency_hz - r[2].energy.frequency_hz);
    same_grid_hz += f_ab;
    same_grid_hz_max = std::max(same_grid_hz_max, f_ab);
    other_grid_hz += std::abs(r[0].energy.frequency_hz - r[3].energy.frequency_hz);
  }
  ASSERT_EQ(n, 1440);
  // One site: the two meters differ by their own noise (0.05 %) and 0.1 V rounding only.
  EXPECT_LT(same_site_v / n, 0.001);
  EXPECT_LT(same_site_v_max, 0.004);
  // Another site on the same grid has a voltage of its own...
  EXPECT_GT(other_site_v / n, 2 * same_site_v / n);
  EXPECT_GT(other_site_v / n, 0.002);
  // ...but the grid's frequency, within the meters' 1 mHz noise.
  EXPECT_LT(same_grid_hz / n, 0.002);
  EXPECT_LT(same_grid_hz_max, 0.007);
  // Another grid's frequency wanders on its own (about 20 mHz standard deviation).
  EXPECT_GT(other_grid_hz / n, 0.008);
}
