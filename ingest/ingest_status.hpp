#pragma once
/// What the ingestor has done, as a plain value: the status line, the final summary (and the
/// Prometheus endpoint) are views of one snapshot, never of live counters read piecemeal.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/batch_writer.hpp"
#include "ingest/latency_histogram.hpp"
#include "ingest/stream_accounting.hpp"

namespace factorysim::ingest {

/// Totals since start, taken at one instant.
struct ingest_snapshot {
  double uptime_s = 0;
  std::uint64_t received = 0;
  std::array<std::uint64_t, stream_count> messages{};  ///< valid messages committed
  std::array<std::uint64_t, stream_count> inserted{};  ///< new rows
  std::array<std::uint64_t, reject_reason_count> rejects{};
  std::uint64_t transactions = 0;
  std::uint64_t narrow_rows = 0;  ///< new rows of the MANTIS layer's sensor_data_raw
  bool narrow = false;            ///< the database has the MANTIS layer (narrow rows written)
  std::uint64_t splits = 0;
  std::uint64_t staged_retries = 0;
  std::uint64_t spooled_batches = 0;
  std::uint64_t replayed_batches = 0;
  std::uint64_t spool_batches = 0;  ///< waiting now
  std::uint64_t spool_bytes = 0;
  std::uint64_t queued = 0;
  std::uint64_t unacknowledged = 0;
  std::uint64_t oversized = 0;      ///< read past without being held
  std::uint64_t sessions_lost = 0;
  std::uint64_t mqtt_connects = 0;
  bool db_up = false;
  bool mqtt_connected = false;

  // Issue 9, measurement (docs/ingest.md#measurement). Latencies from the fs-sched-us user
  // property (`run --stamp-send-time`); accounting from each message's seq.
  std::uint64_t stamped = 0;  ///< messages that carried fs-sched-us
  accounting_totals accounting;
  latency_histogram publish_to_received;   ///< received - fs-sched-us
  latency_histogram publish_to_committed;  ///< its batch's commit - fs-sched-us
  latency_histogram send_delay;            ///< fs-sent-us - fs-sched-us
  std::vector<stream_figures> streams;     ///< filled for the summary JSON only

  std::uint64_t total_inserted() const noexcept;
  std::uint64_t total_rejected() const noexcept;
  std::uint64_t total_stored() const noexcept;
};

/// One status line: rows/s per stream since `previous` (taken `interval_s` earlier), then
/// totals and gauges; `lag` is the commit lag part ("lag p50 0.012 s max 0.080 s" or empty).
std::string format_status_line(const ingest_snapshot& now, const ingest_snapshot& previous,
                               double interval_s, const std::string& lag);

/// The final summary line ("done: received N, stored ...").
std::string format_summary(const ingest_snapshot& s);

/// The Prometheus text exposition (format 0.0.4) of a snapshot: the counters, gauges and
/// histograms of docs/ingest.md#metrics.
std::string render_prometheus(const ingest_snapshot& s);

/// The `--summary-json` document (docs/ingest.md#summary-json), pretty-printed.
std::string render_summary_json(const ingest_snapshot& s);

}  // namespace factorysim::ingest
