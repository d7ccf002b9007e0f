#pragma once
// Helpers of the ingest integration tests: a child process (factorysim ingest / run / db
// init) with its stderr in a file, and a QoS 1 publisher that waits for every PUBACK.
#include <fcntl.h>
#include <mosquitto.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/mosquitto_server.hpp"
#include "tests/support/postgres_server.hpp"

namespace factorysim::test {

/// A child process whose stdout+stderr go to a file. The destructor kills it (SIGKILL).
class child_process {
 public:
  child_process(std::vector<std::string> argv, std::filesystem::path log_file)
      : log_(std::move(log_file)) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void signal(int sig) const { ::kill(pid_, sig); }

  /// Waits for the exit; returns the exit code (128 + signal when killed), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// Waits until the log contains `text`; false on timeout.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

/// Runs a command to completion; returns its exit code and fills `output`.
inline int run_command(const std::vector<std::string>& argv, std::string& output,
                       std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  const auto log = std::filesystem::temp_directory_path() /
                   ("fs-ingest-cmd-" + std::to_string(::getpid()) + ".log");
  child_process p(argv, log);
  const int rc = p.wait(timeout);
  output = p.log();
  std::filesystem::remove(log);
  return rc;
}

/// Publishes QoS 1 messages through libmosquitto and waits until the broker acknowledged
/// every one of them.
class qos1_publisher {
 public:
  qos1_publisher(const std::string& host, int port) {
    ensure_mosquitto_lib_init();
    mosq_ = mosquitto_new(nullptr, true, this);
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
      ++static_cast<qos1_publisher*>(self)->acked_;
    });
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      if (rc == 0) static_cast<qos1_publisher*>(self)->connected_ = true;
    });
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    if (mosquitto_connect(mosq_, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS)
      throw std::runtime_error("publisher cannot connect to " + host + ":" + std::to_string(port));
    mosquitto_loop_start(mosq_);
    // Publishing before the CONNACK is handled races with libmosquitto 2.0.11's CONNACK
    // handler, which resets the send quota outside its lock and marks the messages beyond the
    // in-flight window as unsent again (sent twice if they had gone out): wait for it.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!connected_ && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!connected_) {
      mosquitto_loop_stop(mosq_, true);
      mosquitto_destroy(mosq_);
      throw std::runtime_error("publisher got no CONNACK from " + host + ":" + std::to_string(port));
    }
  }
  ~qos1_publisher() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }

  void publish(const std::string& topic, const std::string& payload) {
    const int rc = mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS)
      throw std::runtime_error(std::string("publish failed: ") + mosquitto_strerror(rc));
    ++sent_;
  }

  /// True once every published message was acknowledged.
  bool wait_acked(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (acked_ >= sent_) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  mosquitto* mosq_ = nullptr;
  std::atomic<long> acked_{0};
  std::atomic<bool> connected_{false};
  long sent_ = 0;
};

}  // namespace factorysim::test
