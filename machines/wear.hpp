#pragma once
/// Degradation of wearing components, failure and maintenance: the persistent health of each
/// component of one machine, its remaining useful life (RUL), and the maintenance plan that
/// restores it. Pure: simulated time and load come in, events go out as values.
///
/// Model (docs/machines.md, "Degradation"): damage d of a component grows from 0 (new) to 1
/// (failure) exponentially, dd/dt = r * m(stress) * (d + d0), the P-F curve of reliability
/// engineering: slow for most of the life, accelerating after the potential-failure point.
/// r = ln((1 + d0) / d0) / (mean life * unit multiplier), so that a component at reference
/// stress fails after its life; the unit multiplier (lognormal, seeded per machine and
/// component) is the unit-to-unit scatter. health = 1 - d.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "machines/rng.hpp"
#include "machines/types.hpp"

namespace factorysim::machines {

/// Wearing components; which ones a machine has depends on its type (components_of).
enum class component : std::uint8_t {
  bearing,      ///< rolling bearings of the drive (every rotating machine)
  air_end,      ///< compressor screw element: wear lowers delivery (specific energy rises)
  inlet_valve,  ///< compressor inlet (unloader) valve: leaks when unloaded
  impeller,     ///< pump: wear lowers flow and efficiency, then cavitation sets in
  coil,         ///< hvac condenser/evaporator coil fouling
  refrigerant,  ///< hvac refrigerant charge (leaks with calendar time)
  heater_band,  ///< molding barrel heater bands
  check_ring,   ///< molding screw check ring: melt leaks back
};
inline constexpr std::size_t component_kinds = 8;
inline constexpr std::size_t max_components = 3;

std::string_view to_string(component c) noexcept;
std::optional<component> parse_component(std::string_view s) noexcept;

/// The wearing components of machine type t, in a fixed order (at most max_components).
std::span<const component> components_of(machine_type t) noexcept;

/// Damage offset d0 of the exponential law: the ratio of the last to the first part of life.
inline constexpr double wear_d0 = 0.02;

/// Nominal behaviour of one component kind (defaults documented in docs/machines.md).
struct component_law {
  double mean_life_h;     ///< operating hours to failure at reference stress (full load)
  double stress_floor;    ///< stress at zero production load (0..1); 1 at full load
  int stress_exponent;    ///< wear rate ~ stress^k (bearings: 3, ISO 281 L10 = (C/P)^3)
  double calendar_share;  ///< part of the rate that runs with calendar time, running or not
};
const component_law& law_of(component c) noexcept;

/// Scenario data of a machine's wear and maintenance (machine_config::wear).
struct wear_config {
  /// Initial damage 0..0.99 per component kind (index = component), default 0 (new).
  std::array<float, component_kinds> initial_wear{};
  double life_scale = 1;        ///< multiplies every mean life (compress a history)
  double unit_variation = 0.3;  ///< sigma of the lognormal life multiplier
  bool run_to_failure = false;  ///< no preventive maintenance, no repair: down for good
  // Preventive maintenance: every `pm_every_h` calendar hours and/or `pm_every_run_h` run hours
  // (0 = off), taking pm_duration_h, removing pm_restore of the damage of pm_components.
  double pm_every_h = 0;
  double pm_every_run_h = 0;
  double pm_duration_h = 4;
  double pm_restore = 1;
  std::array<bool, component_kinds> pm_components{true, true, true, true,
                                                  true, true, true, true};
  // Corrective maintenance after a failure: technician arrives after response, repair takes
  // duration, the failed component gets repair_restore of its damage removed (1 = new part).
  double repair_response_h = 2;
  double repair_duration_h = 8;
  double repair_restore = 1;
};

/// The plan of a machine whose scenario says nothing: a new machine, repaired on failure.
inline constexpr wear_config default_wear_config{};

/// One failure or maintenance event (published on T/events by the caller).
struct health_event {
  enum class kind : std::uint8_t { failure, maintenance_start, maintenance_end };
  enum class maintenance : std::uint8_t { preventive, corrective };
  kind what = kind::failure;
  sim_time at{};
  bool all_components = false;  ///< preventive maintenance of every component
  component which = component::bearing;
  maintenance type = maintenance::preventive;
  double health_before = 0;
  double health_after = 0;
  double duration_h = 0;
  std::uint64_t work_order = 0;  ///< stable number, derived from the machine's seed
};

/// Ground truth of one machine after a step (T/truth).
struct health_truth {
  double health_index = 1;  ///< min over components
  component limiting = component::bearing;  ///< smallest calendar RUL: fails first
  /// Min over components of the operating hours at reference (full-load) stress to failure:
  /// never rises between maintenance events.
  double rul_operating_h = 0;
  double rul_calendar_h = 0;  ///< min over components, at their recent average wear rates
  bool failed = false;         ///< tripped, waiting for or under repair
  std::size_t count = 0;
  std::array<component, max_components> components{};
  std::array<double, max_components> health{};
};

/// Why the machine is not producing, as the wear state sees it.
enum class downtime : std::uint8_t { none, failed, maintenance };

/// Health of every wearing component of one machine plus its maintenance plan.
class wear_state {
 public:
  wear_state() = default;
  /// seed: derive_seed(root, machine_id + "/wear"), independent of the signal stream.
  wear_state(machine_type t, const wear_config& config, std::uint64_t seed);

  /// At the start of the step ending at `now` (interval dt_s): starts and ends maintenance
  /// that is due, appending events. Returns whether the machine is down for this interval.
  downtime begin_step(sim_time now, double dt_s, const wear_config& config,
                      std::vector<health_event>& events);
  /// After the step: wears every component by this interval's stress (running: production
  /// load 0..1; powered: idle but on); trips on a component reaching health 0 (event at
  /// `now`). Returns true when the machine failed in this step.
  bool end_step(sim_time now, double dt_s, double load, bool running, bool powered,
                const wear_config& config, std::vector<health_event>& events);

  /// Damage 0..1 of component c, 0 if this machine has none.
  double damage(component c) const noexcept;
  downtime down() const noexcept { return down_; }
  double run_hours() const noexcept { return run_h_; }
  /// Health, RUL and failure state now.
  health_truth truth() const noexcept;

 private:
  // Kept small: 10,000 machines must fit in 2 KiB each (bench/memory_bench).
  struct part {
    double damage = 0;         ///< double: a 1 s step adds ~1e-8
    float rate_per_h = 0;      ///< r at reference stress
    float calendar_rate = 0;   ///< recent average of the wear factor m
    component kind = component::bearing;
  };
  std::uint64_t work_order(std::uint32_t n) const noexcept;
  double health_of(component c) const noexcept;
  /// Health before and after the maintenance in progress (or about to start).
  void restore_preview(const wear_config& config, double& before, double& after) const noexcept;

  std::array<part, max_components> parts_{};
  std::uint8_t count_ = 0;
  downtime down_ = downtime::none;
  bool started_ = false;
  bool repair_pending_ = false;  ///< failed, technician not yet there
  bool pm_in_progress_ = false;
  component failed_ = component::bearing;
  std::uint32_t work_orders_ = 0;  ///< issued so far; the last is the one in progress
  std::uint64_t seed_ = 0;
  double run_h_ = 0;
  double next_pm_run_h_ = 0;
  sim_time next_pm_at_{};
  sim_time until_{};  ///< failed: the repair starts; maintenance: it ends
};

}  // namespace factorysim::machines
