#pragma once
/// Reversible chiller / heat pump with air handling fans, holding a hall between a heating
/// and a cooling set point. The hall is one thermal mass: envelope UA x (outdoor - indoor),
/// internal gains growing with occupancy (the production load) and solar gains by day.
/// Cooling COP falls as the outdoor temperature (the condenser's lift) rises.

#include "machines/model_input.hpp"
#include "machines/params.hpp"

namespace factorysim::machines {

/// Physical state of an HVAC unit and its hall between steps.
struct hvac_state {
  double indoor_temp_c = 22;
  /// Offset of the chiller's staging saw-tooth, 0..1 of its period, drawn on the first step
  /// so that the units of a site do not stage in step (-1 = not drawn yet).
  double staging_phase = -1;
};

/// Cooling COP at an outdoor temperature, before faults: nominal at the rating point,
/// inversely proportional to the temperature lift, within [1, 9].
double cooling_cop(const hvac_params& p, double outdoor_temp_c) noexcept;

/// Advances the HVAC unit by in.dt_s; fills out.production and out.environmental.
model_result step(const hvac_params& p, hvac_state& s, const model_input& in, rng& r,
                  reading& out) noexcept;

}  // namespace factorysim::machines
