#pragma once
/// Row -> binary COPY tuple for each target table. The column list is the intersection of
/// what we know how to fill and what the table really has (read from the catalog at
/// connect time), so optional columns such as `seq` or `energy_total_kwh` are written when
/// the schema has them and skipped when it does not.

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/copy_buffer.hpp"
#include "ingest/rows.hpp"

namespace factorysim::ingest {

/// One column we can fill from a Row.
template <typename Row>
struct column_def {
  std::string_view name;
  void (*put)(copy_buffer&, const Row&);
  bool required = false;  ///< the table must have it
};

/// The columns of one table that a batch writes, in COPY order.
template <typename Row>
class table_codec {
 public:
  /// `candidates` must outlive the codec (they are static tables in table_codec.cpp).
  table_codec(std::string table, std::span<const column_def<Row>> candidates)
      : table_(std::move(table)), candidates_(candidates) {
    for (const auto& c : candidates_) columns_.push_back(&c);
  }

  /// Keeps the candidates that `existing` (the table's column names) contains; throws
  /// std::runtime_error naming the table when a required column is missing.
  void select_columns(const std::vector<std::string>& existing) {
    columns_.clear();
    for (const auto& c : candidates_) {
      bool found = false;
      for (const auto& e : existing) found = found || e == c.name;
      if (found) columns_.push_back(&c);
      else if (c.required)
        throw std::runtime_error("table " + table_ + " has no column " + std::string(c.name));
    }
  }

  /// Target table name.
  const std::string& table() const noexcept { return table_; }
  /// "time, machine_id, ..." in COPY order.
  std::string column_list() const {
    std::string s;
    for (const auto* c : columns_) {
      if (!s.empty()) s += ", ";
      s += c->name;
    }
    return s;
  }
  /// Appends one tuple for `row`.
  void encode(copy_buffer& b, const Row& row) const {
    b.tuple(static_cast<std::int16_t>(columns_.size()));
    for (const auto* c : columns_) c->put(b, row);
  }

 private:
  std::string table_;
  std::span<const column_def<Row>> candidates_;
  std::vector<const column_def<Row>*> columns_;
};

/// What we store for a rejected message (ingest_rejects).
struct reject_row {
  unix_us received_at_us = 0;
  std::string topic;
  std::string payload;  ///< raw bytes (bytea); truncated: the first bytes only
  std::string reason;
  std::string detail;
  std::string payload_sha256;  ///< 32 raw bytes; empty: the database digests `payload`
  std::int64_t payload_bytes = 0;
  bool payload_truncated = false;
};

/// Candidate columns of energy_readings, production_data, environmental_data.
std::span<const column_def<energy_row>> energy_columns() noexcept;
std::span<const column_def<production_row>> production_columns() noexcept;
std::span<const column_def<environmental_row>> environmental_columns() noexcept;
/// Candidate columns of health_truth.
std::span<const column_def<truth_row>> truth_columns() noexcept;
/// Columns of mantis.sensor_data_raw (quality takes its default, 192 = good).
std::span<const column_def<narrow_row>> narrow_columns() noexcept;
/// Columns of our own staging tables for machine_status and anomalies (fixed layout).
std::span<const column_def<status_row>> status_stage_columns() noexcept;
std::span<const column_def<event_row>> event_stage_columns() noexcept;
/// Columns of our own staging table for ingest_rejects (fixed layout).
std::span<const column_def<reject_row>> reject_stage_columns() noexcept;

}  // namespace factorysim::ingest
