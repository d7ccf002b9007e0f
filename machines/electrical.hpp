#pragma once
/// Electrical readings of a three-phase induction machine, shared by every model:
/// P = sqrt(3) * V * I * PF, power factor falling at light load, supply voltage and frequency
/// shared by the site (grid.hpp). Published values are rounded as the engine serializes them
/// (power 3 decimals, voltage 1, current 2, power factor 3, frequency 3); current is computed
/// from the rounded P, V and PF, so the identity holds to within the rounding of current
/// (0.005 A).

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "machines/rng.hpp"
#include "machines/types.hpp"

namespace factorysim::machines {

/// Nameplate values the electrical readings need.
struct electrical_rating {
  double power_kw = 1;
  double voltage_v = 400;
  double frequency_hz = 50;
  double power_factor = 0.86;  ///< at full load, of a motor started direct on line
  bool vfd = false;  ///< the motor runs on a variable-frequency drive (input PF near 0.95)
};

/// Power factor at load_fraction = P / rated (induction motor curve): rated at full load,
/// about half of it at 10% load, never below 0.05 for a machine that draws power.
double power_factor_at(double rated_power_factor, double load_fraction) noexcept;

/// Input power factor of a machine drawing motor_kw through its drive and resistive_kw in
/// heaters: the heaters draw no reactive power, so PF = P / sqrt(P^2 + Q_motor^2). A
/// variable-frequency drive's diode front end keeps its displacement factor near 1; what is
/// left is the harmonic distortion of its current: true PF about 0.95 at full load, 0.8 at
/// 10 % (IEEE 519 figures for a six-pulse drive with a DC choke).
double machine_power_factor(const electrical_rating& rating, double motor_kw,
                            double resistive_kw) noexcept;

/// The interval's electrical reading for average real power power_kw over dt_s. Draws two
/// normals from r whatever the power, so the stream does not depend on the load.
/// energy_total_kwh is left to the caller (the meter lives in the machine).
/// true_power_kw >= 0: the machine's real power when power_kw is what a faulty current
/// transformer reports; voltage and power factor follow the real load, the current the
/// reported power (so P = sqrt(3) V I PF holds for what the meter shows).
/// resistive_kw: the part of the real power drawn by heaters (machine_power_factor).
/// supply: the site's voltage and the grid's frequency (grid.hpp) at the machine's terminals
/// before its own feeder's sag; the meter adds a little noise of its own (0.05 %, 1 mHz).
energy_reading electrical_reading(const electrical_rating& rating, double power_kw, double dt_s,
                                  rng& r, double true_power_kw = -1,
                                  const grid_supply& supply = {},
                                  double resistive_kw = 0) noexcept;

/// Rounds x to `decimals` places, as the wire shows it. Inline: every reading rounds about
/// thirty values, and the call showed as 14 % of a step in the profile.
inline double round_to(double x, int decimals) noexcept {
  static constexpr double scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  static constexpr double inverse[] = {1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
  const int k = std::clamp(decimals, 0, 6);
  const double y = x * scale[k];
  // Half away from zero like std::round, but through an integer conversion the compiler
  // inlines: std::round is a libm call on baseline x86-64 and showed in the profile. The
  // result is multiplied by the inverse rather than divided (a division costs 15-20 cycles):
  // it can differ from n / 10^k in the last bit, which no printed value shows.
  if (!(std::abs(y) < 1e15)) return x;  // huge or NaN: nothing to round
  return static_cast<double>(static_cast<std::int64_t>(y + (y >= 0 ? 0.5 : -0.5))) * inverse[k];
}

}  // namespace factorysim::machines
