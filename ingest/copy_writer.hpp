#pragma once
/// One table's batch: rows are encoded into a binary COPY buffer as they arrive and sent with
/// one COPY when the batch is flushed. Used by both `factorysim ingest` and `loadgen`.
///
/// Ways to land the rows (write_mode; `optimistic` = direct, and staged for a batch that
/// hit a duplicate key):
///  - direct: COPY straight into the table. Fastest; a duplicate key fails the whole COPY.
///  - staged: COPY into a per-session temporary table (ON COMMIT DELETE ROWS), then
///    INSERT INTO table SELECT ... ON CONFLICT DO NOTHING, so redelivered messages leave the
///    table unchanged. What it costs is measured by bench/ingest_bench.sh (docs/ingest.md).

#include <cstdint>
#include <string>

#include "ingest/copy_buffer.hpp"
#include "ingest/pg_connection.hpp"
#include "ingest/table_codec.hpp"

namespace factorysim::ingest {

/// How a batch lands in its table.
enum class write_mode : std::uint8_t {
  direct,      ///< COPY into the table; a duplicate key fails the batch
  staged,      ///< COPY into a staging table, INSERT ... ON CONFLICT DO NOTHING
  optimistic,  ///< direct first; a batch that hits a duplicate key is redone staged
};

/// Column names of a table in the current search path (empty if there is no such table).
std::vector<std::string> table_columns(pg_connection& db, const std::string& table);

/// Rows copied and rows that were new (staged mode drops duplicates).
struct flush_result {
  std::int64_t copied = 0;
  std::int64_t inserted = 0;
};

/// A batch of rows for one table.
template <typename Row>
class copy_writer {
 public:
  /// `codec` names the table and the candidate columns.
  copy_writer(table_codec<Row> codec, write_mode mode) : codec_(std::move(codec)), mode_(mode) {}

  /// Reads the table's columns and, in staged mode, creates the session's staging table.
  /// Call after every (re)connect. Throws pg_error or std::runtime_error (missing column).
  void prepare(pg_connection& db) {
    const auto existing = table_columns(db, codec_.table());
    if (existing.empty()) throw std::runtime_error("table " + codec_.table() + " does not exist");
    codec_.select_columns(existing);
    columns_ = codec_.column_list();
    direct_copy_sql_ = "COPY " + codec_.table() + " (" + columns_ + ") FROM STDIN (FORMAT binary)";
    if (mode_ != write_mode::direct) {
      // A schema-qualified table (mantis.sensor_data_raw) gets a temp table of one name.
      stage_ = "ingest_stage_" + codec_.table();
      for (auto& ch : stage_)
        if (ch == '.' || ch == '"') ch = '_';
      db.exec("CREATE TEMP TABLE IF NOT EXISTS " + stage_ + " (LIKE " + codec_.table() +
              " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
      staged_copy_sql_ = "COPY " + stage_ + " (" + columns_ + ") FROM STDIN (FORMAT binary)";
      insert_sql_ = "INSERT INTO " + codec_.table() + " (" + columns_ + ") SELECT " + columns_ +
                    " FROM " + stage_ + " ON CONFLICT DO NOTHING";
    }
  }

  /// Appends one row to the batch.
  void add(const Row& row) {
    if (buffer_.tuples() == 0) buffer_.begin();
    codec_.encode(buffer_, row);
  }
  /// Rows in the batch.
  std::size_t rows() const noexcept { return buffer_.tuples(); }
  /// Bytes in the batch.
  std::size_t bytes() const noexcept { return buffer_.data().size(); }

  /// Sends the batch inside the caller's transaction and empties it (also on failure, so
  /// the caller can rebuild it after a split); throws pg_error.
  flush_result flush(pg_connection& db) { return flush(db, mode_ == write_mode::staged); }
  /// Same, choosing the path: staged needs a writer prepared in staged or optimistic mode.
  flush_result flush(pg_connection& db, bool staged) {
    flush_result r;
    if (buffer_.tuples() == 0) return r;
    buffer_.finish();
    struct clear_on_exit {
      copy_buffer& b;
      ~clear_on_exit() { b.clear(); }
    } guard{buffer_};
    staged = staged && mode_ != write_mode::direct;
    r.copied = db.copy_in(staged ? staged_copy_sql_ : direct_copy_sql_, buffer_.data());
    r.inserted = staged ? db.exec(insert_sql_) : r.copied;
    return r;
  }
  /// Drops the batch.
  void clear() noexcept { buffer_.clear(); }

  /// Target table and the columns written.
  const std::string& table() const noexcept { return codec_.table(); }
  const std::string& columns() const noexcept { return columns_; }

 private:
  table_codec<Row> codec_;
  write_mode mode_;
  copy_buffer buffer_;
  std::string columns_;
  std::string stage_;
  std::string direct_copy_sql_;
  std::string staged_copy_sql_;
  std::string insert_sql_;
};

}  // namespace factorysim::ingest
