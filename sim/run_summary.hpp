#pragma once
/// What a run did, as a value (`factorysim run --summary-json FILE`, docs/sizing.md): the
/// expected load computed before it started, what was published per stream, how long it took
/// and the achieved rate. The console line and the JSON file are two views of it.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/message_rate.hpp"

namespace factorysim::sim {

struct run_summary {
  std::string version;   ///< factorysim version (and commit)
  std::string scenario;  ///< its name
  std::string file;
  std::uint64_t seed = 0;
  std::string mode;
  double speed = 1;
  std::optional<std::string> from;  ///< RFC 3339
  std::optional<std::string> to;
  std::size_t machines = 0;
  std::string target;  ///< "mqtt://HOST:PORT" or "file:PATH"
  std::string format;  ///< output format (file target)
  int qos = -1;        ///< MQTT target only (-1 = none: JSON null)
  std::uint64_t sessions = 0;
  message_rate expected;
  std::vector<std::pair<std::string, std::uint64_t>> published;  ///< per stream, wire order
  double wall_s = 0;       ///< from start to the end of the final flush
  double simulated_s = 0;  ///< simulated time covered
  std::uint64_t overruns = 0;
  std::uint64_t publish_errors = 0;
  std::uint64_t reconnects = 0;
  int exit_code = 0;

  std::uint64_t published_total() const noexcept;
  /// published_total / wall_s (0 when no time passed).
  double achieved_rate_per_s() const noexcept;
};

/// The JSON document of docs/sizing.md (one object, two-space indent, fixed key order).
std::string to_json(const run_summary& s);
/// The line printed at start: the expected rate per stream, e.g.
/// "expected load: 21.3 msg/s (energy, production, environmental 7.1 each; ...)".
std::string expected_rate_line(const message_rate& r);
/// The line printed at the end: "achieved: N messages in S s wall = R msg/s ...".
std::string achieved_rate_line(const run_summary& s);

}  // namespace factorysim::sim
