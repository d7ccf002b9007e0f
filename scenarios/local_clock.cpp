// The tz database lookup (get_info) is a binary search plus, on first use of a zone, parsing
// its file; a factory's offset changes twice a year, so we cache the period it holds for.
#include "scenarios/local_clock.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>

#include <date/tz.h>

namespace factorysim::scenarios {

local_clock::local_clock(const std::string& tz_name) {
  try {
    zone_ = date::locate_zone(tz_name);
  } catch (const std::exception& e) {
    throw std::runtime_error("unknown time zone \"" + tz_name + "\": " + e.what());
  }
}

bool local_clock::valid_zone(const std::string& tz_name) noexcept {
  try {
    return date::locate_zone(tz_name) != nullptr;
  } catch (...) {  // locate_zone reports an unknown name (or a missing database) by throwing
    return false;
  }
}

machines::local_time local_clock::at(machines::sim_time t) {
  using namespace std::chrono;
  if (t < begin_ || t >= end_) {
    const auto* zone = static_cast<const date::time_zone*>(zone_);
    const date::sys_info info = zone->get_info(t);
    // sys_info's bounds are in seconds; widen to our millisecond clock, saturating at the
    // database's "forever" values.
    begin_ = time_point_cast<milliseconds>(info.begin);
    end_ = info.end >= date::sys_seconds{seconds{std::numeric_limits<std::int64_t>::max() / 1000}}
               ? machines::sim_time::max()
               : time_point_cast<milliseconds>(info.end);
    offset_ = info.offset;
  }
  const auto local_ms = t.time_since_epoch() + offset_;
  const auto day = floor<days>(local_ms);
  const date::sys_days civil_day{day};
  const date::year_month_day ymd{civil_day};
  const date::weekday wd{civil_day};
  machines::local_time lt;
  lt.year = static_cast<int>(ymd.year());
  lt.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  lt.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  lt.weekday = static_cast<int>(wd.c_encoding());
  lt.day_of_year = static_cast<int>(
      (civil_day - date::sys_days{ymd.year() / date::January / 1}).count());
  lt.minute_of_day = static_cast<double>((local_ms - day).count()) / 60'000.0;
  return lt;
}

}  // namespace factorysim::scenarios
