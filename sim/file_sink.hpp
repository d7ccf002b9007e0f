#pragma once
/// `factorysim run --output FILE`: one `topic<TAB>payload` line per message, in publish order.
/// Used for golden and determinism tests and by users without a broker. Always ready.

#include <cstdio>
#include <memory>
#include <string>

#include "sim/sink.hpp"

namespace factorysim::sim {

class file_sink final : public message_sink {
 public:
  /// Opens (truncates) `path`; "-" writes to stdout. Throws std::system_error on failure.
  explicit file_sink(const std::string& path);
  ~file_sink() override;
  file_sink(const file_sink&) = delete;
  file_sink& operator=(const file_sink&) = delete;

  void start() override {}
  bool ready(std::size_t) const override { return true; }
  void publish(std::size_t machine, std::string_view topic, std::string_view payload,
               bool retain) override;
  void on_ready(std::function<void()>) override {}
  /// Flushes and closes; done(false) if a write failed at any point (disk full, ...).
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) override;
  sink_counters counters() const override { return counters_; }

 private:
  std::FILE* file_ = nullptr;
  bool owns_ = false;
  bool failed_ = false;
  void write_pending();
  std::string pending_;  ///< lines not yet handed to the file
  sink_counters counters_;
};

}  // namespace factorysim::sim
