#pragma once
/// Conveyor belt on an induction motor with a VFD: the speed follows the line's throughput
/// between min and max speed (stopped when the line stops); power grows with speed, with
/// the load on the belt and a little with speed cubed (air and bearing losses).

#include "machines/model_input.hpp"
#include "machines/params.hpp"

namespace factorysim::machines {

/// Physical state of a conveyor between steps.
struct motor_state {
  double winding_temp_c = 40;
  double units_remainder = 0;  ///< fraction of a unit not yet counted
};

/// Line load below which the conveyor stops.
inline constexpr double conveyor_stop_load = 0.08;

/// Advances the conveyor by in.dt_s; fills out.production and out.environmental.
model_result step(const motor_params& p, motor_state& s, const model_input& in, rng& r,
                  reading& out) noexcept;

}  // namespace factorysim::machines
