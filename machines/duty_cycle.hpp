#pragma once
/// Machine cycles made of phases (a press stroke, a molding shot) followed by a wait whose
/// length sets the production rate. Integrates phase powers exactly over a step, however
/// many phase boundaries and cycles fall inside it. Internal to machines/.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>

namespace factorysim::machines {

/// One phase: its share of the cycle time and the power drawn during it.
struct cycle_phase {
  double fraction = 0;
  double power_kw = 0;
};

/// What happened during one step.
struct cycle_advance {
  double energy_kws = 0;    ///< integral of power over the step, kW x s
  std::int64_t cycles = 0;  ///< cycles completed in the step
  int phase_at_end = -1;    ///< index of the phase at the end of the step, -1 = waiting
};

/// Wait that gives a production share `load` (cycle time / period); infinite = no cycles.
inline double cycle_wait_s(double cycle_s, double load, double min_load) noexcept {
  if (load < min_load) return std::numeric_limits<double>::infinity();
  return cycle_s * (1.0 / load - 1.0);
}

/// Advances position `phase_s` in [0, cycle_s + wait_s) by dt_s. A cycle under way always
/// finishes; with an infinite wait no new one starts.
inline cycle_advance advance_cycle(std::span<const cycle_phase> phases, double wait_power_kw,
                                   double cycle_s, double wait_s, double& phase_s,
                                   double dt_s) noexcept {
  cycle_advance out;
  double t = 0;
  for (int guard = 0; t < dt_s && guard < 4096; ++guard) {
    const double rest = dt_s - t;
    if (phase_s < cycle_s) {
      double boundary = 0;
      int index = 0;
      for (const auto& ph : phases) {
        boundary += ph.fraction * cycle_s;
        if (phase_s < boundary || index + 1 == static_cast<int>(phases.size())) break;
        ++index;
      }
      // The last phase takes whatever the fractions left, so the cycle always ends.
      if (index + 1 == static_cast<int>(phases.size()) || boundary > cycle_s) boundary = cycle_s;
      const double len = std::min(std::max(boundary - phase_s, 0.0), rest);
      out.energy_kws += phases[static_cast<std::size_t>(index)].power_kw * len;
      out.phase_at_end = index;
      phase_s += len;
      t += len;
      if (phase_s >= cycle_s - 1e-12 && boundary >= cycle_s - 1e-12) {
        phase_s = cycle_s;
        ++out.cycles;
      }
    } else {
      const double period = cycle_s + wait_s;
      const double len = std::max(0.0, std::min(period - phase_s, rest));
      out.energy_kws += wait_power_kw * len;
      out.phase_at_end = -1;
      phase_s += len;
      t += len;
      if (phase_s >= period) phase_s = 0;  // the next cycle starts
    }
  }
  return out;
}

}  // namespace factorysim::machines
