#pragma once
/// Everything `factorysim bench` is told (docs/bench.md); the manifest repeats it.

#include <cstdint>
#include <optional>
#include <string>

namespace factorysim::benchrun {

struct bench_options {
  std::string scenario;                  ///< resolved path of the scenario file
  std::optional<std::string> mqtt_host;  ///< with mqtt_port: the user's broker
  std::optional<int> mqtt_port;
  std::optional<std::string> db;        ///< the user's database (conninfo)
  int ingestors = 1;                    ///< > 1: an MQTT v5 shared subscription group
  bool no_ingest = false;               ///< broker-only: the reference subscriber
  bool with_reference = false;          ///< a --no-ingest run first, same load; the ratio
  std::optional<std::size_t> machines;  ///< replicas of every machine entry
  int qos = 1;
  std::optional<double> rate_per_s;  ///< constant target rate (else the scenario's profile)
  bool rate_max = false;             ///< `--rate max`: closed loop, as fast as the window allows
  std::optional<double> duration_s;  ///< with rate_per_s (default 30 s)
  std::optional<double> warmup_s;    ///< default 5 s (scenario: bench.warmup)
  bool find_max = false;
  double slo_ms = 1000;
  double step_s = 10;         ///< find-max: seconds per step
  double step_factor = 1.25;  ///< find-max: next rate = rate x factor
  int sessions = 1;           ///< simulator MQTT sessions
  int window = 10000;         ///< simulator in-flight window per session
  std::optional<std::uint64_t> seed;
  std::optional<std::string> json_file;
  std::optional<std::string> html_file;
  double drain_timeout_s = 120;  ///< after the load: wait this long for the rows
  bool stamp_send_time = true;   ///< false: run without in-band timing (its cost)
  bool keep_work_dir = false;
  bool progress = true;
  std::string factorysim_version;  ///< "factorysim 0.1.0 (commit abc)", from cli/
  std::string command_line;        ///< as typed, for the manifest
};

}  // namespace factorysim::benchrun
