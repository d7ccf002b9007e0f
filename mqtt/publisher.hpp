#pragma once
/// The publisher role on the session core, in the caller's Asio loop (no thread of its own):
/// a bounded window of messages awaiting acknowledgement, re-sent after every reconnect until
/// the broker takes them, MQTT 5 reason codes counted (a broker-side drop is a counted
/// rejection, not a silent success), the broker's Receive Maximum, Maximum Packet Size and
/// Maximum QoS respected, a permanent CONNACK refusal (bad credentials, not authorized)
/// reported at once instead of retried forever.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqtt/session_options.hpp"

namespace factorysim::mqtt {

/// A session plus the publisher's window.
struct publisher_options : session_options {
  /// Messages counted against the window (see publisher::in_flight); clamped to 1..65535.
  std::size_t max_inflight = 1000;
};

/// Running totals of one publisher.
struct publisher_counters {
  std::uint64_t published = 0;       ///< accepted by publish()
  std::uint64_t acknowledged = 0;    ///< taken by the broker (QoS 0: written)
  std::uint64_t publish_errors = 0;  ///< refused here: bad topic or QoS, too large for the broker
  std::uint64_t rejected = 0;        ///< refused by the broker: a v5 reason code >= 0x80
  std::uint64_t no_subscribers = 0;  ///< v5 0x10: taken, but nobody subscribed (included above)
  std::uint64_t dropped = 0;         ///< QoS 0 not written: published while disconnected, or
                                     ///< still unwritten when the connection dropped
  std::uint64_t connects = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t refused = 0;  ///< CONNACK refusals
  /// Broker rejections by v5 reason code, in the order first seen.
  std::vector<std::pair<int, std::uint64_t>> rejected_by_reason;
};

/// One publishing MQTT session. Every member must be called from the thread running `io`
/// (which must outlive the publisher); callbacks run from that loop, never from inside
/// publish().
class publisher {
 public:
  /// Throws std::runtime_error for unusable options (see session). Does not connect yet.
  publisher(boost::asio::io_context& io, publisher_options options);
  /// Closes without DISCONNECT (the broker publishes the last will); call async_shutdown
  /// first for a clean end.
  ~publisher();
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  /// Starts connecting; retries with backoff until connected, shut down or permanently
  /// refused.
  void start();

  /// Queues one message. Returns false (and queues nothing) while the window is full (wait
  /// for on_ready), after a permanent refusal and after async_shutdown. QoS 1/2 messages
  /// queued while disconnected go out after the reconnect; QoS 0 ones are dropped (counted,
  /// publish returns true). An invalid topic or QoS, or a message the broker announced it
  /// cannot take (Maximum Packet Size, Maximum QoS), is counted in publish_errors and
  /// reported; publish returns true (retrying cannot help). `properties`: v5 only, an encoded
  /// property list (codec.hpp: append_user_property).
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain,
               std::string_view properties = {});

  /// True when publish() would accept a message.
  bool ready() const noexcept;
  /// Messages counted against the window: QoS 1/2 not yet acknowledged (including those held
  /// while disconnected), QoS 0 not yet written.
  std::size_t in_flight() const noexcept;
  /// True between an accepted CONNACK and the loss of that connection.
  bool connected() const noexcept;

  /// Called (from the loop) when the window gets room again after being full, and after each
  /// (re)connect.
  void on_ready(std::function<void()> callback);
  /// Called (from the loop) once, when the broker refused us for good (bad credentials, not
  /// authorized, protocol version): the reason, ready for a person.
  void on_fatal(std::function<void(const std::string&)> callback);
  /// The permanent refusal, empty if none.
  const std::string& fatal_error() const noexcept;

  /// Waits until every in-flight message is acknowledged or `timeout` passes, disconnects
  /// cleanly (no last will), then calls done(true if nothing was left unacknowledged).
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done);

  /// Running totals since construction.
  const publisher_counters& counters() const noexcept;

  /// Where connection and publish errors are reported (one line each, no newline); default
  /// writes "factorysim mqtt <client_id> (<host:port>): ..." to stderr.
  void on_error(std::function<void(std::string_view)> sink);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace factorysim::mqtt
