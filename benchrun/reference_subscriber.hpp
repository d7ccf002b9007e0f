#pragma once
/// The broker-only reference of `bench --no-ingest`: a plain `mosquitto_sub -q 1` (MQTT 5)
/// child that prints each message's arrival time, topic, user properties and payload; a
/// thread here reads those lines and counts messages, per (machine, stream) seq
/// accounting (lost, duplicates, reordered) and publish-to-received latency from the
/// in-band `fs-sched-us` (contract 3). Its rate is what the broker alone delivers to one
/// QoS 1 subscriber: the ceiling that end to end is compared with.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "benchrun/latency_histogram.hpp"
#include "benchrun/process.hpp"

namespace factorysim::benchrun {

/// Per (machine_id, stream) what arrived.
struct seq_accounting {
  std::uint64_t received = 0;
  std::uint64_t distinct = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;  ///< arrived after a higher seq of the same stream
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;  ///< highest seen
  std::vector<bool> seen;      ///< index = seq
  /// Records one seq; pure bookkeeping (the tests drive it directly).
  void record(std::uint64_t seq);
};

/// What one line of the subscriber says; false for a line that is not one.
struct subscriber_line {
  double received_unix_s = 0;
  std::string topic;
  std::string machine_id;
  std::string stream;
  std::uint64_t seq = 0;
  bool has_seq = false;
  double sched_us = -1;  ///< fs-sched-us, -1 when absent
};
bool parse_subscriber_line(const std::string& line, subscriber_line& out);

class reference_subscriber {
 public:
  /// Starts mosquitto_sub on `filter` and waits until it is subscribed (a probe on a topic of
  /// its own came back). Throws with its log.
  reference_subscriber(const std::string& host, int port, int qos, const std::string& filter,
                       const std::string& log_file);
  ~reference_subscriber();
  reference_subscriber(const reference_subscriber&) = delete;
  reference_subscriber& operator=(const reference_subscriber&) = delete;

  pid_t pid() const noexcept { return process_.pid(); }
  std::uint64_t received() const noexcept { return received_.load(); }
  /// Copy of the latency histogram so far.
  latency_histogram latency() const;
  /// Stops mosquitto_sub and the reader; idempotent.
  void stop();
  /// After stop(): per (machine_id, stream) accounting.
  std::map<std::pair<std::string, std::string>, seq_accounting> streams() const;

 private:
  void read_loop();
  child process_;
  std::thread reader_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> probe_seen_{false};
  mutable std::mutex mutex_;
  latency_histogram latency_;
  std::map<std::pair<std::string, std::string>, seq_accounting> streams_;
  bool stopped_ = false;
};

}  // namespace factorysim::benchrun
