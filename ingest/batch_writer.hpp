#pragma once
/// Writes one batch of decoded messages (all streams, plus rejects) in ONE transaction on one
/// libpq connection: the three time-series tables through copy_writer (optimistic: direct
/// COPY, redone through staging tables when a redelivery hits a unique key), machine_status upserts and anomalies from
/// staged COPYs, and rejects into ingest_rejects. A batch the database refuses for its data
/// (SQLSTATE class 22/23) is split in halves until the bad messages are isolated; those go
/// to ingest_rejects as `database_rejected` and the rest is stored.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ingest/copy_writer.hpp"
#include "ingest/pg_connection.hpp"
#include "ingest/spool.hpp"
#include "ingest/wire_decoder.hpp"

namespace factorysim::ingest {

/// One received message: raw bytes (for the spool and the dead-letter table) and what the
/// decoder made of them.
struct pending_message {
  std::string topic;
  std::string payload;  ///< truncated: its first bytes only (kept as evidence)
  unix_us received_us = 0;
  decode_result result;
  std::uint64_t delivery_seq = 0;  ///< the MQTT subscriber's number; 0 = replayed from the spool
  unix_us scheduled_us = 0;  ///< the fs-sched-us user property (issue 9); 0 = none
  /// The payload was too large to hold: its size and SHA-256 (32 raw bytes) stand for it.
  bool truncated = false;
  std::uint64_t payload_bytes = 0;
  std::string payload_sha256{};
};

/// Number of reject reasons (for per-reason counters).
inline constexpr std::size_t reject_reason_count =
    static_cast<std::size_t>(reject_reason::database_rejected) + 1;

/// What one write() did.
struct batch_outcome {
  std::array<std::int64_t, stream_count> messages{};  ///< valid messages per stream
  std::array<std::int64_t, stream_count> inserted{};  ///< new rows (duplicates excluded)
  std::array<std::int64_t, reject_reason_count> rejects{};
  std::int64_t transactions = 0;  ///< committed (more than 1 after a split)
  std::int64_t splits = 0;
  std::int64_t staged_retries = 0;  ///< optimistic batches redone staged (duplicates seen)
  std::int64_t mantis_rows = 0;     ///< new narrow rows of the MANTIS layer's sensor_data_raw
};

/// Options of the batch writer.
struct batch_writer_options {
  write_mode mode = write_mode::optimistic;
  pg_session_settings session;  ///< timeouts, schema
  /// A message from an unknown machine reloads the machine list at most this often.
  std::chrono::milliseconds machine_refresh_interval{1000};
};

/// Hash of a uuid (its bytes are already random enough).
struct uuid_hash {
  std::size_t operator()(const uuid_bytes& id) const noexcept;
};

/// The transactional writer. Not thread-safe: owned by the ingestor's writer thread.
class batch_writer {
 public:
  batch_writer(std::string conninfo, batch_writer_options options);
  ~batch_writer();

  /// (Re)connects, prepares the staging tables and loads the machine list; throws pg_error
  /// or std::runtime_error (schema problem).
  void connect();
  /// Drops the connection (the next write needs connect()).
  void disconnect() noexcept;
  /// True when connected.
  bool connected() const noexcept;

  /// Writes every message of the batch, committed before it returns. Messages whose
  /// machine is unknown, or that the database refuses, become rejects in place (their
  /// `result` is replaced) and are stored in ingest_rejects. Throws pg_error of kind
  /// connection or other when nothing could be committed; the batch is then unchanged in
  /// the database and may be retried whole.
  batch_outcome write(std::span<pending_message> batch);

  /// Known machines (for tests and counters).
  std::size_t known_machines() const noexcept { return machines_.size(); }
  /// The MANTIS layer's schema the writer also fills (connected() only), or empty.
  const std::string& mantis_schema() const noexcept { return mantis_schema_; }
  /// The database connected to (connected() only): which cluster, database and schema.
  spool_target identify();

 private:
  void load_machines();
  void prepare_mantis();
  const uuid_bytes& sensor_for(const uuid_bytes& machine, std::size_t key);
  void add_narrow(unix_us t, const uuid_bytes& machine, std::size_t key, double value);
  void check_machines(std::span<pending_message> batch);
  void write_split(std::span<pending_message> batch, batch_outcome& out, bool staged);
  void write_once(std::span<pending_message> batch, batch_outcome& out, bool staged);

  std::string conninfo_;
  batch_writer_options options_;
  std::unique_ptr<pg_connection> db_;
  copy_writer<energy_row> energy_;
  copy_writer<production_row> production_;
  copy_writer<environmental_row> environmental_;
  copy_writer<truth_row> truth_;
  copy_buffer rejects_buffer_;
  table_codec<reject_row> reject_codec_;
  copy_buffer status_buffer_;
  copy_buffer events_buffer_;
  table_codec<status_row> status_codec_;
  table_codec<event_row> event_codec_;
  std::unordered_set<uuid_bytes, uuid_hash> machines_;
  /// The newest energy reading per machine of the batch being written (machine_status).
  std::unordered_map<uuid_bytes, energy_row, uuid_hash> latest_;
  copy_buffer latest_buffer_;
  // The MANTIS layer (docs/mantis.md), when db init created it: narrow rows and event mapping.
  std::string mantis_schema_;
  std::unique_ptr<copy_writer<narrow_row>> narrow_;
  std::unordered_map<uuid_bytes, std::array<std::optional<uuid_bytes>, measured_keys.size()>,
                     uuid_hash>
      sensors_;
  std::vector<std::string> mantis_event_sql_;
  std::chrono::steady_clock::time_point machines_loaded_at_{};
};

}  // namespace factorysim::ingest
