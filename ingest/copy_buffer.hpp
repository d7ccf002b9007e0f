#pragma once
/// Builds PostgreSQL's binary COPY stream ("PGCOPY\n\377\r\n\0", flags, header extension,
/// tuples of int16 field count + int32 length + big-endian bytes, -1 for NULL, trailer -1).
/// See https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.4. Pure: no libpq.

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ingest/rows.hpp"

namespace factorysim::ingest {

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01 (UTC).
inline constexpr std::int64_t pg_epoch_offset_us = 946684800LL * 1000000;

/// An append-only binary COPY buffer. Call begin() once, then tuple()/put_*() per row, then
/// finish(). data() may be sent in pieces at any point (the format is a plain stream).
class copy_buffer {
 public:
  /// Writes the 19-byte header (signature, flags 0, no header extension).
  void begin();
  /// Starts a tuple of n fields.
  void tuple(std::int16_t n_fields) {
    put_be16(static_cast<std::uint16_t>(n_fields));
    ++tuples_;
  }
  /// Writes the trailer (int16 -1).
  void finish() { put_be16(0xFFFF); }

  /// A NULL field.
  void put_null() { put_be32(0xFFFFFFFFu); }
  /// int8 / bigint.
  void put_int8(std::int64_t v) {
    put_be32(8);
    put_be64(static_cast<std::uint64_t>(v));
  }
  /// int4 / integer.
  void put_int4(std::int32_t v) {
    put_be32(4);
    put_be32(static_cast<std::uint32_t>(v));
  }
  /// float8 / double precision; NaN is written as NULL (our "not measured").
  void put_float8_or_null(double v) {
    if (v != v) return put_null();
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    put_be32(8);
    put_be64(bits);
  }
  /// boolean.
  void put_bool(bool v) {
    put_be32(1);
    data_.push_back(v ? '\1' : '\0');
  }
  /// uuid: its 16 bytes.
  void put_uuid(const uuid_bytes& id) {
    put_be32(16);
    data_.append(reinterpret_cast<const char*>(id.data()), id.size());
  }
  /// text, varchar and enum values: the UTF-8 bytes (enum_recv takes the label's text).
  void put_text(std::string_view s) {
    put_be32(static_cast<std::uint32_t>(s.size()));
    data_.append(s);
  }
  /// text, or NULL when empty.
  void put_text_or_null(std::string_view s) {
    if (s.empty()) return put_null();
    put_text(s);
  }
  /// text[] (one dimension, lower bound 1, no NULL elements).
  void put_text_array(std::span<const std::string> items) {
    std::size_t len = 20;
    for (const auto& s : items) len += 4 + s.size();
    put_be32(static_cast<std::uint32_t>(len));
    put_be32(1);   // dimensions
    put_be32(0);   // no NULLs
    put_be32(25);  // element type: text
    put_be32(static_cast<std::uint32_t>(items.size()));
    put_be32(1);   // lower bound
    for (const auto& s : items) put_text(s);
  }
  /// jsonb: version byte 1, then the JSON text (jsonb_recv parses it).
  void put_jsonb(std::string_view json_text) {
    put_be32(static_cast<std::uint32_t>(json_text.size() + 1));
    data_.push_back('\x01');
    data_.append(json_text);
  }
  /// int8 or NULL.
  void put_int8_or_null(const std::optional<std::int64_t>& v) {
    if (!v) return put_null();
    put_int8(*v);
  }
  /// timestamptz from microseconds since the Unix epoch.
  void put_timestamptz(unix_us t) {
    put_be32(8);
    put_be64(static_cast<std::uint64_t>(t - pg_epoch_offset_us));
  }

  /// The bytes so far.
  const std::string& data() const noexcept { return data_; }
  /// Number of tuple() calls since the last clear().
  std::size_t tuples() const noexcept { return tuples_; }
  /// Empties the buffer, keeping its capacity.
  void clear() noexcept {
    data_.clear();
    tuples_ = 0;
  }
  /// Reserves capacity.
  void reserve(std::size_t bytes) { data_.reserve(bytes); }

 private:
  void put_be16(std::uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    data_.append(b, 2);
  }
  void put_be32(std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    data_.append(b, 4);
  }
  void put_be64(std::uint64_t v) {
    put_be32(static_cast<std::uint32_t>(v >> 32));
    put_be32(static_cast<std::uint32_t>(v));
  }

  std::string data_;
  std::size_t tuples_ = 0;
};

}  // namespace factorysim::ingest
