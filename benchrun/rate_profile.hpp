#pragma once
/// The target rate of a bench run over time: a constant `--rate` for `--duration`, or the
/// scenario's `bench: profile:` of steps (`{rate: 20000, for: 60s}`) and linear ramps
/// (`{ramp_to: 80000, for: 120s}`, from the rate before it). Pure.

#include <optional>
#include <string>
#include <vector>

namespace factorysim::benchrun {

/// One piece of a profile.
struct rate_segment {
  bool ramp = false;      ///< false: hold `rate_per_s`; true: go linearly to it
  double rate_per_s = 0;  ///< messages per second (all streams)
  double duration_s = 0;
};

struct rate_profile {
  std::vector<rate_segment> segments;
  /// Sum of the segments' durations.
  double duration_s() const noexcept;
  /// The target rate at `t_s` seconds since the start (the last rate after the end).
  double rate_at(double t_s) const noexcept;
  /// A single step of `rate` for `duration_s`.
  static rate_profile constant(double rate_per_s, double duration_s);
};

/// What a scenario's optional `bench:` section says (docs/bench.md): its profile, and the
/// defaults for machines/qos/warmup when given.
struct bench_section {
  std::optional<rate_profile> profile;
  std::optional<std::size_t> machines;
  std::optional<double> warmup_s;
};

/// Reads the `bench:` section of a scenario file (none: an empty section). Throws
/// std::runtime_error `FILE:LINE:COL: bench.profile[1].for: ...` on bad content.
bench_section read_bench_section(const std::string& scenario_file);

}  // namespace factorysim::benchrun
