#pragma once
/// libmosquitto driven by the caller's Asio loop (mosquitto_socket + loop_read/write/misc), no
/// thread of its own. Reconnects with exponential backoff; bounds the QoS>0 messages awaiting
/// their acknowledgement so that a fast producer pauses instead of growing memory.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace factorysim::sim {

struct mqtt_tls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure = false;
};

struct mqtt_options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "factorysim";
  std::string username;
  std::string password;
  std::optional<mqtt_tls> tls;
  int keepalive_s = 30;
  bool clean_session = false;  ///< keep the session so QoS>0 messages survive a reconnect
  std::string will_topic;      ///< empty = no last will
  std::string will_payload;
  int will_qos = 1;
  bool will_retain = true;
  std::size_t max_inflight = 1000;  ///< QoS>0 messages published but not yet acknowledged
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
};

struct mqtt_counters {
  std::uint64_t published = 0;       ///< accepted by publish()
  std::uint64_t acknowledged = 0;    ///< QoS>0 acknowledged by the broker (QoS 0: written)
  std::uint64_t publish_errors = 0;  ///< rejected by libmosquitto
  std::uint64_t connects = 0;
  std::uint64_t reconnects = 0;      ///< connects after the first
  std::uint64_t disconnects = 0;
};

class mqtt_client {
 public:
  mqtt_client(boost::asio::io_context& io, mqtt_options options);
  ~mqtt_client();
  mqtt_client(const mqtt_client&) = delete;
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Starts connecting; retries with backoff until connected or shut down.
  void start();

  /// Queues one message. Returns false (and queues nothing) while the in-flight window is
  /// full; wait for the on_ready callback. Messages queued while disconnected are sent after
  /// the reconnect (QoS>0) and count against the window.
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain);

  /// True when publish() would accept a message.
  bool ready() const noexcept;
  std::size_t in_flight() const noexcept;
  bool connected() const noexcept;

  /// Called (from the loop) when the window gets room again after being full, and after
  /// each (re)connect.
  void on_ready(std::function<void()> callback);

  /// Waits until every in-flight message is acknowledged or `timeout` passes, disconnects
  /// cleanly (no last will), then calls done(true if nothing was left unacknowledged).
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done);

  const mqtt_counters& counters() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace factorysim::sim
