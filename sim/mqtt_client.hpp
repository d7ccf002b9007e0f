#pragma once
/// libmosquitto driven by the caller's Asio loop (mosquitto_socket + loop_read/write/misc), no
/// thread of its own. Reconnects with exponential backoff; bounds the QoS>0 messages awaiting
/// their acknowledgement so that a fast producer pauses instead of growing memory.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace factorysim::sim {

/// TLS settings (PEM files); see mosquitto_tls_set.
struct mqtt_tls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure = false;
};

/// Everything a session needs; defaults suit a local broker.
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
  std::size_t max_inflight = 1000;  ///< window: see in_flight(); clamped to 1..65535
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
};

/// Counters of one session, for the progress line and the tests.
struct mqtt_counters {
  std::uint64_t published = 0;         ///< accepted by publish()
  std::uint64_t acknowledged = 0;      ///< QoS>0 acknowledged by the broker (QoS 0: written)
  std::uint64_t publish_errors = 0;    ///< rejected by libmosquitto
  std::uint64_t connects = 0;          ///< successful CONNACKs
  std::uint64_t reconnects = 0;        ///< connects after the first
  std::uint64_t disconnects = 0;       ///< established connections that ended (lost or shut down)
  std::uint64_t connect_failures = 0;  ///< attempts that failed (TCP refused, CONNACK refused)
  std::uint64_t refused = 0;           ///< CONNACK with a non-zero code (e.g. bad password)
  std::uint64_t dropped = 0;           ///< QoS 0 not written: published while disconnected,
                                       ///< or still unwritten when the connection dropped
};

/// One MQTT session. Every member must be called from the thread running `io` (which must
/// outlive the client); callbacks run from that loop, never from inside publish().
class mqtt_client {
 public:
  /// Configures the session (will, TLS, credentials); throws std::runtime_error on options
  /// libmosquitto rejects (e.g. an unreadable TLS file). Does not connect yet.
  mqtt_client(boost::asio::io_context& io, mqtt_options options);
  /// Closes the connection without DISCONNECT (the broker publishes the last will); call
  /// async_shutdown first for a clean end.
  ~mqtt_client();
  mqtt_client(const mqtt_client&) = delete;  ///< owns a socket and a session
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Starts connecting; retries with backoff until connected or shut down.
  void start();

  /// Queues one message. Returns false (and queues nothing) while the in-flight window is
  /// full; wait for the on_ready callback. Messages queued while disconnected are sent after
  /// the reconnect (QoS>0) and count against the window; QoS 0 messages are dropped while
  /// disconnected (counted in `dropped`, publish still returns true). An invalid topic or
  /// QoS is counted in `publish_errors` and reported; publish returns true (retrying cannot
  /// help). After async_shutdown completed, returns false.
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain);

  /// True when publish() would accept a message.
  bool ready() const noexcept;
  /// Messages counted against max_inflight: QoS>0 unacknowledged, QoS 0 unwritten, and
  /// messages held while disconnected.
  std::size_t in_flight() const noexcept;
  /// True between a successful CONNACK and the loss of that connection.
  bool connected() const noexcept;

  /// Called (from the loop) when the window gets room again after being full, and after
  /// each (re)connect.
  void on_ready(std::function<void()> callback);

  /// Waits until every in-flight message is acknowledged or `timeout` passes, disconnects
  /// cleanly (no last will), then calls done(true if nothing was left unacknowledged).
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done);

  /// Running totals since construction.
  const mqtt_counters& counters() const noexcept;

  /// Where connection and publish errors are reported (one line each, no newline); default
  /// writes "factorysim mqtt <client_id>: ..." to stderr.
  void on_error(std::function<void(std::string_view)> sink);

 private:
  struct impl;
  // Shared so that handlers still queued in the io_context after destruction see a dead
  // weak_ptr instead of a dangling pointer.
  std::shared_ptr<impl> impl_;
};

}  // namespace factorysim::sim
