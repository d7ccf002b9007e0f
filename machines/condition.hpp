#pragma once
/// Condition-monitoring sensors every machine carries beside its process signals (issue 10):
/// a motor protection relay's per-phase currents, a bearing RTD, and a vibration transmitter
/// that reports the features a predictive-maintenance system trends (overall RMS velocity
/// is the model's own vibration_mm_s; the rest is derived here). Pure: the caller passes the
/// damage, the readings and the noise.
///
/// Why the features differ, and what a detector should see (the P-F interval): a bearing's
/// first spalls show as impacts in the envelope band (bearing defect energy) and in the
/// kurtosis and crest factor of the acceleration, long before the RMS velocity moves; as the
/// damage spreads the impacts smear into broadband vibration, so kurtosis and crest factor
/// fall back while velocity, 2x and temperature rise. That is the textbook sequence (ISO
/// 13373-3, SKF's bearing damage stages), not a detector-friendly artefact.

#include <cstdint>

#include "machines/types.hpp"

namespace factorysim::machines {

/// What one step's condition features depend on.
struct condition_input {
  machine_type type = machine_type::compressor;
  double bearing_damage = 0;          ///< 0..1: the bearing component's damage or a bearing fault
  double vibration_mm_s = 0;          ///< overall RMS velocity the model computed (absent: none)
  double vibration_healthy_mm_s = 0;  ///< the same without the bearing's contribution
  double machine_temp_c = 20;         ///< the model's machine (oil, winding, barrel) temperature
  double hall_temp_c = 20;
  double current_a = 0;       ///< the meter's mean phase current
  double speed_fraction = 1;  ///< shaft speed / nominal (a VFD-driven conveyor)
  bool running = false;
  double unbalance_offset = 0;   ///< 0..1 per machine: its supply and winding asymmetry
  double phase_angle = 0;        ///< 0..1 per machine: which phase carries the excess
  std::uint64_t noise_seed = 0;  ///< hashed sensor noise, independent of the model's stream
  std::int64_t time_ms = 0;
};

/// Nominal shaft speed of a type's main drive in Hz (2-pole compressor and chiller, 4-pole
/// conveyor, pump and molding pump at 50 Hz).
double running_speed_hz(machine_type t) noexcept;

/// Rise-then-fall of impact features over bearing damage: 0 when new, 1 at damage 0.4
/// (spalls, sharp impacts), about 0.56 at 1 (damage spread, impacts smeared).
double impact_shape(double bearing_damage) noexcept;

/// Fills the condition-monitoring keys of `env` (bearing temperature, vibration features,
/// per-phase currents and their unbalance). run_hours and start_count are the machine's.
/// The per-phase currents go to `energy` (the meter's), their unbalance to `env`.
void fill_condition(const condition_input& in, energy_reading& energy,
                    environmental_reading& env) noexcept;

/// ISO 10816-3 evaluation zone ('A'..'D') of an RMS velocity for a group 2 machine
/// (15-300 kW) on a rigid foundation: A < 1.4, B < 2.8, C < 4.5 mm/s, D above.
char iso10816_zone(double vibration_mm_s) noexcept;

}  // namespace factorysim::machines
