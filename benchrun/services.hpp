#pragma once
/// The private services a bench run starts when the user names none: a mosquitto and a
/// PostgreSQL 15 on free loopback ports, with their files under the run's work folder
/// (PostgreSQL refuses root: as root it runs as `postgres`, as scripts/pg-local.sh does).
/// Both are direct children, so that the resource sampler finds them by pid. Both throw
/// std::runtime_error quoting their log when they cannot start.

#include <chrono>
#include <string>

#include "benchrun/process.hpp"

namespace factorysim::benchrun {

/// mosquitto on 127.0.0.1:<free port>: no persistence (a bench does not restart it), no
/// queue limits (the backlog is what we measure, not what the broker drops).
class private_broker {
 public:
  explicit private_broker(const std::string& work_dir);
  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return process_.pid(); }
  const std::string& log_file() const noexcept { return log_file_; }
  /// SIGTERM and wait.
  void stop();

 private:
  std::string log_file_;
  int port_ = 0;
  child process_;
};

/// PostgreSQL 15 (/usr/lib/postgresql/15/bin) on 127.0.0.1:<free port>, trust auth, database
/// `factorysim`; fsync off (a throw-away cluster; scripts/pg-local.sh does the same, and the
/// report's manifest says so).
class private_postgres {
 public:
  explicit private_postgres(const std::string& work_dir);
  ~private_postgres();
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;
  std::string conninfo() const;
  pid_t pid() const noexcept { return process_.pid(); }
  /// Settings that differ from a default cluster, for the manifest.
  static std::string settings();
  /// Fast shutdown and wait.
  void stop();

 private:
  std::string dir_;
  int port_ = 0;
  child process_;
};

/// "mosquitto version 2.0.11" or "unknown".
std::string mosquitto_version();

}  // namespace factorysim::benchrun
