#pragma once
/// The faults of one machine: scheduled (from the scenario), random (seeded rate per day) and
/// injected (control API). Turns them on and off as simulated time passes and reports every
/// start and end as a fault_event; the caller publishes them.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "machines/rng.hpp"
#include "machines/types.hpp"

namespace factorysim::machines {

/// Faults that occur at random: on average per_day times a simulated day.
struct random_fault_rate {
  fault_type type = fault_type::spike;
  double per_day = 0;
  double severity_min = 0.3;
  double severity_max = 0.8;
  std::chrono::milliseconds duration_min{std::chrono::minutes(5)};
  std::chrono::milliseconds duration_max{std::chrono::minutes(60)};
  std::string signal;  ///< generic faults only
};

class fault_book {
 public:
  /// seed: derive_seed(root, machine_id + "/faults"), independent of the signal stream so that
  /// adding a fault never changes the readings before it starts.
  fault_book(machine_type type, std::uint64_t seed);

  /// Adds a fault (its id is assigned if 0); returns the id. It becomes active when
  /// advance() reaches its start.
  std::uint64_t add(fault f);
  void add_random(random_fault_rate rate);

  /// Ends fault `id` at `now` (its end event is emitted by the next advance). False if unknown
  /// or already over.
  bool clear(std::uint64_t id, sim_time now);
  /// Ends every active or pending fault; returns how many.
  std::size_t clear_all(sim_time now);

  /// Starts and ends faults up to `now` (the end of a step of dt_s) and appends the events.
  void advance(sim_time now, double dt_s, std::vector<fault_event>& events);

  /// Faults active at the last advance(), in start order.
  std::span<const fault> active() const noexcept { return active_; }
  /// Faults not yet started.
  std::span<const fault> pending() const noexcept { return pending_; }

 private:
  machine_type type_;
  rng rng_;
  std::uint64_t next_id_ = 1;
  std::vector<fault> pending_;
  std::vector<fault> active_;
  std::vector<random_fault_rate> rates_;
};

}  // namespace factorysim::machines
