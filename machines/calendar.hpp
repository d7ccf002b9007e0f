#pragma once
/// What a factory's calendar says about a local instant: the production load machines follow.
/// Pure: the calendar is scenario data, the local time comes from the engine's clock.

#include "machines/types.hpp"

namespace factorysim::machines {

/// Load, shift and day kind at `local`. A shift whose end_minute < start_minute runs past
/// midnight; its morning part belongs to the day it started on, so a night shift started on
/// a working day continues into the next morning even if that is a weekend or a holiday.
/// Breaks apply inside shifts only. Outside shifts: off_shift_load on working days,
/// holiday_load on holidays, weekend_load on other non-working days.
schedule_point schedule_at(const calendar& cal, const local_time& local) noexcept;

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before).
int days_from_civil(int year, int month, int day) noexcept;
/// Inverse of days_from_civil.
civil_date civil_from_days(int days) noexcept;

}  // namespace factorysim::machines
