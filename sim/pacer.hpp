#pragma once
/// Maps simulated time to wall (steady clock) time for the three time modes. Realtime: speed 1
/// from the wall clock; accelerated: `speed` times faster from the start instant; backfill: no
/// pacing at all. Pure: the caller passes "now", so tests drive it without sleeping.

#include <chrono>

#include "machines/types.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::sim {

/// The fastest accelerated run (the scenario's `time.speed`, `--speed`, `PUT /speed` share it):
/// a simulated year in 32 wall seconds, and far from where time arithmetic overflows.
inline constexpr double max_speed = 1e6;

class pacer {
 public:
  using wall_clock = std::chrono::steady_clock;
  using wall_time = wall_clock::time_point;

  /// The simulated clock reads `sim_start` at wall instant `wall_start`. Conversions saturate
  /// (never wrap) whatever the speed, so the simulated clock cannot jump (issue 12).
  pacer(scenarios::time_mode mode, double speed, machines::sim_time sim_start,
        wall_time wall_start) noexcept;

  scenarios::time_mode mode() const noexcept { return mode_; }
  double speed() const noexcept { return speed_; }
  bool paused() const noexcept { return paused_; }

  /// Simulated time at wall instant `now` (frozen while paused). Backfill: the start instant.
  machines::sim_time sim_at(wall_time now) const noexcept;
  /// The earliest wall instant at which the simulated clock has reached `t` (rounded up, so a
  /// step never happens before its deadline). Backfill: wall_time::min() (always due).
  wall_time wall_at(machines::sim_time t) const noexcept;

  /// Changes speed at `now` without a jump: the simulated clock continues from where it is.
  void set_speed(double speed, wall_time now) noexcept;
  /// Freezes the simulated clock at `now`.
  void pause(wall_time now) noexcept;
  /// Accelerated: continues from the frozen instant. Realtime: jumps to `wall_now_sim` (the
  /// wall clock's UTC time), because realtime timestamps are the wall clock.
  void resume(wall_time now, machines::sim_time wall_now_sim) noexcept;

 private:
  scenarios::time_mode mode_;
  double speed_;
  machines::sim_time sim_anchor_;
  wall_time wall_anchor_;
  bool paused_ = false;
  machines::sim_time paused_at_{};
};

}  // namespace factorysim::sim
