#pragma once
/// A QoS 1 MQTT subscriber with a persistent session, on its own thread: connects, subscribes,
/// hands every read's worth of PUBLISH packets to the caller in one call, acknowledges them
/// when the caller says they are safe, keeps the connection alive and reconnects with backoff.
///
/// Delivery contract: every message handed over carries a sequence number (1, 2, 3, ... over
/// the subscriber's life, across reconnects). A message is acknowledged (PUBACK) only once
/// the caller called acknowledge_through() with its number or a later one (or at once after
/// on_messages with acknowledge_on_handover). Acknowledgements go out in the order the
/// messages arrived (MQTT 3.1.1 section 4.6), many in one write. Those still pending when a
/// connection ends are dropped, never sent on the next connection: the broker redelivers
/// those messages, under new numbers. on_messages may block (backpressure): the socket is
/// not read meanwhile and the broker keeps further messages for the session.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mqtt/codec.hpp"

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
  /// v5: Receive Maximum, how many unacknowledged messages the broker may send us (0 = not
  /// sent; mosquitto 2.0.11 then allows its max_inflight_messages, 20 by default).
  std::uint16_t receive_maximum = 65535;
  /// true: acknowledge a read's messages right after on_messages returned (no
  /// acknowledge_through needed); false: only through acknowledge_through().
  bool acknowledge_on_handover = false;
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
  /// Messages of one read, in arrival order; messages[i] has sequence number first_seq + i.
  /// May block (backpressure). Throwing ends the subscriber (see running()).
  std::function<void(std::span<const mqtt_message_view> messages, std::uint64_t first_seq)>
      on_messages;
  /// Connection events for the log ("connected", "subscribed (QoS 1)", refusals, drops).
  std::function<void(const std::string&)> on_log;
};

/// Counters (read from any thread).
struct mqtt_subscriber_counters {
  std::atomic<std::uint64_t> messages{0};  ///< handed over
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> reads{0};  ///< read() calls that returned data
  std::atomic<std::uint64_t> acknowledged{0};  ///< PUBACKs (PUBRECs) written to the socket
  /// Handed over on the current connection and not yet acknowledged (a gauge).
  std::atomic<std::uint64_t> unacknowledged{0};
  /// Acknowledgements dropped because their connection ended (the broker redelivers those).
  std::atomic<std::uint64_t> dropped_acks{0};
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
  /// Writes the acknowledgements released so far (by acknowledge_through), then DISCONNECT
  /// (the session stays), closes and joins the thread. Messages not acknowledged, handed over
  /// or not, are redelivered by the broker in the next session. Idempotent.
  void stop();
  /// Releases the acknowledgement of every message numbered <= seq; thread-safe, cheap (an
  /// atomic store, and one wake-up of the subscriber thread unless one is already pending).
  /// The subscriber thread writes the PUBACKs of the current connection in one write; those
  /// of earlier connections are gone (see the class comment). Numbers only ever grow: a
  /// lower seq than before is ignored.
  void acknowledge_through(std::uint64_t seq) noexcept;

  const mqtt_subscriber_counters& counters() const noexcept { return counters_; }
  /// False once the thread ended: after stop(), or when on_messages threw (the reason is
  /// logged; what that call held is not acknowledged and comes again next session).
  bool running() const noexcept { return running_; }

 private:
  void run();
  int connect_once(std::string& error);  ///< socket fd after CONNACK, or -1 with error
  bool serve(int fd);                    ///< until the connection ends; false when stopping
  void release_acks(std::string& out);   ///< appends the PUBACKs released so far
  void drop_pending_acks();              ///< the connection ended: forget its acknowledgements
  void log(const std::string& line) const;

  /// A message handed over on the current connection and waiting for acknowledge_through.
  struct pending_ack {
    std::uint64_t seq;
    std::uint16_t packet_id;
    mqtt::packet_type type;  ///< puback (QoS 1) or pubrec (QoS 2)
  };

  mqtt_subscriber_options options_;
  mqtt_subscriber_handlers handlers_;
  mqtt_subscriber_counters counters_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  int first_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  ///< pipe: stop() wakes the thread out of poll()
  int ack_fd_ = -1;            ///< eventfd: acknowledge_through() wakes the thread
  std::atomic<std::uint64_t> acked_through_{0};
  std::atomic<bool> ack_wake_pending_{false};  ///< ack_fd_ written and not yet drained
  std::uint64_t next_seq_ = 1;                 ///< subscriber thread only
  std::deque<pending_ack> pending_;            ///< subscriber thread only; arrival order
  // Receive buffer, used by start()'s caller thread first and by the subscriber thread after.
  std::vector<char> in_;
  std::size_t in_begin_ = 0;  ///< first byte not yet parsed
  std::size_t in_end_ = 0;    ///< end of the bytes read
  int keepalive_s_ = 0;       ///< in force for this connection (the broker may override ours)
  std::thread thread_;
};

}  // namespace factorysim::ingest
