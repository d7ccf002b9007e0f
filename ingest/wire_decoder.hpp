#pragma once
/// The pure half of the ingestor: topic + payload bytes in, a typed row or a reject reason
/// out. No I/O, no clock (the caller passes "now"), no allocation beyond the row's strings.
/// The known-machine check needs the machines table and is the caller's (see ingestor).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ingest/rows.hpp"

namespace factorysim::ingest {

/// Why a message was not stored; the text form is ingest_rejects.reason.
enum class reject_reason : std::uint8_t {
  oversized,          ///< payload larger than decode_options::max_payload_bytes
  not_json,           ///< syntax error
  not_object,         ///< valid JSON, but not an object
  unknown_stream,     ///< topic suffix is not energy|production|environmental|status|events
  missing_field,      ///< a required key is absent
  wrong_type,         ///< a key has the wrong JSON type (e.g. "power_kw": "12")
  non_finite,         ///< NaN, Infinity or a number that overflows a double
  invalid_value,      ///< right type, bad content (uuid, enum, negative seq, bad UTF-8...)
  bad_time,           ///< a time that is not RFC 3339
  time_out_of_range,  ///< before decode_options::min_time_us or too far in the future
  unknown_machine,    ///< machine_id not in the machines table (checked by the caller)
  database_rejected,  ///< the database refused the row (isolated by splitting the batch)
};

/// "oversized", "not_json", ...
std::string_view to_string(reject_reason r) noexcept;

/// A message that will not be stored, with a line a person can act on.
struct reject {
  reject_reason reason = reject_reason::not_json;
  std::string detail;  ///< e.g. `"power_kw": expected a number, got a string`
};

/// Limits the decoder applies.
struct decode_options {
  std::size_t max_payload_bytes = 64 * 1024;
  unix_us min_time_us = 946684800LL * 1000000;  ///< 2000-01-01T00:00:00Z
  unix_us max_future_us = 86400LL * 1000000;    ///< accepted distance ahead of now_us
  unix_us now_us = 0;  ///< the caller's wall clock; 0 = no upper bound on time
};

/// A row or the reason there is none.
using decode_result = std::variant<decoded_row, reject>;

/// Decodes one message. Never throws for bad input; the result says what was wrong.
decode_result decode_message(std::string_view topic, std::string_view payload,
                             const decode_options& options);

/// Parses RFC 3339 (`2024-06-01T00:00:01.000Z`, any offset, up to microseconds) into
/// microseconds since the Unix epoch; false if the text is not RFC 3339.
bool parse_rfc3339(std::string_view text, unix_us& out) noexcept;

/// Formats microseconds since the Unix epoch as RFC 3339 UTC with milliseconds.
std::string format_rfc3339_ms(unix_us t);

}  // namespace factorysim::ingest
