#pragma once
/// One simulated machine: its config, its physical state, its random stream and its faults.

#include <cstdint>
#include <span>
#include <vector>

#include "machines/params.hpp"
#include "machines/rng.hpp"
#include "machines/types.hpp"

namespace factorysim::machines {

/// A machine of any of the five types. Deterministic: the same config, root seed and
/// sequence of step inputs give the same readings, bit for bit.
class machine {
 public:
  /// The machine's random stream is derived from (root_seed, config.id).
  machine(machine_config config, std::uint64_t root_seed);

  /// Advances the physics by in.dt_s to in.time and returns what the meters read.
  /// in.faults must be the faults active at in.time (see fault_book).
  reading step(const step_input& in);

  /// Stopped machines draw no power, produce nothing and report operating_mode offline;
  /// starting again goes through the start-up ramp.
  void set_enabled(bool enabled) noexcept;
  bool enabled() const noexcept;

  const machine_config& config() const noexcept { return config_; }
  double energy_total_kwh() const noexcept;

 private:
  // implementation detail of machine.cpp
};

}  // namespace factorysim::machines
