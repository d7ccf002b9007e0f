#pragma once
/// Child processes of a bench run: the simulator, the ingestors and the reference subscriber
/// (this same binary, /proc/self/exe, or a tool such as mosquitto_sub), the private broker and
/// PostgreSQL. Each child gets its own process group and its output in a log file (or, for
/// the reference subscriber, a pipe); the owner signals, waits and reaps it. Nothing here
/// reads the children's output: the runner does.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace factorysim::benchrun {

/// How a child starts.
struct spawn_options {
  std::string log_file;         ///< stdout and stderr go here (appended); empty: /dev/null
  bool stdout_to_pipe = false;  ///< stdout to a pipe read through child::stdout_fd()
  bool as_postgres = false;     ///< when we are root: run as the `postgres` user
  std::string cwd;              ///< empty: /tmp (postgres may not enter ours)
};

/// Options with output to `log_file`.
inline spawn_options logging_to(std::string log_file, bool as_postgres = false,
                                bool stdout_to_pipe = false) {
  spawn_options o;
  o.log_file = std::move(log_file);
  o.as_postgres = as_postgres;
  o.stdout_to_pipe = stdout_to_pipe;
  return o;
}

/// A running child; the destructor kills (SIGKILL) and reaps one still running.
class child {
 public:
  child() = default;
  /// fork + exec; throws std::runtime_error naming argv[0] when it cannot start.
  static child spawn(const std::vector<std::string>& argv, const spawn_options& options = {});
  ~child();
  child(child&& other) noexcept;
  child& operator=(child&& other) noexcept;
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// The read end of the stdout pipe (-1 without stdout_to_pipe).
  int stdout_fd() const noexcept { return stdout_fd_; }
  /// True until the child has been reaped.
  bool running();
  /// Sends a signal to the child (not its group).
  void signal(int signal_number) const;
  /// Waits up to `timeout` for the exit; its status (128 + signal when killed), or nullopt.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// signal, wait up to `grace`, then SIGKILL; the exit status.
  int stop(int signal_number, std::chrono::milliseconds grace);
  /// The exit status once reaped.
  std::optional<int> exit_status() const noexcept { return status_; }

 private:
  void reap_blocking();
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> status_;
};

/// Runs argv to completion with its output in `log_file` (or captured and returned when
/// log_file is empty); throws std::runtime_error on a timeout (the child is killed).
struct run_result {
  int exit_code = -1;
  std::string output;
};
run_result run_to_completion(const std::vector<std::string>& argv, const spawn_options& options,
                             std::chrono::milliseconds timeout);

/// This executable (/proc/self/exe), so that `bench` starts the very `run` and `ingest` it
/// was built with.
std::string self_executable();

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
int pick_free_port();

/// True when something accepts TCP connections on host:port now.
bool tcp_accepts(const std::string& host, int port);

/// The last `max_bytes` of a file (for error messages that quote a child's log).
std::string tail_of_file(const std::string& path, std::size_t max_bytes = 2000);

/// A fresh folder /tmp/<prefix>-XXXXXX, mode 0755 (postgres must traverse it).
std::string make_work_dir(const std::string& prefix);

}  // namespace factorysim::benchrun
