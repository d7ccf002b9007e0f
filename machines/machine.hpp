#pragma once
/// One simulated machine: its config, its physical state, its random stream and its faults.

#include <array>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "machines/compressor_model.hpp"
#include "machines/hvac_model.hpp"
#include "machines/injection_molding_model.hpp"
#include "machines/motor_model.hpp"
#include "machines/params.hpp"
#include "machines/pump_model.hpp"
#include "machines/rng.hpp"
#include "machines/types.hpp"
#include "machines/wear.hpp"

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
  /// Same, appending the failures and maintenance starts/ends of this step to `events`.
  reading step(const step_input& in, std::vector<health_event>& events);
  /// Health, RUL and failure state after the last step (T/truth).
  health_truth truth() const noexcept { return wear_.truth(); }
  /// Hours this machine has been running (doing its job) since the simulation began.
  double run_hours() const noexcept { return wear_.run_hours(); }

  /// Stopped machines draw no power, produce nothing and report operating_mode offline;
  /// starting again goes through the start-up ramp.
  void set_enabled(bool enabled) noexcept;
  bool enabled() const noexcept;

  const machine_config& config() const noexcept { return config_; }
  /// Changes the step interval (control API); the next step covers the new interval.
  void set_interval(std::chrono::milliseconds interval) noexcept { config_.interval = interval; }
  double energy_total_kwh() const noexcept;

 private:
  /// Reported value of a generic (sensor) fault at its start: stuck sensors hold it, drift
  /// grows from it.
  struct sensor_memory {
    std::uint64_t fault_id = 0;  ///< 0 = free slot
    double value = 0;
  };
  using model_state =
      std::variant<compressor_state, hvac_state, motor_state, pump_state, injection_molding_state>;

  fault_effects effects_of(const step_input& in, bool& severe) const noexcept;
  void apply_sensor_faults(const step_input& in, reading& out, bool power_only);
  double remember(std::uint64_t fault_id, double value) noexcept;
  void add_wear_effects(fault_effects& fx, std::uint64_t time_ms) const noexcept;

  machine_config config_;
  model_state state_;
  rng rng_;
  wear_state wear_;
  std::uint64_t noise_seed_;  ///< hashed fault noise, independent of rng_
  double load_ = 0;           ///< production load after the start-up/shut-down lag
  double energy_total_kwh_ = 0;
  bool enabled_ = true;
  bool started_ = false;
  bool was_running_ = false;      ///< last step's is_running, for the start counter
  std::uint32_t start_count_ = 0;  ///< in the padding before memory_: no size cost
  std::array<sensor_memory, 4> memory_{};
};

}  // namespace factorysim::machines
