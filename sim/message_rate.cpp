#include "sim/message_rate.hpp"

#include <algorithm>

namespace factorysim::sim {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::uint64_t readings_in_range(std::chrono::milliseconds interval, machines::sim_time from,
                                machines::sim_time to) noexcept {
  const std::int64_t iv = std::max<std::int64_t>(interval.count(), 10);  // the engine's floor
  if (to <= from) return 0;
  const auto n =
      floor_div(to.time_since_epoch().count(), iv) - floor_div(from.time_since_epoch().count(), iv);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(n, 0));
}

std::optional<double> message_rate::total_messages() const noexcept {
  if (!readings_total || !simulated_s) return std::nullopt;
  return reading_streams * static_cast<double>(*readings_total) + static_cast<double>(status_start_end) +
         static_cast<double>(scheduled_events) + random_events_per_s * *simulated_s;
}

message_rate estimate_message_rate(const scenarios::scenario& s,
                                   std::optional<machines::sim_time> from,
                                   std::optional<machines::sim_time> to) {
  message_rate r;
  r.machines = s.machines.size();
  r.status_start_end = 2 * s.machines.size();
  r.reading_streams = s.truth ? 4 : 3;
  switch (s.mode) {
    case scenarios::time_mode::realtime:
      r.speed = 1;
      break;
    case scenarios::time_mode::accelerated:
      r.speed = s.speed;
      break;
    case scenarios::time_mode::backfill:
      r.speed = 0;
      break;
  }
  for (const auto& m : s.machines) {
    const double iv_s =
        static_cast<double>(std::max<std::int64_t>(m.interval.count(), 10)) / 1000.0;
    r.readings_per_s += 1.0 / iv_s;
  }
  for (const auto& f : s.random_faults) r.random_events_per_s += 2.0 * f.rate.per_day / 86400.0;
  for (const auto& f : s.faults) {
    machines::sim_time start = f.f.start;
    std::optional<machines::sim_time> end = f.f.end;
    if (f.after && from) {  // `after` counts from the run's start, as the plant computes it
      const auto shift = (*from + *f.after) - start;
      start += shift;
      if (end) *end += shift;
    }
    const bool starts_inside = (!from || start >= *from) && (!to || start < *to);
    // A fault still active at the end gets no end event.
    if (starts_inside) r.scheduled_events += end && (!to || *end <= *to) ? 2 : 1;
  }
  if (from && to && *to > *from) {
    std::uint64_t n = 0;
    for (const auto& m : s.machines) n += readings_in_range(m.interval, *from, *to);
    r.readings_total = n;
    r.simulated_s = static_cast<double>((*to - *from).count()) / 1000.0;
  }
  return r;
}

}  // namespace factorysim::sim
