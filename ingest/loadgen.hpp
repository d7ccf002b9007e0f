#pragma once
/// `factorysim loadgen`: energy rows generated in process by the machine models
/// (scenarios::plant, backfill, no MQTT) and written through the same copy_writer as
/// `factorysim ingest`. W worker threads, each with its own connection and a disjoint slice
/// of the machines (machine index % W), so no two workers ever write the same key.

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ingest/copy_writer.hpp"

namespace factorysim::ingest {

/// Options of `factorysim loadgen`.
struct loadgen_options {
  std::string db;
  std::string scenario_file;
  std::uint64_t rows = 0;       ///< total rows to write (0 = use duration_s)
  double duration_s = 0;        ///< run this long instead (0 = use rows)
  double rate_rows_per_s = 0;   ///< total target rate; 0 = as fast as possible
  unsigned workers = 2;
  std::size_t batch_rows = 10000;
  write_mode mode = write_mode::direct;
  std::optional<unix_us> start_us;  ///< first reading's interval start; default scenario from
  /// Write MANTIS narrow rows instead (`--narrow`): each reading's 7 energy values as rows of
  /// <mantis schema>.sensor_data_raw (db init --profile enms,mantis; docs/mantis.md).
  bool narrow = false;
};

/// What a run achieved.
struct loadgen_summary {
  std::uint64_t rows = 0;
  std::uint64_t rows_inserted = 0;  ///< differs from rows only with duplicates in staged mode
  std::uint64_t batches = 0;
  double seconds = 0;
  double rows_per_s = 0;
  double commit_p50_ms = 0;  ///< time of one batch: COPY + (staged: INSERT) + COMMIT
  double commit_p99_ms = 0;
  double commit_max_ms = 0;
  std::vector<std::uint64_t> rows_per_second;  ///< committed rows in each wall-clock second
  unix_us first_time_us = 0;  ///< reading times covered, [first, last]
  unix_us last_time_us = 0;
  unsigned workers = 0;
  std::size_t batch_rows = 0;
  std::string mode;
  std::string table;
  std::string columns;
};

/// Runs the load; throws std::runtime_error (bad scenario, unknown machines in the database,
/// a failed COPY) with a message a person can act on. `stop` ends it early.
loadgen_summary run_loadgen(const loadgen_options& options, const std::atomic<bool>& stop,
                            std::ostream& log);

/// The summary as JSON (for --json and scripts).
std::string to_json(const loadgen_summary& s);

}  // namespace factorysim::ingest
