#pragma once
/// Bounded on-disk spool of batches while the database is unreachable: one file per batch
/// (`<16-digit number>.batch`, written as .tmp, fsynced, renamed, directory fsynced), so a
/// file either exists whole or not at all. Batches are replayed oldest first and removed
/// after their commit; a crash between commit and removal replays a batch twice, which the
/// unique keys make harmless. Records hold the raw topic and payload, so replay decodes with
/// the same code as live traffic.
///
/// One process at a time: the folder is locked (flock on `.lock`, which names the holder's
/// pid) for the spool's lifetime, so a second ingestor given the same folder fails at start
/// instead of overwriting batches the first one already acknowledged to the broker. The
/// folder also remembers the database its batches belong to (`target`, see spool_target), so
/// that they are never replayed into another one.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ingest/rows.hpp"

namespace factorysim::ingest {

/// One spooled message.
struct spooled_message {
  std::string topic;
  std::string payload;  ///< truncated: only its first bytes
  unix_us received_us = 0;
  /// The payload was too large to keep: `payload` is a prefix of `payload_bytes` bytes in all,
  /// whose SHA-256 is payload_sha256.
  bool truncated = false;
  std::uint64_t payload_bytes = 0;
  std::string payload_sha256{};  ///< 32 raw bytes when truncated
};

/// The database a spool's batches belong to. Empty fields are unknown (a spool begun while
/// the database was unreachable knows only what the connection string says).
struct spool_target {
  std::string system_identifier;  ///< pg_control_system(): one per PostgreSQL cluster
  std::string database;
  std::string schema;
  std::string address;  ///< host:port as the connection string names them
  /// Why `other` is not this database, or empty when they may be the same (fields unknown
  /// on either side are not compared).
  std::string mismatch(const spool_target& other) const;
  std::string to_string() const;
};

/// The spool directory. Not thread-safe: owned by the writer thread.
class spool {
 public:
  /// Creates `dir` if needed, locks it and indexes the batches left by a previous run.
  /// Throws std::runtime_error when another process holds the folder (naming its pid).
  spool(std::filesystem::path dir, std::uint64_t max_bytes);
  ~spool();
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  /// The folder.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  /// The database recorded for the batches (all fields empty: none recorded).
  const spool_target& target() const noexcept { return target_; }
  /// Records (durably) the database the batches belong to.
  void set_target(const spool_target& t);

  /// True when no batch waits.
  bool empty() const noexcept { return files_.empty(); }
  /// Batches waiting.
  std::size_t batches() const noexcept { return files_.size(); }
  /// Bytes on disk.
  std::uint64_t bytes() const noexcept { return bytes_; }
  /// True when bytes() has reached the limit: the caller stops taking messages.
  bool full() const noexcept { return bytes_ >= max_bytes_; }

  /// Appends one batch durably (fsync); throws std::system_error on I/O failure.
  void append(std::span<const spooled_message> batch);
  /// The oldest batch; nullopt when empty. Throws std::runtime_error on a corrupt file.
  std::optional<std::vector<spooled_message>> oldest() const;
  /// Removes the oldest batch (after it has been committed).
  void pop();
  /// The oldest batches together, as many whole files as fit in `max_messages` (at least
  /// one file), so that a replay catches up in large transactions; `files` says how many to
  /// pop() after the commit.
  std::vector<spooled_message> oldest_batches(std::size_t max_messages, std::size_t& files) const;
  /// Removes the `n` oldest batches.
  void pop(std::size_t n);

  /// Encodes / decodes the file format (exposed for tests; FSSPOOL1 files of earlier
  /// versions are still read).
  static std::string encode(std::span<const spooled_message> batch);
  static std::vector<spooled_message> decode(std::string_view bytes);

 private:
  std::filesystem::path dir_;
  int lock_fd_ = -1;
  spool_target target_;
  std::uint64_t max_bytes_;
  std::uint64_t bytes_ = 0;
  std::uint64_t next_number_ = 1;
  std::vector<spooled_message> read_file(std::size_t index) const;

  std::vector<std::pair<std::uint64_t, std::uint64_t>> files_;  ///< (number, size), oldest first
};

/// The default spool folder of an ingestor with this client id, outside the working
/// directory: $XDG_STATE_HOME/factorysim/spool/<client id>, else
/// $HOME/.local/state/factorysim/spool/<client id>, else /var/tmp/factorysim/spool/<client id>.
std::filesystem::path default_spool_dir(std::string_view client_id);

}  // namespace factorysim::ingest
