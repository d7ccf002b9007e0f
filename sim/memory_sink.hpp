#pragma once
/// Keeps every message in memory: for engine tests without sockets and for embedding. An
/// optional capacity makes it "full" like an MQTT window, so tests can drive back-pressure.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "sim/sink.hpp"

namespace factorysim::sim {

struct memory_message {
  std::size_t machine = 0;
  std::string topic;
  std::string payload;
  bool retain = false;
  std::int64_t scheduled_send_us = 0;  ///< set_scheduled_send_us before it (0 = never called)
};

class memory_sink final : public message_sink {
 public:
  /// capacity 0 = unbounded; otherwise ready() is false once `capacity` messages are held.
  explicit memory_sink(std::size_t capacity = 0) : capacity_(capacity) {}

  void start() override { started_ = true; }
  bool ready(std::size_t) const override {
    return capacity_ == 0 || messages_.size() < capacity_;
  }
  void publish(std::size_t machine, std::string_view topic, std::string_view payload,
               bool retain) override;
  void on_ready(std::function<void()> callback) override { on_ready_ = std::move(callback); }
  void set_scheduled_send_us(std::int64_t unix_us) override { scheduled_send_us_ = unix_us; }
  void async_shutdown(std::chrono::milliseconds, std::function<void(bool)> done) override {
    shut_down_ = true;
    done(true);
  }
  sink_counters counters() const override;

  /// Everything published so far (until take()).
  const std::vector<memory_message>& messages() const noexcept { return messages_; }
  /// Hands the messages over, empties the sink and, when it was full, calls on_ready.
  std::vector<memory_message> take();
  bool started() const noexcept { return started_; }
  bool shut_down() const noexcept { return shut_down_; }

 private:
  std::size_t capacity_;
  std::vector<memory_message> messages_;
  std::uint64_t accepted_ = 0;
  std::int64_t scheduled_send_us_ = 0;
  std::function<void()> on_ready_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace factorysim::sim
