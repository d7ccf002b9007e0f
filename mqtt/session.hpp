#pragma once
/// The one MQTT session core both client roles sit on (mqtt::publisher, mqtt::subscriber), on
/// the caller's Asio io_context: TCP or TLS, CONNECT / CONNACK with v5 properties, framing
/// with the inbound size limit enforced before a packet is buffered, keepalive, batched
/// writes, reconnect with backoff, a clean DISCONNECT. An explicit state machine, not flags:
///
///   idle -> connecting -> awaiting_connack -> connected -> (lost) -> backing_off -> connecting
///                \______________/  refused (retryable) ____/
///   any -> refused (permanent refusal: bad credentials, not authorized, protocol version)
///   any -> disconnecting -> stopped        (disconnect(): DISCONNECT after the outbox)
///   any -> stopped                          (close_now(), destruction)
///
/// The role sees packets after CONNACK and decides what they mean; the core answers
/// PINGRESP and handles CONNACK itself. Every member runs on the io_context's thread.
#include <boost/asio/io_context.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mqtt/codec.hpp"
#include "mqtt/session_options.hpp"

namespace factorysim::mqtt {

/// Where a session is; see the diagram above.
enum class session_state : std::uint8_t {
  idle,
  connecting,        ///< resolve, TCP connect, TLS handshake
  awaiting_connack,  ///< CONNECT written (or queued), no CONNACK yet
  connected,         ///< CONNACK accepted on the current connection
  backing_off,       ///< waiting to reconnect
  disconnecting,     ///< DISCONNECT queued; waiting for it to leave and the broker to close
  refused,           ///< a permanent CONNACK refusal: no more attempts
  stopped,
};
std::string_view to_string(session_state s) noexcept;

/// A PUBLISH bigger than max_inbound_packet_bytes, read past without holding it: the first
/// bytes of its body (enough for the topic, packet id and properties of any sane message),
/// its size and the SHA-256 of its payload, so that it can be kept aside as evidence.
struct oversized_publish {
  std::uint8_t flags = 0;            ///< fixed-header flags (QoS, DUP, RETAIN)
  std::size_t packet_bytes = 0;      ///< on the wire, fixed header included
  std::string_view head;             ///< the first bytes of the body (parse_publish reads it)
  std::size_t payload_bytes = 0;     ///< the whole payload
  std::array<unsigned char, 32> payload_sha256{};  ///< of the whole payload
};

/// Counters of the connection lifecycle.
struct session_counters {
  std::uint64_t connects = 0;          ///< accepted CONNACKs
  std::uint64_t reconnects = 0;        ///< accepted CONNACKs after the first
  std::uint64_t disconnects = 0;       ///< established connections that ended
  std::uint64_t connect_failures = 0;  ///< attempts that ended before an accepted CONNACK
  std::uint64_t refused = 0;           ///< CONNACKs that refused us
  std::uint64_t protocol_errors = 0;   ///< connections ended by a packet we could not accept
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

/// What a role implements. Called from the loop, never re-entrantly from the role's own call
/// into the session (writes are deferred).
class session_role {
 public:
  virtual ~session_role() = default;
  /// CONNACK accepted: the role queues what must go first (re-sends, SUBSCRIBE).
  virtual void on_connected(const connack& ack) = 0;
  /// A packet after CONNACK (not PINGRESP). Views die when the call returns unless the role
  /// keeps the read (see on_read_end). Throwing protocol_error ends the connection.
  virtual void on_packet(const packet& p) = 0;
  /// Every whole packet of one read was handed to on_packet: packet views stay valid until
  /// this returns. Return false to stop reading until session::resume_reading().
  virtual bool on_read_end() { return true; }
  /// A PUBLISH above the inbound limit; default: a protocol error.
  virtual void on_oversized(const oversized_publish& p);
  /// The outbox was moved into a write (count what left) / that write completed.
  virtual void on_write_started() {}
  virtual void on_write_done() {}
  /// The connection (or attempt) ended; the outbox and the write under way are gone.
  /// `established`: it had an accepted CONNACK.
  virtual void on_connection_lost(const std::string& why, bool established) = 0;
  /// A CONNACK refusal; `permanent`: no further attempts will be made (state refused).
  virtual void on_refused(const connack& ack, const std::string& why, bool permanent) = 0;
  /// disconnect() or close_now() finished: the session is stopped.
  virtual void on_stopped() {}
};

/// The session core; the role owns it and outlives it.
class session {
 public:
  /// Throws std::runtime_error for options it cannot use (keepalive out of range, an empty
  /// client id with a persistent session, unreadable TLS files, a bad will topic).
  session(boost::asio::io_context& io, session_options options, session_role& role);
  /// Closes the socket without DISCONNECT: the broker publishes the last will, as for a
  /// crashed process.
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Starts connecting (idle only).
  void start();
  /// Packets appended here leave with the next write; call flush_soon() after appending.
  std::string& outbox() noexcept;
  /// Writes the outbox once the current handler is done (so that everything it appends
  /// leaves in one write), or when the write under way completes.
  void flush_soon();
  /// Stops reading after the current read (backpressure) / reads again. Keepalive pings
  /// still go out; an unanswered ping is not held against the broker while paused.
  void pause_reading() noexcept;
  void resume_reading();
  /// Sends DISCONNECT after what is queued (the broker drops our last will), waits up to
  /// `linger` for the broker to close, then stops; without a connection, stops at once.
  /// role.on_stopped() follows.
  void disconnect(std::chrono::milliseconds linger);
  /// Closes at once without DISCONNECT and stops (role.on_stopped() follows).
  void close_now();

  session_state state() const noexcept;
  bool connected() const noexcept { return state() == session_state::connected; }
  /// The CONNACK of the current (or last) connection.
  const connack& last_connack() const noexcept;
  const session_options& options() const noexcept;
  const session_counters& counters() const noexcept;
  /// True while a write is under way or the outbox holds bytes.
  bool writing() const noexcept;
  /// The one reporting path: "mqtt <client_id> (<host:port>): <what>" to the error sink
  /// (default stderr). Never throws.
  void report(std::string_view what) const noexcept;
  void on_report(std::function<void(std::string_view)> sink);

 private:
  struct impl;
  // Shared so that handlers still queued in the io_context after destruction see a dead
  // weak_ptr instead of a dangling pointer.
  std::shared_ptr<impl> impl_;
};

}  // namespace factorysim::mqtt
