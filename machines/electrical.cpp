// Electrical side of every machine (see electrical.hpp).
#include "machines/electrical.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace factorysim::machines {

double power_factor_at(double rated_power_factor, double load_fraction) noexcept {
  // PF ~ x / (x + a): the magnetizing current stays while the active current scales with
  // load, so an idling motor draws ~a/(1+a)/PF_rated of rated current at a poor PF.
  constexpr double a = 0.15;
  const double x = std::max(load_fraction, 0.0);
  const double pf = rated_power_factor * (1 + a) * x / (x + a);
  return std::clamp(pf, 0.05, 0.99);
}

double machine_power_factor(const electrical_rating& rating, double motor_kw,
                            double resistive_kw) noexcept {
  motor_kw = std::max(motor_kw, 0.0);
  resistive_kw = std::max(resistive_kw, 0.0);
  const double total_kw = motor_kw + resistive_kw;
  if (!(total_kw > 0)) return 0;
  const double motor_load = motor_kw / std::max(rating.power_kw, 1e-9);
  double motor_pf = 1;
  if (motor_kw > 0) {
    // A drive's input PF follows the same shape with a much smaller "magnetizing" share:
    // the DC link, not the grid, magnetizes the motor.
    motor_pf = rating.vfd ? std::clamp(0.95 * 1.02 * motor_load / (motor_load + 0.02), 0.05, 0.99)
                          : power_factor_at(rating.power_factor, motor_load);
  }
  const double reactive_kvar = motor_kw * std::sqrt(1.0 / (motor_pf * motor_pf) - 1.0);
  // sqrt of the sum of squares, not std::hypot: no overflow is possible here and hypot is a
  // slow libm call.
  return std::clamp(total_kw / std::sqrt(total_kw * total_kw + reactive_kvar * reactive_kvar),
                    0.05, 1.0);
}

energy_reading electrical_reading(const electrical_rating& rating, double power_kw, double dt_s,
                                  rng& r, double true_power_kw, const grid_supply& supply,
                                  double resistive_kw) noexcept {
  const double voltage_noise = r.normal();
  const double frequency_noise = r.normal();
  energy_reading e;
  const double p = round_to(std::max(power_kw, 0.0), 3);
  const double real = true_power_kw >= 0 ? round_to(true_power_kw, 3) : p;
  const double real_kw = real > 0 ? real : p;
  const double load_fraction = real_kw / std::max(rating.power_kw, 1e-9);
  // The site's supply, sagging a little more under the machine's own load (feeder
  // impedance); the meter's own noise is small beside the site's variation.
  e.voltage_v =
      round_to(rating.voltage_v * (supply.voltage_pu - 0.012 * std::min(load_fraction, 1.5) +
                                   0.0005 * voltage_noise),
               1);
  e.frequency_hz =
      round_to(rating.frequency_hz + supply.frequency_offset_hz + 0.001 * frequency_noise, 3);
  e.power_kw = p;
  // The power factor is measured from the machine's true load, apart from the current
  // transformer: a CT that reads nothing leaves it alone (and reads no current).
  if (real_kw > 0) {
    const double heater_kw = std::min(std::max(resistive_kw, 0.0), real_kw);
    e.power_factor = round_to(machine_power_factor(rating, real_kw - heater_kw, heater_kw), 3);
    e.current_a = p > 0 ? round_to(p * 1000.0 / (std::sqrt(3.0) * e.voltage_v * e.power_factor), 2)
                        : 0.0;
  } else {
    e.power_factor = 0;  // no current, no phase angle to speak of
    e.current_a = 0;
  }
  e.energy_kwh = p * dt_s / 3600.0;
  return e;
}

}  // namespace factorysim::machines
