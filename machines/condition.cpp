// Condition-monitoring features (see condition.hpp).
#include "machines/condition.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "machines/electrical.hpp"
#include "machines/rng.hpp"

namespace factorysim::machines {
namespace {

constexpr double g_mm_s2 = 9806.65;

/// A rounded wire value as the float the reading keeps (types.hpp: 7 significant digits).
float wire_float(double x) noexcept {
  return static_cast<float>(x);
}

/// Share of the machine's own temperature its bearings see, and their rise when running.
struct bearing_heat {
  double machine_share;
  double running_rise_k;
};

bearing_heat bearing_heat_of(machine_type t) noexcept {
  switch (t) {
    case machine_type::compressor:
      return {0.9, 4};  // oil-lubricated, at the oil's temperature
    case machine_type::hvac:
      return {0.3, 12};  // compressor motor beside the condenser
    case machine_type::motor:
      return {0.6, 6};  // the motor's own frame
    case machine_type::pump:
      return {0.7, 6};  // in the power pack's oil
    case machine_type::injection_molding:
      return {0.0, 18};  // the pump motor, not the barrel
  }
  return {0.5, 8};
}

}  // namespace

double running_speed_hz(machine_type t) noexcept {
  switch (t) {
    case machine_type::compressor:
    case machine_type::hvac:
      return 49.5;  // 2-pole, 2970 rpm
    case machine_type::motor:
    case machine_type::pump:
    case machine_type::injection_molding:
      return 24.7;  // 4-pole, 1480 rpm
  }
  return 24.7;
}

double impact_shape(double bearing_damage) noexcept {
  const double x = std::clamp(bearing_damage, 0.0, 1.0) / 0.4;
  return x * std::exp(1.0 - x);
}

void fill_condition(const condition_input& in, energy_reading& energy,
                    environmental_reading& env) noexcept {
  // Independent hashed noise per feature: the features come from different sensors and
  // signal paths, and drawing them from the model's stream would tie them to its order.
  // Eight triangular variates of unit variance from two hashes (one 16-bit chunk each):
  // coarse beside a normal, and plenty for 3-8 % sensor noise; eight hashed normals cost a
  // quarter of the step.
  double noise_values[8];
  for (std::uint64_t h = 0; h < 2; ++h) {
    std::uint64_t bits = hash_pair(in.noise_seed + h, static_cast<std::uint64_t>(in.time_ms));
    for (int j = 0; j < 4; ++j, bits >>= 16) {
      const double u1 = static_cast<double>(bits & 0xFF) + 0.5;
      const double u2 = static_cast<double>((bits >> 8) & 0xFF) + 0.5;
      noise_values[h * 4 + static_cast<std::uint64_t>(j)] =
          (u1 + u2 - 256.0) / 256.0 * 2.449489742783178;
    }
  }
  auto noise = [&](std::uint64_t k) { return noise_values[(k - 1) & 7]; };
  const double d = std::clamp(in.bearing_damage, 0.0, 1.0);
  const double shape = impact_shape(d);
  const double v = std::isnan(in.vibration_mm_s) ? 0.0 : std::max(in.vibration_mm_s, 0.0);
  const double v_healthy = std::clamp(in.vibration_healthy_mm_s, 0.0, v);
  const double speed = std::clamp(in.speed_fraction, 0.0, 1.5);

  // Velocity spectrum: 1x (residual unbalance) and 2x (misalignment, and looseness as the
  // bearing's clearance grows), the rest broadband; their squares never exceed the total.
  const double one_x = 0.75 * v_healthy * (1.0 + 0.03 * noise(1));
  const double two_x_raw = 0.35 * v_healthy * (1.0 + 1.5 * d * d) * (1.0 + 0.05 * noise(2));
  const double two_x = std::min(two_x_raw, std::sqrt(std::max(v * v - one_x * one_x, 0.0)));
  env.vibration_1x_mm_s = wire_float(round_to(std::max(one_x, 0.0), 2));
  env.vibration_2x_mm_s = wire_float(round_to(std::max(two_x, 0.0), 2));

  // Acceleration: the velocity at running speed, a broadband floor (flow, gears, fans) and
  // the bearing's high-frequency content; the impacts set the crest factor and kurtosis.
  const double f_hz = running_speed_hz(in.type) * std::max(speed, 0.05);
  const double accel_rms_g =
      2.0 * std::numbers::pi * f_hz * v / g_mm_s2 + (in.running ? 0.05 + 0.6 * d * d : 0.005);
  const double crest = (in.running ? 3.2 + 4.5 * shape : 3.0) * (1.0 + 0.04 * noise(3));
  const double kurtosis = (in.running ? 3.0 + 9.0 * shape : 3.0) * (1.0 + 0.05 * noise(4));
  env.vibration_crest_factor = wire_float(round_to(std::max(crest, 1.0), 2));
  env.vibration_kurtosis = wire_float(round_to(std::max(kurtosis, 1.0), 2));
  env.vibration_accel_peak_g = wire_float(round_to(
      std::max(accel_rms_g * env.vibration_crest_factor * (1.0 + 0.03 * noise(5)), 0.0), 3));
  // Envelope (demodulated) acceleration in the bearing's defect band, in gE: a few
  // hundredths on a healthy bearing, tenths at a spall, several gE before it fails.
  const double defect_ge =
      in.running ? (0.04 + 4.0 * d * d) * std::max(speed, 0.2) * (1.0 + 0.08 * noise(6))
                 : 0.01 * (1.0 + 0.08 * noise(6));
  env.vibration_bearing_defect_ge = wire_float(round_to(std::max(defect_ge, 0.0), 3));

  // Bearing RTD: part of the machine's heat, its own friction when running, and the
  // late-stage heat of a failing bearing (temperature is the last indicator to move).
  const bearing_heat heat = bearing_heat_of(in.type);
  const double machine_c = std::isnan(in.machine_temp_c) ? in.hall_temp_c : in.machine_temp_c;
  double bearing_c = in.hall_temp_c + heat.machine_share * (machine_c - in.hall_temp_c);
  if (in.running) bearing_c += heat.running_rise_k * speed + 35.0 * d * d * d;
  env.bearing_temp_c = wire_float(round_to(bearing_c + 0.2 * noise(7), 1));

  // Per-phase currents: the mean is the meter's current; the unbalance (NEMA MG 1: largest
  // deviation from the mean over the mean) is the supply's and the winding's asymmetry plus
  // the rotor running eccentric in a worn bearing.
  if (in.current_a > 0) {
    const double unbalance = std::max(0.3 + 1.2 * std::clamp(in.unbalance_offset, 0.0, 1.0) +
                                          3.0 * d * d + 0.08 * noise(8),
                                      0.0) /
                             100.0;
    // Deviations that sum to zero with the largest exactly 1: the phase at `phase_angle`'s
    // third carries the excess, the other two share the deficit unevenly (no trigonometry:
    // this runs every step).
    const double angle = std::clamp(in.phase_angle, 0.0, 0.999999) * 3.0;
    const int high = static_cast<int>(angle);
    const double split = angle - high - 0.5;  // -0.5..0.5
    double a[3];
    a[high] = 1.0;
    a[(high + 1) % 3] = -0.5 + split;
    a[(high + 2) % 3] = -0.5 - split;
    double l[3];
    for (int k = 0; k < 3; ++k) l[k] = round_to(in.current_a * (1.0 + unbalance * a[k]), 2);
    energy.current_l1_a = wire_float(l[0]);
    energy.current_l2_a = wire_float(l[1]);
    energy.current_l3_a = wire_float(l[2]);
    const double mean = (l[0] + l[1] + l[2]) / 3.0;
    double dev = 0;
    for (double x : l) dev = std::max(dev, std::abs(x - mean));
    env.current_unbalance_percent = wire_float(mean > 0 ? round_to(100.0 * dev / mean, 2) : 0.0);
  } else {
    energy.current_l1_a = 0.0f;
    energy.current_l2_a = 0.0f;
    energy.current_l3_a = 0.0f;
    env.current_unbalance_percent = absent_f;  // no current, nothing to compare
  }
}

char iso10816_zone(double vibration_mm_s) noexcept {
  if (!(vibration_mm_s >= 0)) return '?';
  if (vibration_mm_s < 1.4) return 'A';
  if (vibration_mm_s < 2.8) return 'B';
  if (vibration_mm_s < 4.5) return 'C';
  return 'D';
}

}  // namespace factorysim::machines
