#pragma once
/// Hydraulic injection molding machine: shots of clamp, inject, hold, cool (with screw
/// recovery) and eject, each drawing its own drive power, and three barrel heater zones
/// held at their set point by proportional heater control against losses and the heat the
/// plastic takes away. A barrel colder than its set point makes bad parts; a barrel far
/// below it (cold start, failed heater) stops the shots.

#include <array>

#include "machines/duty_cycle.hpp"
#include "machines/model_input.hpp"
#include "machines/params.hpp"

namespace factorysim::machines {

/// Physical state of a molding machine between steps.
struct injection_molding_state {
  std::array<double, 3> zone_temp_c{230, 230, 230};
  double phase_s = 0;  ///< position in the current shot + wait
  /// Where in its limit cycle the heater controllers start, drawn on the first step so
  /// that the molding machines of a hall do not hunt in step (-1 = not drawn yet).
  double hunting_phase = -1;
};

/// Load below which the machine stops shooting and its barrel falls to standby.
inline constexpr double molding_stop_load = 0.1;
/// Shots stop when the coldest zone is this far below the set point.
inline constexpr double molding_cold_interlock_k = 60;

/// Advances the machine by in.dt_s; fills out.production and out.environmental.
model_result step(const injection_molding_params& p, injection_molding_state& s,
                  const model_input& in, rng& r, reading& out) noexcept;

}  // namespace factorysim::machines
