#pragma once
/// How many messages a scenario makes (docs/sizing.md): computed from the expanded scenario
/// before a run, so that `factorysim run` can say what load it is about to put on a broker,
/// and, for a bounded time range, how many messages the run holds. Pure.

#include <cstdint>
#include <optional>

#include "machines/types.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::sim {

/// Expected messages per simulated second, per stream, and totals over a range.
struct message_rate {
  std::size_t machines = 0;
  /// Each of T/energy, T/production, T/environmental: sum over machines of 1 / interval.
  double readings_per_s = 0;
  /// T/events from random faults (a start and an end each): 2 x sum of per_day / 86400.
  double random_events_per_s = 0;
  /// T/events of the scheduled faults that start inside the range (2 each; unbounded runs: all).
  std::uint64_t scheduled_events = 0;
  /// T/status: one per machine at its first step and one at the end of the run; more on every
  /// change of operating mode (not predictable: a model decides).
  std::uint64_t status_start_end = 0;
  /// Simulated seconds per wall second: 1 realtime, `speed` accelerated, 0 backfill (as fast
  /// as the sink accepts).
  double speed = 1;
  /// Over [from, to) when the run has an end: readings per reading stream.
  std::optional<std::uint64_t> readings_total;
  std::optional<double> simulated_s;  ///< to - from
  /// Messages per reading: energy, production, environmental, and T/truth unless
  /// `simulation.truth: false`.
  int reading_streams = 4;

  /// Messages per simulated second on the reading streams together.
  double readings_all_streams_per_s() const noexcept { return reading_streams * readings_per_s; }
  /// Expected wall-clock rate (reading streams + random events), 0 for backfill.
  double wall_rate_per_s() const noexcept {
    return (reading_streams * readings_per_s + random_events_per_s) * speed;
  }
  /// Messages of the whole range when it is bounded: readings, status at start and end,
  /// scheduled and (expected) random events; status changes not counted.
  std::optional<double> total_messages() const noexcept;
};

/// The rate of `s` (replicas expanded, command line overrides applied). `from`/`to`: the
/// run's simulated range when known (realtime: now .. --to; none = unbounded).
message_rate estimate_message_rate(const scenarios::scenario& s,
                                   std::optional<machines::sim_time> from,
                                   std::optional<machines::sim_time> to);

/// Readings of one machine of interval `interval` in [from, to): its deadlines are the
/// multiples of the interval since the epoch with from < deadline <= to.
std::uint64_t readings_in_range(std::chrono::milliseconds interval, machines::sim_time from,
                                machines::sim_time to) noexcept;

}  // namespace factorysim::sim
