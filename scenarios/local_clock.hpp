#pragma once
/// UTC -> a factory's local clock through the IANA time zone database (date/tz.h; GCC 12's
/// libstdc++ has no std::chrono::zoned_time). Caches the current UTC offset period so that a
/// step costs a comparison, not a database lookup.

#include <string>

#include "machines/types.hpp"

namespace factorysim::scenarios {

class local_clock {
 public:
  /// Throws std::runtime_error if `tz_name` is not in the time zone database.
  explicit local_clock(const std::string& tz_name);
  machines::local_time at(machines::sim_time t);
  /// True if tz_name names a zone of the database.
  static bool valid_zone(const std::string& tz_name) noexcept;

 private:
  const void* zone_ = nullptr;  ///< const date::time_zone*
  machines::sim_time begin_{};  ///< validity of offset_ [begin_, end_)
  machines::sim_time end_{};
  std::chrono::seconds offset_{0};
};

}  // namespace factorysim::scenarios
