#pragma once
// Test helpers: drive a machine through simulated time on a UTC factory clock with a
// three-shift calendar and the site climate, as the engine does.

#include <cstdint>
#include <vector>

#include "machines/calendar.hpp"
#include "machines/climate.hpp"
#include "machines/machine.hpp"

namespace factorysim::machines::testing {

/// Local time of t on a UTC clock.
inline local_time utc_local(sim_time t) {
  const std::int64_t ms = t.time_since_epoch().count();
  const std::int64_t day_ms = 86'400'000;
  std::int64_t days = ms / day_ms;
  if (ms < 0 && ms % day_ms != 0) --days;
  const civil_date d = civil_from_days(static_cast<int>(days));
  local_time l;
  l.year = d.year;
  l.month = d.month;
  l.day = d.day;
  l.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  l.day_of_year = static_cast<int>(days) - days_from_civil(d.year, 1, 1);
  l.minute_of_day = static_cast<double>(ms - days * day_ms) / 60'000.0;
  return l;
}

/// UTC instant of a civil date and time.
inline sim_time at(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  const std::int64_t days = days_from_civil(y, mo, d);
  return sim_time{milliseconds{((days * 24 + h) * 60 + mi) * 60'000LL + s * 1000LL}};
}

/// The demo plant's calendar: three shifts, breaks, Monday to Friday.
inline calendar three_shifts() {
  calendar c;
  c.shifts = {{"early", 6 * 60, 14 * 60, 1.0},
              {"late", 14 * 60, 22 * 60, 0.9},
              {"night", 22 * 60, 6 * 60, 0.6}};
  c.breaks = {{12 * 60, 30, 0.2}, {18 * 60, 30, 0.2}};
  return c;
}

/// A machine config of type t with the ratings of a demo machine (docs/plant.md) of that type.
inline machine_config config_of(machine_type t,
                                std::string id = "c0000000-0000-0000-0000-000000000001") {
  machine_config c;
  c.id = std::move(id);
  c.type = t;
  switch (t) {
    case machine_type::compressor:
      c.rated_power_kw = 55;
      c.interval = milliseconds{1000};
      break;
    case machine_type::hvac:
      c.rated_power_kw = 150;
      c.interval = milliseconds{10000};
      break;
    case machine_type::motor:
      c.rated_power_kw = 22;
      c.interval = milliseconds{10000};
      break;
    case machine_type::pump:
      c.rated_power_kw = 45;
      c.interval = milliseconds{30000};
      break;
    case machine_type::injection_molding:
      c.rated_power_kw = 120;
      c.interval = milliseconds{30000};
      break;
  }
  c.params = default_params(t, c.rated_power_kw);
  return c;
}

/// The same machine without micro-stops and changeovers: for tests of steady production.
inline machine_config uninterrupted(machine_config c) {
  for (auto key : {"micro_stops_per_h", "changeover_interval_h"}) set_param(c.params, key, 0);
  return c;
}

inline constexpr machine_type all_types[] = {machine_type::compressor, machine_type::hvac,
                                             machine_type::motor, machine_type::pump,
                                             machine_type::injection_molding};

/// Steps a machine on its interval with calendar and climate, as the engine would.
struct driver {
  machine m;
  calendar cal = three_shifts();
  climate clim{};
  std::uint64_t site_seed = 7;
  sim_time now;
  double dt_s;

  driver(machine_config c, sim_time start, std::uint64_t seed = 42)
      : m(std::move(c), seed),
        now(start),
        dt_s(static_cast<double>(m.config().interval.count()) / 1000.0) {}

  /// One step; `faults` are the faults active during it.
  reading step(std::span<const fault> faults = {}) {
    now += m.config().interval;
    step_input in;
    in.time = now;
    in.dt_s = dt_s;
    in.local = utc_local(now);
    in.schedule = schedule_at(cal, in.local);
    in.outdoor = weather_at(clim, site_seed, now, in.local);
    in.faults = faults;
    return m.step(in);
  }

  /// Mean power over `seconds` of simulated time.
  double mean_power_kw(double seconds) {
    const auto n = static_cast<int>(seconds / dt_s);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += step().energy.power_kw;
    return sum / n;
  }
};

}  // namespace factorysim::machines::testing
