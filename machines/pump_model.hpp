#pragma once
/// Hydraulic power pack of a press. Each stroke: fast approach (high flow, low pressure),
/// press (full pressure), hold, return, decompress; then the pump waits at standby pressure
/// until the next stroke, the wait set by the production load. Electrical power is the
/// hydraulic power p x Q over the efficiency plus the running losses.

#include <array>

#include "machines/duty_cycle.hpp"
#include "machines/model_input.hpp"
#include "machines/params.hpp"

namespace factorysim::machines {

/// Physical state of a press pump between steps.
struct pump_state {
  double phase_s = 0;  ///< position in the current stroke + wait
  double oil_temp_c = 45;
};

/// Load below which the press stops stroking.
inline constexpr double press_stop_load = 0.08;

/// Pressure and flow of one stroke phase (index -1 = waiting), before faults.
struct pump_operating_point {
  double pressure_bar = 0;
  double flow_m3h = 0;
};
pump_operating_point pump_point(const pump_params& p, int phase) noexcept;

/// Electrical power at an operating point: p[bar] x Q[m3/h] / 36 / efficiency + losses.
double pump_power_kw(const pump_params& p, double rated_power_kw,
                     const pump_operating_point& op) noexcept;

/// Advances the pump by in.dt_s; fills out.production and out.environmental.
model_result step(const pump_params& p, pump_state& s, const model_input& in, rng& r,
                  reading& out) noexcept;

}  // namespace factorysim::machines
