// Shift calendar on the factory's local clock (see calendar.hpp for the rules).
#include "machines/calendar.hpp"

#include <algorithm>

namespace factorysim::machines {

int days_from_civil(int year, int month, int day) noexcept {
  // Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

civil_date civil_from_days(int days) noexcept {
  const int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  return civil_date{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

namespace {

bool is_holiday(const calendar& cal, const civil_date& d) noexcept {
  return std::find(cal.holidays.begin(), cal.holidays.end(), d) != cal.holidays.end();
}

// Whether the production of a day runs: a working weekday that is not a holiday.
bool runs(const calendar& cal, int weekday, const civil_date& d) noexcept {
  return cal.working_days[static_cast<std::size_t>(weekday)] && !is_holiday(cal, d);
}

bool in_window(double minute, int start_minute, int length_min) noexcept {
  // Windows may wrap midnight: compare the offset from the start modulo a day.
  double offset = minute - start_minute;
  if (offset < 0) offset += 1440;
  return offset < length_min;
}

}  // namespace

schedule_point schedule_at(const calendar& cal, const local_time& local) noexcept {
  schedule_point out;
  const civil_date today{local.year, local.month, local.day};
  const int weekday = ((local.weekday % 7) + 7) % 7;
  out.holiday = is_holiday(cal, today);
  out.working_day = cal.working_days[static_cast<std::size_t>(weekday)] && !out.holiday;
  const double minute = local.minute_of_day;

  if (cal.shifts.empty()) {
    // No shifts configured: production runs all day on working days.
    out.load = out.working_day ? 1.0 : (out.holiday ? cal.holiday_load : cal.weekend_load);
    return out;
  }

  bool yesterday_runs_known = false;
  bool yesterday_runs = false;
  for (std::size_t i = 0; i < cal.shifts.size(); ++i) {
    const shift& s = cal.shifts[i];
    const bool wraps = s.end_minute < s.start_minute;
    bool active = false;
    if (!wraps) {
      active = out.working_day && minute >= s.start_minute && minute < s.end_minute;
    } else if (minute >= s.start_minute) {
      active = out.working_day;  // evening part: started today
    } else if (minute < s.end_minute) {
      // Morning part: the shift started yesterday evening.
      if (!yesterday_runs_known) {
        const int today_days = days_from_civil(local.year, local.month, local.day);
        yesterday_runs = runs(cal, (weekday + 6) % 7, civil_from_days(today_days - 1));
        yesterday_runs_known = true;
      }
      active = yesterday_runs;
    }
    if (!active) continue;
    out.shift_index = static_cast<int>(i);
    out.load = s.load;
    for (const break_period& b : cal.breaks) {
      if (in_window(minute, b.start_minute, b.duration_min)) {
        out.load = b.load;
        break;
      }
    }
    return out;
  }
  out.load =
      out.working_day ? cal.off_shift_load : (out.holiday ? cal.holiday_load : cal.weekend_load);
  return out;
}

}  // namespace factorysim::machines
