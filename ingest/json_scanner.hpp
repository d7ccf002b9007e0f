#pragma once
/// A strict, allocation-free scanner for the flat JSON objects of our wire format: it
/// validates the whole document (RFC 8259, nesting up to 32) and hands each top-level
/// key/value pair to a callback with the value classified but not converted. Nested values
/// (arrays, objects) are validated and passed as raw spans. Hand-written because this is the
/// ingest hot path; tests/ingest compares it with nlohmann::json on a corpus.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace factorysim::ingest::json {

/// Kind of a scanned value.
enum class kind : std::uint8_t { null_value, boolean, number, string, array, object };

/// One scanned value; which members are meaningful depends on `type`.
struct value {
  kind type = kind::null_value;
  bool boolean = false;
  // number: the text, whether it is an integer literal, and the non-JSON NaN/Infinity tokens
  std::string_view number_text;
  bool is_integer = false;
  bool non_finite_token = false;
  // string: the raw bytes between the quotes (escapes not yet decoded)
  std::string_view raw;
  bool has_escape = false;
};

/// Where scanning stopped and why (offset into the document).
struct scan_error {
  std::size_t offset = 0;
  std::string_view what;
};

/// Callback type: return false to stop scanning (the scan then reports `stopped`).
template <typename F>
concept pair_handler = requires(F f, std::string_view key, const value& v) {
  { f(key, v) } -> std::convertible_to<bool>;
};

/// Result of scan_object.
enum class scan_status : std::uint8_t { ok, not_json, not_object, stopped };

namespace detail {
/// Non-template core: scans the document, calling `on_pair(ctx, key, value)`.
scan_status scan_object(std::string_view doc, bool (*on_pair)(void*, std::string_view,
                                                              const value&),
                        void* ctx, scan_error& error, std::string& key_buffer);
}  // namespace detail

/// Scans `doc` as one JSON object. Keys with escapes are decoded into key_buffer first.
template <pair_handler F>
scan_status scan_object(std::string_view doc, F&& on_pair, scan_error& error,
                        std::string& key_buffer) {
  auto trampoline = [](void* ctx, std::string_view key, const value& v) -> bool {
    return (*static_cast<std::remove_reference_t<F>*>(ctx))(key, v);
  };
  return detail::scan_object(doc, trampoline, &on_pair, error, key_buffer);
}

/// Decodes a scanned string's raw bytes (escapes, surrogate pairs) into out, checking that
/// the result is valid UTF-8 without NUL characters (PostgreSQL text cannot hold them).
bool decode_string(std::string_view raw, bool has_escape, std::string& out);

/// Copy of s with every byte that is not part of valid UTF-8 (and every NUL) replaced by
/// '?', so it can go into a text column.
std::string sanitize_utf8(std::string_view s);

/// Calls on_item(decoded string) for each element of a raw array of strings; false if the
/// array holds anything but strings or a string does not decode.
template <typename F>
bool for_each_string(std::string_view raw_array, F&& on_item);

/// Non-template core of for_each_string.
bool for_each_string_impl(std::string_view raw_array, void (*on_item)(void*, std::string&&),
                          void* ctx);

template <typename F>
bool for_each_string(std::string_view raw_array, F&& on_item) {
  auto trampoline = [](void* ctx, std::string&& s) {
    (*static_cast<std::remove_reference_t<F>*>(ctx))(std::move(s));
  };
  return for_each_string_impl(raw_array, trampoline, &on_item);
}

}  // namespace factorysim::ingest::json
