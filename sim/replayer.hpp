#pragma once
/// `factorysim replay FILE` (docs/replay.md): publishes a capture through a message_sink (the
/// same MQTT sessions as `run`), at the capture's own pace, `speed` times faster, or as fast as
/// the sink accepts, with its times kept or shifted (rebased) by a fixed offset. Without
/// rebasing every payload goes out byte for byte as it was captured; with it only the values
/// of `time` and of keys ending in `_at` (`started_at`, `ended_at`, ...) change.
///
/// Runs on the caller's io_context (no thread of its own); on_finished(ok) after the flush.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/capture.hpp"
#include "sim/flat_json.hpp"
#include "sim/pacer.hpp"
#include "sim/sink.hpp"

namespace factorysim::sim {

/// Which messages are published retained.
enum class replay_retain : unsigned char {
  capture,  ///< jsonl: as recorded; tsv: topics ending in /status (as `run` publishes them)
  none,
};

struct replay_options {
  /// Capture seconds per wall second: 1 = the original pace; 0 = as fast as the sink accepts.
  double speed = 1;
  /// Added to every time value (`time`, `*_at`); none = times kept.
  std::optional<std::chrono::milliseconds> time_offset;
  replay_retain retain = replay_retain::capture;
  std::chrono::milliseconds shutdown_timeout{10000};
  /// Messages per handler before posting back to the loop (socket I/O runs in between).
  std::size_t yield_every = 256;
};

/// Counters of a replay.
struct replay_status {
  std::uint64_t published = 0;
  std::uint64_t rebased_values = 0;  ///< time values rewritten
  std::uint64_t late = 0;            ///< messages sent more than 1 s after their paced instant
  bool finished = false;
  bool ok = true;
};

/// Shifts every top-level `time` and `*_at` value of `payload` (RFC 3339 UTC as the
/// simulator writes it) by `offset` into `out`; other bytes are copied as they are. Returns
/// the number of values changed; -1 when the payload is not a flat JSON object (then `out`
/// is the payload unchanged).
int rebase_payload(std::string_view payload, std::chrono::milliseconds offset, std::string& out,
                   std::vector<flat_field>& scratch);

class replayer {
 public:
  /// The sink's machine i is index.machines[i] (its base topic); the capture and the sink
  /// must outlive the replayer.
  replayer(boost::asio::io_context& io, const capture_file& capture, const capture_index& index,
           message_sink& sink, replay_options options);
  replayer(const replayer&) = delete;
  replayer& operator=(const replayer&) = delete;

  void start();
  /// Stops publishing (SIGINT) and flushes.
  void request_stop();
  void on_finished(std::function<void(bool ok)> done) { on_finished_ = std::move(done); }
  const replay_status& status() const noexcept { return status_; }

 private:
  void pump();
  void finish();

  boost::asio::io_context& io_;
  const capture_file& capture_;
  message_sink& sink_;
  replay_options options_;
  std::unordered_map<std::string_view, std::size_t> machine_of_;
  bool jsonl_ = false;
  boost::asio::steady_timer timer_;
  std::optional<machines::sim_time> first_time_;
  std::optional<pacer> pacer_;
  pacer::wall_time last_due_{};
  std::size_t offset_ = 0;
  std::size_t line_ = 0;
  capture_message current_;
  bool have_current_ = false;
  bool waiting_ready_ = false;
  bool stopping_ = false;
  std::string rebased_;
  std::vector<flat_field> scratch_;
  replay_status status_;
  std::function<void(bool)> on_finished_;
};

}  // namespace factorysim::sim
