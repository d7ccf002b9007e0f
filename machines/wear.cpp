// Component wear, failure and maintenance of one machine (see wear.hpp).
#include "machines/wear.hpp"

#include <algorithm>
#include <cmath>


namespace factorysim::machines {
namespace {

constexpr std::array<std::string_view, component_kinds> component_names{
    "bearing", "air_end", "inlet_valve", "impeller", "coil", "refrigerant", "heater_band",
    "check_ring"};

// Mean lives at full load, from service intervals and design lives (docs/machines.md cites
// them): rolling bearings L10 ~ 20-40 kh in industrial drives, screw element overhaul ~ 40 kh,
// inlet valve kits 16 kh, pump impellers ~ 20 kh, coil cleaning ~ yearly, refrigerant leaks
// of a few % of charge per year (EN 378 / F-gas leak checks), heater bands 20 kh, check rings
// ~ 10 kh of shots.
constexpr component_law laws[component_kinds] = {
    {30000, 0.5, 3, 0.0},   // bearing: load = belt/rotor weight + process load
    {40000, 0.4, 1, 0.0},   // air_end
    {16000, 0.5, 1, 0.0},   // inlet_valve: cycles wear it loaded or not
    {20000, 0.3, 2, 0.0},   // impeller: erosion ~ flow velocity squared
    {8760, 0.5, 1, 0.3},    // coil: fouls with air flow and with time
    {35000, 1.0, 1, 1.0},   // refrigerant: leaks whatever the unit does
    {20000, 0.4, 1, 0.0},   // heater_band
    {10000, 0.2, 1, 0.0},   // check_ring: wears with every shot
};

constexpr component compressor_parts[] = {component::bearing, component::air_end,
                                          component::inlet_valve};
constexpr component hvac_parts[] = {component::bearing, component::coil, component::refrigerant};
constexpr component motor_parts[] = {component::bearing};
constexpr component pump_parts[] = {component::bearing, component::impeller};
constexpr component molding_parts[] = {component::heater_band, component::check_ring};

/// Average of the calendar wear factor over about three days: long enough to span the weekly
/// rhythm of shifts only roughly, short enough to follow a new duty.
constexpr double calendar_tau_s = 3 * 86400.0;

sim_time plus_hours(sim_time t, double h) {
  return t + milliseconds(static_cast<std::int64_t>(std::llround(h * 3.6e6)));
}

double stress_factor(const component_law& law, double stress) noexcept {
  double s = 1;
  for (int k = 0; k < law.stress_exponent; ++k) s *= stress;
  return law.calendar_share + (1 - law.calendar_share) * s;
}

}  // namespace

std::string_view to_string(component c) noexcept {
  const auto i = static_cast<std::size_t>(c);
  return i < component_kinds ? component_names[i] : std::string_view{"unknown"};
}

std::optional<component> parse_component(std::string_view s) noexcept {
  for (std::size_t i = 0; i < component_kinds; ++i)
    if (component_names[i] == s) return static_cast<component>(i);
  return std::nullopt;
}

std::span<const component> components_of(machine_type t) noexcept {
  switch (t) {
    case machine_type::compressor:
      return compressor_parts;
    case machine_type::hvac:
      return hvac_parts;
    case machine_type::motor:
      return motor_parts;
    case machine_type::pump:
      return pump_parts;
    case machine_type::injection_molding:
      return molding_parts;
  }
  return {};
}

const component_law& law_of(component c) noexcept {
  return laws[std::min(static_cast<std::size_t>(c), component_kinds - 1)];
}

wear_state::wear_state(machine_type t, const wear_config& config, std::uint64_t seed)
    : seed_(seed) {
  rng r(seed);
  const double ln_span = std::log((1 + wear_d0) / wear_d0);
  for (component c : components_of(t)) {
    // One draw per component, in a fixed order: the scatter of a unit is fixed by its seed.
    const double multiplier = std::exp(config.unit_variation * r.normal() -
                                       0.5 * config.unit_variation * config.unit_variation);
    part& p = parts_[count_++];
    p.kind = c;
    p.damage = std::clamp(static_cast<double>(config.initial_wear[static_cast<std::size_t>(c)]),
                          0.0, 0.99);
    const double life_h = std::max(law_of(c).mean_life_h * config.life_scale * multiplier, 1e-3);
    p.rate_per_h = static_cast<float>(ln_span / life_h);
    // Until the machine has a history: half of full duty.
    p.calendar_rate =
        static_cast<float>(law_of(c).calendar_share + (1 - law_of(c).calendar_share) * 0.5);
  }
}

std::uint64_t wear_state::work_order(std::uint32_t n) const noexcept {
  // splitmix64 of (seed, counter): stable per machine and run, distinct per order.
  std::uint64_t z = seed_ + 0x9E3779B97F4A7C15ULL * n;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void wear_state::restore_preview(const wear_config& config, double& before,
                                 double& after) const noexcept {
  if (!pm_in_progress_) {
    before = health_of(failed_);
    after = 1.0 - damage(failed_) * (1.0 - config.repair_restore);
    return;
  }
  before = 1;
  after = 1;
  for (std::size_t i = 0; i < count_; ++i) {
    if (!config.pm_components[static_cast<std::size_t>(parts_[i].kind)]) continue;
    before = std::min(before, 1.0 - parts_[i].damage);
    after = std::min(after, 1.0 - parts_[i].damage * (1.0 - config.pm_restore));
  }
}

double wear_state::damage(component c) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (parts_[i].kind == c) return parts_[i].damage;
  return 0;
}

double wear_state::health_of(component c) const noexcept {
  return 1.0 - damage(c);
}

downtime wear_state::begin_step(sim_time now, double dt_s, const wear_config& config,
                                std::vector<health_event>& events) {
  // Integer rounding, not std::llround: this runs every step and llround is a libm call.
  const sim_time start = now - milliseconds(static_cast<std::int64_t>(dt_s * 1000 + 0.5));
  if (started_ && down_ == downtime::none &&
      (config.run_to_failure || (config.pm_every_h <= 0 && config.pm_every_run_h <= 0)))
    return down_;  // the common case: nothing planned
  if (!started_) {
    started_ = true;
    if (config.pm_every_h > 0) next_pm_at_ = plus_hours(start, config.pm_every_h);
    next_pm_run_h_ = config.pm_every_run_h;
  }
  auto event = [&](health_event::kind what, sim_time at) {
    health_event e;
    e.what = what;
    e.at = at;
    e.type = pm_in_progress_ ? health_event::maintenance::preventive
                             : health_event::maintenance::corrective;
    e.all_components = pm_in_progress_;
    e.which = failed_;
    if (pm_in_progress_) {
      // A plan that services one of the machine's components names it (a coil cleaning
      // says coil); "all" stays for a plan of several, the lowest of their healths.
      std::size_t listed = 0;
      for (std::size_t i = 0; i < count_; ++i) {
        if (!config.pm_components[static_cast<std::size_t>(parts_[i].kind)]) continue;
        ++listed;
        e.which = parts_[i].kind;
      }
      e.all_components = listed != 1;
    }
    e.duration_h = pm_in_progress_ ? config.pm_duration_h : config.repair_duration_h;
    e.work_order = work_order(work_orders_);
    restore_preview(config, e.health_before, e.health_after);
    events.push_back(e);
  };
  if (down_ == downtime::failed && repair_pending_ && start >= until_) {
    repair_pending_ = false;
    pm_in_progress_ = false;
    down_ = downtime::maintenance;
    ++work_orders_;
    event(health_event::kind::maintenance_start, until_);
    until_ = plus_hours(until_, config.repair_duration_h);
  }
  if (down_ == downtime::maintenance && start >= until_) {
    // Nothing wears while the machine is down: the health before is still the one at start.
    event(health_event::kind::maintenance_end, until_);
    for (std::size_t i = 0; i < count_; ++i) {
      const bool restored = pm_in_progress_
                                ? config.pm_components[static_cast<std::size_t>(parts_[i].kind)]
                                : parts_[i].kind == failed_;
      if (restored)
        parts_[i].damage *= 1.0 - (pm_in_progress_ ? config.pm_restore : config.repair_restore);
    }
    pm_in_progress_ = false;
    down_ = downtime::none;
  }
  if (down_ == downtime::none && !config.run_to_failure) {
    const bool calendar_due = config.pm_every_h > 0 && start >= next_pm_at_;
    const bool hours_due = config.pm_every_run_h > 0 && run_h_ >= next_pm_run_h_;
    if (calendar_due || hours_due) {
      while (config.pm_every_h > 0 && next_pm_at_ <= start)
        next_pm_at_ = plus_hours(next_pm_at_, config.pm_every_h);
      if (config.pm_every_run_h > 0) next_pm_run_h_ = run_h_ + config.pm_every_run_h;
      pm_in_progress_ = true;
      down_ = downtime::maintenance;
      ++work_orders_;
      event(health_event::kind::maintenance_start, start);
      until_ = plus_hours(start, config.pm_duration_h);
    }
  }
  return down_;
}

bool wear_state::end_step(sim_time now, double dt_s, double load, bool running, bool powered,
                          const wear_config& config, std::vector<health_event>& events) {
  if (down_ != downtime::none) return false;  // a stopped machine neither wears nor ages here
  const double dt_h = dt_s / 3600.0;
  if (running) run_h_ += dt_h;
  const double l = std::clamp(load, 0.0, 1.0);
  int failed_index = -1;
  const double average = dt_s / (calendar_tau_s + dt_s);  // lag() with one division per step
  for (std::size_t i = 0; i < count_; ++i) {
    part& p = parts_[i];
    const component_law& law = law_of(p.kind);
    const double stress = running   ? law.stress_floor + (1 - law.stress_floor) * l
                          : powered ? law.stress_floor
                                    : 0.0;
    const double factor = stress_factor(law, stress);
    p.damage = std::min(1.0, p.damage + p.rate_per_h * factor * (p.damage + wear_d0) * dt_h);
    p.calendar_rate = static_cast<float>(p.calendar_rate + (factor - p.calendar_rate) * average);
    if (p.damage >= 1.0 && failed_index < 0) failed_index = static_cast<int>(i);
  }
  if (failed_index < 0) return false;
  failed_ = parts_[static_cast<std::size_t>(failed_index)].kind;
  down_ = downtime::failed;
  repair_pending_ = !config.run_to_failure;
  until_ = plus_hours(now, config.repair_response_h);
  health_event e;
  e.what = health_event::kind::failure;
  e.at = now;
  e.which = failed_;
  e.health_before = 0;
  e.health_after = 0;
  events.push_back(e);
  return true;
}

health_truth wear_state::truth() const noexcept {
  health_truth t;
  t.count = count_;
  t.failed = down_ == downtime::failed || (down_ == downtime::maintenance && !pm_in_progress_);
  const double ln_top = std::log(1 + wear_d0);
  double best_op = 1e300, best_cal = 1e300;
  for (std::size_t i = 0; i < count_; ++i) {
    const part& p = parts_[i];
    t.components[i] = p.kind;
    t.health[i] = 1.0 - p.damage;
    t.health_index = std::min(t.health_index, t.health[i]);
    const double span = p.damage >= 1.0 ? 0.0 : ln_top - std::log(p.damage + wear_d0);
    const double op_h = span / double{p.rate_per_h};
    // A machine switched off for weeks would make this infinite: floor its duty at 0.1 %.
    const double cal_h =
        span / (double{p.rate_per_h} * std::max(double{p.calendar_rate}, 1e-3));
    best_op = std::min(best_op, op_h);
    if (cal_h < best_cal) {
      best_cal = cal_h;
      t.limiting = p.kind;  // the one expected to fail first
    }
  }
  if (count_ == 0) return t;
  t.rul_operating_h = best_op;
  t.rul_calendar_h = best_cal;
  if (t.failed) {
    t.limiting = failed_;
    t.rul_operating_h = 0;
    t.rul_calendar_h = 0;
  }
  return t;
}

}  // namespace factorysim::machines
