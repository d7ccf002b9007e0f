#pragma once
/// The line formats of `factorysim run --output FILE --format F` (docs/export.md): the
/// `topic<TAB>payload` capture (tsv, the default, what `replay` reads), JSON lines, CSV with
/// one file per stream, and InfluxDB 1.x line protocol. Pure functions that append to a
/// caller's buffer; each message is converted from its payload bytes, so every format keeps
/// "same scenario + seed = same bytes".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/flat_json.hpp"

namespace factorysim::sim {

enum class export_format : unsigned char { tsv, jsonl, csv, influx };

/// "tsv", "jsonl", "csv", "influx".
std::string_view to_string(export_format f) noexcept;
/// Accepts the names above (and "line-protocol" for influx); nullopt otherwise.
std::optional<export_format> parse_export_format(std::string_view text) noexcept;

/// What the exports know of a machine beyond its payloads: the line protocol's tags.
struct export_machine {
  std::string id;
  std::string name;
  std::string type;  ///< machine type, e.g. "compressor"
  std::string factory_id;
  std::string factory;  ///< factory name
};

/// The stream of a topic: its last level ("energy" for factory/demo/compressor-1/energy).
std::string_view stream_of_topic(std::string_view topic) noexcept;

/// `topic<TAB>payload<LF>`.
void append_tsv(std::string& out, std::string_view topic, std::string_view payload);
/// `{"topic":"...","retain":false,"payload":{...}}<LF>`: the payload is copied byte for byte.
void append_jsonl(std::string& out, std::string_view topic, std::string_view payload, bool retain);

/// The known columns of a stream's CSV file after `topic` (payload keys in the wire's order),
/// or an empty list for a stream this version does not know.
std::vector<std::string> csv_columns(std::string_view stream);
/// The file of one stream: "hour.csv" -> "hour.energy.csv"; a name not ending in ".csv" gets
/// ".<stream>.csv" appended.
std::string csv_path(std::string_view output, std::string_view stream);
/// The header line: `topic,<columns...>,extra`.
void append_csv_header(std::string& out, const std::vector<std::string>& columns);
/// One row: topic, then each column's value (absent = empty cell, a string = RFC 4180 quoted
/// when needed, an array = a PostgreSQL array literal), then `extra`: a JSON object of the
/// payload's keys that are not columns (empty when none).
void append_csv_row(std::string& out, const std::vector<std::string>& columns,
                    std::string_view topic, const std::vector<flat_field>& fields);

/// One line protocol point: measurement = the stream, tags machine_id (from the payload),
/// machine, factory, factory_id, type (from `machine`, when given; sorted by key), fields =
/// every other key (integers with an `i` suffix, strings quoted, arrays as one
/// comma-joined string), timestamp = `time` in nanoseconds. False (nothing appended) when
/// the payload has no valid `time` or no field.
bool append_line_protocol(std::string& out, std::string_view stream, const export_machine* machine,
                          const std::vector<flat_field>& fields);

/// Line protocol escaping (InfluxDB 1.x reference): measurement: comma and space; tag keys,
/// tag values and field keys: comma, equals sign and space; string field values: double
/// quote and backslash. A newline cannot be escaped in line protocol: it becomes a space.
void append_lp_measurement(std::string& out, std::string_view s);
void append_lp_key(std::string& out, std::string_view s);
void append_lp_string(std::string& out, std::string_view s);

}  // namespace factorysim::sim
