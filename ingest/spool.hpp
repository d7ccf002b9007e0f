#pragma once
/// Bounded on-disk spool of batches while the database is unreachable: one file per batch
/// (`<16-digit number>.batch`, written as .tmp, fsynced, renamed, directory fsynced), so a
/// file either exists whole or not at all. Batches are replayed oldest first and removed
/// after their commit; a crash between commit and removal replays a batch twice, which the
/// unique keys make harmless. Records hold the raw topic and payload, so replay decodes with
/// the same code as live traffic.

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
  std::string payload;
  unix_us received_us = 0;
};

/// The spool directory. Not thread-safe: owned by the writer thread.
class spool {
 public:
  /// Creates `dir` if needed and indexes the batches left by a previous run.
  spool(std::filesystem::path dir, std::uint64_t max_bytes);

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

  /// Encodes / decodes the file format (exposed for tests).
  static std::string encode(std::span<const spooled_message> batch);
  static std::vector<spooled_message> decode(std::string_view bytes);

 private:
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
  std::uint64_t bytes_ = 0;
  std::uint64_t next_number_ = 1;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> files_;  ///< (number, size), oldest first
};

}  // namespace factorysim::ingest
