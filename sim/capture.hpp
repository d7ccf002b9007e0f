#pragma once
/// A capture written by `factorysim run --output FILE` (the default `topic<TAB>payload` lines,
/// or `--format jsonl`), mapped read-only so that `factorysim replay` can walk it without
/// loading it: one message per line, its topic and payload as views into the file.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "machines/types.hpp"

namespace factorysim::sim {

/// One message of a capture.
struct capture_message {
  std::size_t line = 0;  ///< 1-based, for error messages
  std::string_view topic;
  std::string_view payload;    ///< the bytes to publish
  std::optional<bool> retain;  ///< jsonl records it; tsv does not
};

/// The machines of a capture, for the MQTT sessions (and their last wills) of a replay.
struct capture_machine {
  std::string topic;       ///< base topic T (the message topic without its last level)
  std::string machine_id;  ///< from the first payload under T with a machine_id
};

/// What a first pass over a capture found.
struct capture_index {
  std::size_t messages = 0;
  std::vector<capture_machine> machines;                    ///< in order of first appearance
  std::optional<machines::sim_time> first_time, last_time;  ///< of the payloads' `time`
  bool jsonl = false;
};

/// Thrown for a capture that cannot be read or has a malformed line.
class capture_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class capture_file {
 public:
  /// Maps `path` (throws capture_error when it cannot); "-" is not supported (a replay needs
  /// two passes).
  explicit capture_file(const std::string& path);
  ~capture_file();
  capture_file(const capture_file&) = delete;
  capture_file& operator=(const capture_file&) = delete;

  /// Reads the next message from `offset` on (advancing it past the line); false at the end.
  /// Empty lines are skipped. Throws capture_error (with the line number) on a malformed line.
  bool next(std::size_t& offset, std::size_t& line, capture_message& out) const;
  /// The first pass: counts, machines, time range, format. Throws capture_error.
  capture_index index() const;

  const std::string& path() const noexcept { return path_; }
  std::string_view text() const noexcept { return text_; }

 private:
  std::string path_;
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string_view text_;
  bool jsonl_ = false;
};

/// The base topic of a message topic: "factory/demo/compressor-1/energy" -> ".../compressor-1".
std::string_view base_topic(std::string_view topic) noexcept;
/// The value of the payload's top-level "time" (a fast look-up, not a full parse).
std::optional<machines::sim_time> payload_time(std::string_view payload) noexcept;

}  // namespace factorysim::sim
