#pragma once
/// A QoS 1 MQTT subscriber with a persistent session, on its own thread: connects, subscribes,
/// hands every read's worth of PUBLISH packets to the caller in one call, then acknowledges
/// them with one write; keeps the connection alive and reconnects with backoff.
///
/// Delivery contract: a message is acknowledged (PUBACK) only after on_messages returned for
/// it, so a message the caller never saw is redelivered by the broker in the next session.
/// on_messages may block (backpressure): the socket is not read meanwhile and the broker
/// keeps further messages for the session.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ingest/mqtt_codec.hpp"

namespace factorysim::ingest {

/// Where and how to subscribe.
struct mqtt_subscriber_options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "factorysim-ingest";
  std::string username;
  std::string password;
  int keepalive_s = 30;
  std::string filter = "factory/#";  ///< full filter, e.g. "$share/g/factory/#" (needs v5)
  mqtt::protocol version = mqtt::protocol::v311;
  std::uint32_t session_expiry_s = 7 * 24 * 3600;  ///< v5: session kept this long offline
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{10000};
  std::chrono::milliseconds connect_timeout{10000};
};

/// One received message; the views are valid during the on_messages call only.
struct mqtt_message_view {
  std::string_view topic;
  std::string_view payload;
};

/// The subscriber's callbacks; all run on its thread.
struct mqtt_subscriber_handlers {
  /// Messages of one read, in arrival order. May block (backpressure). Throwing ends the
  /// subscriber (see running()).
  std::function<void(std::span<const mqtt_message_view>)> on_messages;
  /// Connection events for the log ("connected", "subscribed (QoS 1)", refusals, drops).
  std::function<void(const std::string&)> on_log;
};

/// Counters (read from any thread).
struct mqtt_subscriber_counters {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> reads{0};  ///< read() calls that returned data
};

class mqtt_subscriber {
 public:
  mqtt_subscriber(mqtt_subscriber_options options, mqtt_subscriber_handlers handlers);
  ~mqtt_subscriber();
  mqtt_subscriber(const mqtt_subscriber&) = delete;
  mqtt_subscriber& operator=(const mqtt_subscriber&) = delete;

  /// Makes the first connection (CONNECT + CONNACK) on the caller's thread, so that an
  /// unreachable broker or a refused login is reported at once; throws std::runtime_error
  /// then. Afterwards the subscriber thread runs, subscribes and reconnects by itself.
  void start();
  /// Sends DISCONNECT (the session stays), closes and joins the thread. Messages read but
  /// not yet handed over are not acknowledged: the broker redelivers them. Idempotent.
  void stop();

  const mqtt_subscriber_counters& counters() const noexcept { return counters_; }
  /// False once the thread ended: after stop(), or when on_messages threw (the reason is
  /// logged; what that call held is not acknowledged and comes again next session).
  bool running() const noexcept { return running_; }

 private:
  void run();
  int connect_once(std::string& error);  ///< socket fd after CONNACK, or -1 with error
  bool serve(int fd);                    ///< until the connection ends; false when stopping
  void log(const std::string& line) const;

  mqtt_subscriber_options options_;
  mqtt_subscriber_handlers handlers_;
  mqtt_subscriber_counters counters_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  int first_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  ///< pipe: stop() wakes the thread out of poll()
  // Receive buffer, used by start()'s caller thread first and by the subscriber thread after.
  std::vector<char> in_;
  std::size_t in_begin_ = 0;  ///< first byte not yet parsed
  std::size_t in_end_ = 0;    ///< end of the bytes read
  int keepalive_s_ = 0;       ///< in force for this connection (the broker may override ours)
  std::thread thread_;
};

}  // namespace factorysim::ingest
