#pragma once
/// `factorysim run --output FILE [--format F]`: every message as one line of an export format
/// (sim/export_format.hpp, docs/export.md), in publish order. TSV (`topic<TAB>payload`, the
/// default) feeds the golden and determinism tests and `factorysim replay`; CSV writes one
/// file per stream. Always ready.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sim/export_format.hpp"
#include "sim/sink.hpp"

namespace factorysim::sim {

class file_sink final : public message_sink {
 public:
  /// Opens (truncates) `path`; "-" writes to stdout. Throws std::system_error on failure.
  explicit file_sink(const std::string& path);
  /// Same, in `format`; `machines` (by machine index) gives the line protocol its tags. CSV
  /// opens one file per stream (csv_path) at once for the streams it knows, with their header,
  /// and the file of any other stream at its first message; "-" is refused for CSV
  /// (std::invalid_argument).
  file_sink(const std::string& path, export_format format, std::vector<export_machine> machines);
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

  /// The files written (one, or one per stream for CSV), in the order they were opened.
  std::vector<std::string> paths() const;

 private:
  struct output {
    std::string path;
    std::string stream;                ///< CSV: the stream of this file
    std::vector<std::string> columns;  ///< CSV: the columns after `topic`
    std::FILE* file = nullptr;
    bool owns = false;
    std::string pending;  ///< lines not yet handed to the file
  };

  output& open(const std::string& path, std::string stream);
  output* csv_output(std::string_view stream, const std::vector<flat_field>& fields);
  void write_pending(output& o);
  void close_all(bool& ok);

  export_format format_ = export_format::tsv;
  std::string base_path_;
  std::vector<export_machine> machines_;
  std::vector<std::unique_ptr<output>> outputs_;
  std::vector<flat_field> fields_;  ///< reused per message
  bool failed_ = false;
  bool closed_ = false;
  sink_counters counters_;
};

}  // namespace factorysim::sim
