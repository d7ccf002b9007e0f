#pragma once
/// A reader for the payloads of docs/topics.md: one flat JSON object whose values are numbers,
/// strings, booleans, null or arrays of strings. It keeps each value's exact text, so that an
/// export (CSV, line protocol) or a replay writes the numbers exactly as the simulator did,
/// and the byte range of each value, so that a replay can rewrite a time in place.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace factorysim::sim {

/// What a value of a flat payload is.
enum class flat_kind : unsigned char { number, string, boolean, null, array };

/// One key of a flat payload.
struct flat_field {
  std::string key;  ///< decoded (JSON escapes resolved)
  flat_kind kind = flat_kind::null;
  std::string_view raw;            ///< the value's text in the payload (a string with its quotes)
  std::size_t offset = 0;          ///< where `raw` starts in the payload
  std::string text;                ///< strings: the decoded text; numbers, booleans: = raw
  std::vector<std::string> items;  ///< arrays: the decoded strings
  bool is_integer = false;         ///< numbers without fraction or exponent
};

/// Parses `payload` into `out` (cleared first). False when it is not one flat JSON object of
/// the kinds above (nested objects, arrays of non-strings, trailing bytes, bad escapes).
bool parse_flat_json(std::string_view payload, std::vector<flat_field>& out);

/// The field named `key`, or nullptr.
const flat_field* find_field(const std::vector<flat_field>& fields, std::string_view key) noexcept;

}  // namespace factorysim::sim
