#pragma once
/// Screw compressor on a receiver with load/unload control: loaded, it delivers its free air
/// and the pressure rises to pressure_max_bar; unloaded, the motor idles at a fraction of its
/// power while the plant's air demand pulls the pressure down to pressure_min_bar. Running
/// unloaded for stop_after_unloaded_s stops the motor until the pressure falls again.

#include "machines/model_input.hpp"
#include "machines/params.hpp"

namespace factorysim::machines {

/// Physical state of a compressor between steps.
struct compressor_state {
  double pressure_bar = 7.0;
  double machine_temp_c = 60;
  double unloaded_for_s = 0;
  double air_remainder_m3 = 0;  ///< fraction of a cubic metre not yet counted
  double demand_wander = 0;     ///< the air net's demand around its mean, standard normal
  bool loaded = false;
  bool motor_on = true;
};

/// Advances the compressor by in.dt_s; fills out.production and out.environmental.
model_result step(const compressor_params& p, compressor_state& s, const model_input& in, rng& r,
                  reading& out) noexcept;

}  // namespace factorysim::machines
