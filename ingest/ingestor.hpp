#pragma once
/// `factorysim ingest`: MQTT (mqtt_subscriber, QoS 1, persistent session) -> decoder -> bounded
/// queue -> writer thread -> PostgreSQL (batch_writer), with an on-disk spool while the
/// database is away. By default a message is acknowledged to the broker only once its batch
/// is committed or spooled, so kill -9 loses nothing. See docs/ingest.md for the guarantees.
///
/// Threads: the subscriber's network thread decodes a whole read of messages and enqueues it;
/// one writer thread batches, commits, spools, releases the acknowledgements and replays; the
/// caller's thread prints the status line and watches the stop conditions.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "ingest/copy_writer.hpp"
#include "ingest/pg_connection.hpp"
#include "ingest/wire_decoder.hpp"
#include "mqtt/codec.hpp"
#include "mqtt/session_options.hpp"

namespace factorysim::ingest {

/// When a message is acknowledged (PUBACK) to the broker.
enum class ack_policy {
  durable,   ///< once its batch is committed or spooled: kill -9 loses nothing
  received,  ///< once it is queued in memory: kill -9 loses the queue and the batch in commit
};

/// Everything `factorysim ingest` takes on the command line.
struct ingest_options {
  std::string db;  ///< libpq conninfo or URI
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 1883;
  std::string topic = "factory/#";
  std::string group;  ///< non-empty: MQTT v5 shared subscription $share/<group>/<topic>
  mqtt::protocol mqtt_version = mqtt::protocol::v5;
  /// Unacknowledged messages the broker sends before it waits for our PUBACKs. v5: sent as
  /// Receive Maximum (1..65535; default 65535); v3.1.1: the broker's max_inflight_messages,
  /// which we cannot ask for (default 20, mosquitto's default; 0 = unlimited). A batch never
  /// waits for more messages than this (ack_policy::durable).
  std::optional<std::uint32_t> max_inflight;
  ack_policy ack = ack_policy::durable;
  std::string client_id = "factorysim-ingest";
  std::string username;
  std::string password;
  std::string credentials_file;  ///< --mqtt-credentials-file (see mqtt::load_credentials)
  std::optional<mqtt::tls_options> tls;
  int keepalive_s = 30;
  std::size_t batch_rows = 5000;               ///< flush when a batch has this many messages
  std::chrono::milliseconds flush_interval{200};  ///< ... or when its oldest is this old
  /// ... or when no message came for this long (0 = never): a broker window smaller than
  /// max_inflight must not make every few messages wait for flush_interval.
  std::chrono::milliseconds flush_idle{10};
  std::size_t queue_capacity = 0;              ///< messages; 0 = 2 x batch_rows
  /// Empty: default_spool_dir(client_id), outside the working directory.
  std::filesystem::path spool_dir;
  std::uint64_t spool_max_bytes = 1ULL << 30;
  /// false: a database that cannot be reached at start is an error (exit 1); true: start
  /// anyway and spool until it comes (--start-without-db).
  bool start_without_db = false;
  pg_session_settings db_session;  ///< timeouts and --schema
  double status_interval_s = 5;               ///< 0 = no status line
  std::uint64_t max_messages = 0;             ///< tests: stop after this many (0 = never)
  /// Stop after this long connected to the broker without a message (time disconnected does
  /// not count: a broker restart is not idleness).
  double exit_when_idle_s = 0;
  write_mode mode = write_mode::optimistic;
  decode_options decode;  ///< now_us is set per message
  /// Issue 9: serve Prometheus text at GET /metrics on this ADDR:PORT (empty = off).
  std::string metrics_listen;
  /// Issue 9: write the measurement summary (docs/ingest.md#summary-json) here at exit.
  std::filesystem::path summary_json;
};

/// Final counters of a run (also printed).
struct ingest_summary {
  std::uint64_t received = 0;
  std::uint64_t stored = 0;       ///< valid messages committed (including duplicates dropped)
  std::uint64_t inserted = 0;     ///< new rows over all tables
  std::uint64_t rejected = 0;
  std::uint64_t batches = 0;      ///< transactions committed
  std::uint64_t spooled_batches = 0;
  std::uint64_t spool_left = 0;   ///< batches still in the spool at exit
  std::uint64_t sessions_lost = 0;  ///< reconnects on which the broker had lost our session
};

/// Runs until `stop` becomes true (e.g. set by a SIGTERM handler), --max-messages or
/// --exit-when-idle-s; then stops consuming, flushes every batch (to the database or, if it
/// is away, to the spool) and returns. Throws std::runtime_error when it cannot start
/// (database unreachable without start_without_db, a spool that belongs to another
/// database, broker unreachable or refusing us, subscription refused, spool folder unusable
/// or locked by another ingestor) and when it had to stop (the broker refused us for good,
/// the writer failed).
ingest_summary run_ingest(const ingest_options& options, const std::atomic<bool>& stop,
                          std::ostream& log);

}  // namespace factorysim::ingest
