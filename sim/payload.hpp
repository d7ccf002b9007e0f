#pragma once
/// The wire encoding of docs/topics.md: one JSON object per message, keys in a fixed order, no
/// spaces, numbers with fixed decimals (std::to_chars), absent (NaN) fields omitted. Pure
/// functions that write into a caller-owned buffer, so a steady stream allocates nothing.

#include <cstdint>
#include <string>
#include <span>
#include <string_view>

#include "machines/types.hpp"
#include "machines/wear.hpp"

namespace factorysim::sim {

/// The five streams under a machine's topic T.
enum class stream : std::uint8_t { energy, production, environmental, status, events, truth };
inline constexpr std::size_t stream_count = 6;

/// "energy", "production", ...: the last topic level and the counter label.
std::string_view to_string(stream s) noexcept;
/// "/energy", "/production", ...: appended to the machine's topic T.
std::string_view topic_suffix(stream s) noexcept;

/// Appends `t` as RFC 3339 UTC with milliseconds, e.g. 2024-06-01T00:00:01.000Z.
void append_time(std::string& out, machines::sim_time t);
/// Parses exactly the format append_time writes (and without the fraction); false if malformed.
bool parse_time(std::string_view text, machines::sim_time& out) noexcept;
/// Appends `value` with `decimals` fixed decimals; -0.000 is written as 0.000.
void append_fixed(std::string& out, double value, int decimals);
/// Appends `s` as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view s);

/// "warning" below 0.7, else "critical" (alert_level of the schema): an active fault is never
/// "normal", however faint.
std::string_view severity_level(double severity) noexcept;

/// The identity every payload starts with.
struct payload_head {
  std::string_view machine_id;
  machines::sim_time time{};
  std::uint64_t seq = 0;  ///< 0 = omitted (only the broker-sent last will has none)
};

/// Replaces `out` with the T/energy payload of `r`.
void write_energy(std::string& out, const payload_head& head, const machines::energy_reading& r);
/// Replaces `out` with the T/production payload; `shift` empty = outside every shift (omitted).
void write_production(std::string& out, const payload_head& head,
                      const machines::production_reading& r, std::string_view shift);
/// Replaces `out` with the T/environmental payload: present keys in docs/topics.md's order.
void write_environmental(std::string& out, const payload_head& head,
                         const machines::environmental_reading& r);

/// What T/status says about a machine.
struct status_fields {
  bool is_running = false;
  machines::operating_mode mode = machines::operating_mode::offline;
  double current_power_kw = 0;
  double energy_total_kwh = machines::absent;  ///< NaN = omitted (the last will)
};
/// Replaces `out` with the T/status payload.
void write_status(std::string& out, const payload_head& head, const status_fields& s);

/// Replaces `out` with the T/events payload of a fault start or end.
void write_event(std::string& out, const payload_head& head, const machines::fault_event& e);

}  // namespace factorysim::sim

namespace factorysim::sim {

/// "WO-" and 12 upper-case hex digits of a work order number.
void append_work_order(std::string& out, std::uint64_t number);

/// Replaces `out` with the T/events payload of a failure or a maintenance start/end
/// (docs/topics.md "Failures and maintenance").
void write_health_event(std::string& out, const payload_head& head,
                        const machines::health_event& e);

/// Replaces `out` with the T/truth payload: health, RUL, failure state, the fault types
/// active now and the payload keys they change, and the interruption under way, if any
/// (docs/topics.md "T/truth").
void write_truth(std::string& out, const payload_head& head, const machines::health_truth& t,
                 std::span<const machines::fault> active_faults,
                 std::span<const std::string> faulted_signals,
                 machines::interruption stop = machines::interruption::none);

}  // namespace factorysim::sim
