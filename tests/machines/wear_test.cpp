// Degradation to failure, maintenance and the RUL truth (issue 10).
#include <gtest/gtest.h>

#include <cmath>

#include "machines/electrical.hpp"
#include "machines/wear.hpp"
#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

using namespace std::chrono_literals;
using testing::at;
using testing::config_of;
using testing::utc_local;

/// A machine on a calendar that never changes its load: every day, all day at load `load`.
struct wear_driver {
  machine m;
  calendar cal;
  climate clim{};
  sim_time now = at(2025, 3, 3);
  double dt_s;
  std::vector<health_event> events;

  explicit wear_driver(machine_config c, double load = 1.0, std::uint64_t seed = 42)
      : m(std::move(c), seed), dt_s(static_cast<double>(m.config().interval.count()) / 1000.0) {
    cal.working_days.fill(true);
    cal.shifts = {{"all", 0, 1440, load}};
  }

  reading step() {
    now += m.config().interval;
    step_input in;
    in.time = now;
    in.dt_s = dt_s;
    in.local = utc_local(now);
    in.schedule = schedule_at(cal, in.local);
    in.outdoor = weather_at(clim, 7, now, in.local);
    events.clear();
    return m.step(in, events);
  }
};

/// The config's own (unshared) wear plan, to change.
wear_config& plan(machine_config& c) {
  auto w = std::make_shared<wear_config>(c.wear_plan());
  c.wear = w;
  return *w;
}

machine_config short_lived(machine_type t, double life_scale) {
  machine_config c = config_of(t);
  c.interval = 10s;
  plan(c).life_scale = life_scale;
  plan(c).run_to_failure = true;
  return c;
}

TEST(wear, every_machine_type_has_its_wearing_components) {
  EXPECT_EQ(components_of(machine_type::compressor).size(), 3u);
  EXPECT_EQ(components_of(machine_type::hvac).size(), 3u);
  EXPECT_EQ(components_of(machine_type::motor).size(), 1u);
  EXPECT_EQ(components_of(machine_type::pump).size(), 2u);
  EXPECT_EQ(components_of(machine_type::injection_molding).size(), 2u);
  for (std::size_t i = 0; i < component_kinds; ++i) {
    const auto c = static_cast<component>(i);
    EXPECT_EQ(parse_component(to_string(c)), c);
  }
  EXPECT_FALSE(parse_component("gearbox"));
}

TEST(wear, rul_never_rises_until_failure_and_failure_comes_exactly_when_rul_reaches_zero) {
  for (auto t : testing::all_types) {
    wear_driver d(short_lived(t, 0.0005));
    double last_rul = 1e300;
    double last_health = 1;
    bool failed = false;
    for (int i = 0; i < 200000 && !failed; ++i) {
      const reading r = d.step();
      const health_truth h = d.m.truth();
      ASSERT_LE(h.rul_operating_h, last_rul + 1e-9) << to_string(t) << " step " << i;
      ASSERT_LE(h.health_index, last_health + 1e-12) << to_string(t) << " step " << i;
      for (const auto& e : d.events) {
        ASSERT_EQ(e.what, health_event::kind::failure) << to_string(t);
        failed = true;
        EXPECT_EQ(e.at, d.now);
        EXPECT_TRUE(h.failed);
        EXPECT_EQ(h.rul_operating_h, 0);
        EXPECT_EQ(h.rul_calendar_h, 0);
        EXPECT_EQ(h.limiting, e.which);
        EXPECT_EQ(r.production.mode, operating_mode::fault);
        // One step before, the RUL said less than one step was left.
        EXPECT_LE(last_rul, d.dt_s / 3600.0 + 1e-9) << to_string(t);
      }
      if (!failed) {
        EXPECT_GT(h.rul_operating_h, 0);
        EXPECT_FALSE(h.failed);
      }
      last_rul = h.rul_operating_h;
      last_health = h.health_index;
    }
    ASSERT_TRUE(failed) << to_string(t) << " never failed";
    // Tripped and run to failure: down for good, drawing nothing.
    for (int i = 0; i < 100; ++i) {
      const reading r = d.step();
      EXPECT_EQ(r.production.mode, operating_mode::fault);
      EXPECT_FALSE(r.is_running);
      EXPECT_EQ(r.energy.power_kw, 0);
      EXPECT_EQ(r.production.production_count, 0);
      EXPECT_TRUE(d.events.empty());
      EXPECT_TRUE(d.m.truth().failed);
    }
  }
}

TEST(wear, a_harder_duty_wears_faster) {
  auto steps_to_failure = [](double load) {
    wear_driver d(short_lived(machine_type::motor, 0.0005), load);
    for (int i = 0; i < 400000; ++i) {
      d.step();
      if (!d.events.empty()) return i;
    }
    return -1;
  };
  const int full = steps_to_failure(1.0);
  const int light = steps_to_failure(0.4);
  ASSERT_GT(full, 0);
  ASSERT_GT(light, 0);
  EXPECT_GT(light, full * 3 / 2);
}

TEST(wear, units_of_one_model_scatter_in_life) {
  std::vector<int> lives;
  for (int k = 0; k < 6; ++k) {
    machine_config c = short_lived(machine_type::motor, 0.0005);
    c.id = "c0000000-0000-0000-0000-00000000000" + std::to_string(k);
    wear_driver d(c);
    for (int i = 0; i < 400000; ++i) {
      d.step();
      if (!d.events.empty()) {
        lives.push_back(i);
        break;
      }
    }
  }
  ASSERT_EQ(lives.size(), 6u);
  const auto [lo, hi] = std::minmax_element(lives.begin(), lives.end());
  EXPECT_GT(*hi, *lo * 11 / 10) << "every unit failed at almost the same step";
}

/// A short-lived compressor worn to 0.5, with preventive maintenance of 1 h every 6 h that
/// restores all it services.
machine_config worn_compressor_with_pm() {
  machine_config c = short_lived(machine_type::compressor, 0.01);
  plan(c).run_to_failure = false;
  plan(c).initial_wear.fill(0.5f);
  plan(c).pm_every_h = 6;
  plan(c).pm_duration_h = 1;
  plan(c).pm_restore = 1;
  return c;
}

TEST(wear, preventive_maintenance_stops_the_machine_and_restores_health) {
  wear_driver d(worn_compressor_with_pm());
  std::vector<health_event> seen;
  bool in_maintenance = false;
  for (int i = 0; i < 6 * 360 * 3; ++i) {
    const reading r = d.step();
    for (const auto& e : d.events) seen.push_back(e);
    const bool start = !d.events.empty() && d.events.back().what == health_event::kind::maintenance_start;
    const bool end = !d.events.empty() && d.events.back().what == health_event::kind::maintenance_end;
    if (start) in_maintenance = true;
    if (end) {
      in_maintenance = false;
      EXPECT_NEAR(d.m.truth().health_index, 1.0, 1e-5);  // as new, then one step of wear
    }
    if (in_maintenance) {
      EXPECT_EQ(r.production.mode, operating_mode::maintenance);
      EXPECT_EQ(r.energy.power_kw, 0);
    }
  }
  ASSERT_GE(seen.size(), 4u);
  EXPECT_EQ(seen[0].what, health_event::kind::maintenance_start);
  EXPECT_EQ(seen[0].type, health_event::maintenance::preventive);
  EXPECT_TRUE(seen[0].all_components);
  EXPECT_LT(seen[0].health_before, 0.5);
  EXPECT_DOUBLE_EQ(seen[0].health_after, 1.0);
  EXPECT_EQ(seen[0].at, at(2025, 3, 3, 6));  // six hours after the run began
  EXPECT_EQ(seen[1].what, health_event::kind::maintenance_end);
  EXPECT_EQ(seen[1].at, at(2025, 3, 3, 7));
  EXPECT_EQ(seen[1].work_order, seen[0].work_order);
  EXPECT_NE(seen[2].work_order, seen[0].work_order);
  EXPECT_EQ(seen[2].at, at(2025, 3, 3, 12));
}

TEST(wear, a_plan_that_services_one_component_names_it_and_restores_only_it) {
  machine_config c = worn_compressor_with_pm();
  plan(c).pm_components.fill(false);
  plan(c).pm_components[static_cast<std::size_t>(component::inlet_valve)] = true;
  wear_driver d(c);
  std::vector<health_event> seen;
  double bearing_before = -1, bearing_after = -1;
  for (int i = 0; i < 8 * 360 && seen.size() < 2; ++i) {
    const double bearing = d.m.truth().health[0];
    d.step();
    for (const auto& e : d.events) {
      seen.push_back(e);
      if (e.what == health_event::kind::maintenance_end) {
        bearing_before = bearing;
        bearing_after = d.m.truth().health[0];
      }
    }
  }
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& e : seen) {
    EXPECT_FALSE(e.all_components);
    EXPECT_EQ(e.which, component::inlet_valve);
    EXPECT_LT(e.health_before, 0.5);
    EXPECT_DOUBLE_EQ(e.health_after, 1.0);
  }
  // The bearing (the first component of a compressor) was not serviced: it keeps its wear.
  ASSERT_EQ(d.m.truth().components[0], component::bearing);
  EXPECT_LT(bearing_after, 0.6);
  EXPECT_NEAR(bearing_after, bearing_before, 0.01);
}

TEST(wear, maintenance_by_run_hours_counts_only_running_time) {
  machine_config c = short_lived(machine_type::motor, 1);
  plan(c).run_to_failure = false;
  plan(c).pm_every_run_h = 10;
  wear_driver half(c, 1.0);
  half.cal.shifts = {{"day", 6 * 60, 18 * 60, 1.0}};  // runs 12 h a day
  half.cal.off_shift_load = 0;
  half.cal.weekend_load = 0;
  sim_time first{};
  for (int i = 0; i < 360 * 30 && first == sim_time{}; ++i) {
    half.step();
    for (const auto& e : half.events)
      if (e.what == health_event::kind::maintenance_start) first = e.at;
  }
  ASSERT_NE(first, sim_time{});
  EXPECT_GE(half.m.run_hours(), 10.0);
  EXPECT_LT(half.m.run_hours(), 10.1);
  EXPECT_GT(first, at(2025, 3, 3, 15));  // 10 run hours after 06:00, not 10 h after midnight
}

TEST(wear, a_failure_is_repaired_after_response_and_repair_time) {
  machine_config c = short_lived(machine_type::pump, 0.0005);
  plan(c).run_to_failure = false;
  plan(c).repair_response_h = 1;
  plan(c).repair_duration_h = 2;
  wear_driver d(c);
  std::vector<health_event> seen;
  for (int i = 0; i < 400000 && seen.size() < 3; ++i) {
    d.step();
    for (const auto& e : d.events) seen.push_back(e);
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].what, health_event::kind::failure);
  EXPECT_EQ(seen[1].what, health_event::kind::maintenance_start);
  EXPECT_EQ(seen[1].type, health_event::maintenance::corrective);
  EXPECT_EQ(seen[1].which, seen[0].which);
  EXPECT_EQ(seen[1].at, seen[0].at + 1h);
  EXPECT_EQ(seen[1].health_before, 0);
  EXPECT_EQ(seen[1].health_after, 1);
  EXPECT_EQ(seen[2].what, health_event::kind::maintenance_end);
  EXPECT_EQ(seen[2].at, seen[1].at + 2h);
  // Back in service with a new part, running again after the ramp.
  const health_truth h = d.m.truth();
  EXPECT_FALSE(h.failed);
  bool running = false;
  for (int i = 0; i < 100; ++i) running = running || d.step().is_running;
  EXPECT_TRUE(running);
  for (std::size_t k = 0; k < h.count; ++k) {
    if (h.components[k] == seen[0].which) {
      EXPECT_GT(h.health[k], 0.99);
    }
  }
}

TEST(wear, signals_follow_health) {
  // Same seed and duty; one unit new, the other worn.
  struct probe {
    double vibration = 0, power = 0, temp = 0;
  };
  auto run = [](machine_type t, double wear) {
    machine_config c = config_of(t);
    plan(c).initial_wear.fill(static_cast<float>(wear));
    plan(c).life_scale = 100;  // no wear within the test
    wear_driver d(c, 0.8);
    probe p;
    for (int i = 0; i < 400; ++i) {
      const reading r = d.step();
      if (i < 200) continue;
      p.vibration += r.environmental.vibration_mm_s;
      p.power += r.energy.power_kw;
      p.temp += r.environmental.machine_temp_c;
    }
    return p;
  };
  for (auto t : {machine_type::compressor, machine_type::motor, machine_type::pump,
                 machine_type::hvac}) {
    const probe fresh = run(t, 0);
    const probe worn = run(t, 0.8);
    EXPECT_GT(worn.vibration, fresh.vibration * 1.5) << to_string(t);
    EXPECT_GT(worn.power, fresh.power) << to_string(t);
    EXPECT_GT(worn.temp, fresh.temp) << to_string(t);
  }
  const probe fresh = run(machine_type::injection_molding, 0);
  const probe worn = run(machine_type::injection_molding, 0.8);
  EXPECT_LT(worn.temp, fresh.temp);  // weak heater bands: a colder barrel
}

TEST(wear, physics_stays_exact_while_worn) {
  for (auto t : testing::all_types) {
    machine_config c = short_lived(t, 0.002);
    plan(c).initial_wear.fill(0.7f);
    wear_driver d(c);
    double energy = 0;
    for (int i = 0; i < 3000; ++i) {
      const reading r = d.step();
      const auto& e = r.energy;
      energy += e.energy_kwh;
      EXPECT_NEAR(e.energy_kwh, e.power_kw * d.dt_s / 3600.0, 1e-12);
      if (e.power_kw > 0) {
        const double p = std::sqrt(3.0) * e.voltage_v * e.current_a * e.power_factor / 1000.0;
        EXPECT_NEAR(p, e.power_kw, std::sqrt(3.0) * e.voltage_v * 0.005 * e.power_factor / 1000.0 + 1e-9)
            << to_string(t);
      }
    }
    EXPECT_NEAR(d.m.energy_total_kwh(), energy, 1e-9);
  }
}

TEST(wear, the_same_seed_gives_the_same_history) {
  auto run = [](std::uint64_t seed) {
    wear_driver d(short_lived(machine_type::compressor, 0.0005), 1.0, seed);
    std::vector<double> out;
    for (int i = 0; i < 20000; ++i) {
      const reading r = d.step();
      out.push_back(r.energy.power_kw);
      out.push_back(d.m.truth().rul_calendar_h);
      for (const auto& e : d.events) out.push_back(static_cast<double>(e.at.time_since_epoch().count()));
    }
    return out;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace factorysim::machines
