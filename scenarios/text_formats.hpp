#pragma once
/// Parsers and formatters for the small text formats of a scenario file: durations ("90s",
/// "15m", "1h30m", a plain number of seconds), RFC 3339 instants, local clock times ("06:00"),
/// civil dates ("2024-12-25") and uuids. Pure functions; the engine's command line uses them
/// too (--from/--to), so that a time means the same everywhere.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "machines/types.hpp"

namespace factorysim::scenarios {

/// "500ms", "90s", "15m", "2h", "1d", compounds such as "1h30m", or a plain non-negative
/// number of seconds ("2.5"). Nothing else; fractions below 1 ms are rejected.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;
/// Same grammar, in (possibly fractional) milliseconds, so that a caller can tell "garbage"
/// from "finer than 1 ms" in its message.
std::optional<double> parse_duration_ms(std::string_view text) noexcept;

/// The shortest exact form in the same grammar: "1d", "15m", "90s", "1500ms".
std::string format_duration(std::chrono::milliseconds d);

/// RFC 3339 date-time with a zone: 2024-06-01T00:00:00Z, 2024-06-01T02:00:00.250+02:00.
/// Any number of fraction digits; those finer than a millisecond are truncated (issue 13).
std::optional<machines::sim_time> parse_rfc3339(std::string_view text) noexcept;

/// 2024-06-01T00:00:00.000Z (UTC, milliseconds), the form of every payload's `time`.
std::string format_rfc3339(machines::sim_time t);

/// "HH:MM" on a 24 h clock, 00:00..24:00; returns minutes after midnight.
std::optional<int> parse_clock_minutes(std::string_view text) noexcept;

/// "YYYY-MM-DD", a real calendar date.
std::optional<machines::civil_date> parse_civil_date(std::string_view text) noexcept;

/// 8-4-4-4-12 hexadecimal digits, either case.
bool is_uuid(std::string_view text) noexcept;
/// Lower-case form of a uuid (ids compare and print in lower case).
std::string normalize_uuid(std::string_view text);

/// Name-based uuid, version 5 of RFC 4122 (SHA-1 of the namespace uuid's 16 bytes followed by
/// `name`): uuid5("c0000000-0000-0000-0000-000000000001", "00001"). Python's
/// uuid.uuid5(uuid.UUID(ns), name) gives the same string. Precondition: is_uuid(namespace_id).
std::string uuid5(std::string_view namespace_id, std::string_view name);

}  // namespace factorysim::scenarios
