#pragma once
/// The SQL check after a bench run: for every machine and reading stream, the rows in the
/// database against the seq range the simulator published (1..published, the simulator's
/// per-machine totals): rows missing (lost), rows stored twice (duplicates), and seqs that
/// were never published (extra). Compared by the runner with the ingestor's own counters.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace factorysim::benchrun {

/// One (machine, stream) in the database.
struct db_stream_rows {
  std::uint64_t rows = 0;
  std::uint64_t distinct_seqs = 0;  ///< distinct seqs within 1..published
  std::uint64_t out_of_range = 0;   ///< rows whose seq is NULL or outside 1..published
};

/// Reading streams and their tables; `truth` (health_truth) only where the table exists.
std::vector<std::pair<std::string, std::string>> stream_tables();

/// Queries the database: per (machine_id, stream) rows and distinct seqs in 1..published,
/// for the streams named in `published` (machine_id, stream -> published count). Throws
/// std::runtime_error with the database's message.
std::map<std::pair<std::string, std::string>, db_stream_rows> count_rows(
    const std::string& conninfo,
    const std::map<std::pair<std::string, std::string>, std::uint64_t>& published);

/// PostgreSQL's version string and TimescaleDB's extension version ("" when absent).
std::pair<std::string, std::string> database_versions(const std::string& conninfo);

}  // namespace factorysim::benchrun
