#pragma once
/// The subscriber role on the session core, on an io_context thread of its own: connects,
/// subscribes, hands every read's worth of PUBLISH packets to the caller in one call, and
/// keeps the ledger of acknowledgements owed: a message is acknowledged only once the caller
/// says it is safe (acknowledge_through), in arrival order (MQTT 4.6), many in one write.
///
/// Delivery contract: every message handed over carries a sequence number (1, 2, 3, ... over
/// the subscriber's life, across reconnects). Acknowledgements still owed when a connection
/// ends are dropped, never sent on the next connection: the broker redelivers those messages
/// under new numbers. Backpressure: on_messages returns false to stop reading until resume();
/// the broker then keeps further messages for the session. A PUBLISH above the size limit is
/// read past without being held (its first bytes, size and SHA-256 are handed over as an
/// oversized message), so a hostile peer cannot make us buffer it.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mqtt/session_options.hpp"

namespace factorysim::mqtt {

/// A session plus what to subscribe to.
struct subscriber_options : session_options {
  subscriber_options() {
    client_id = "factorysim-ingest";
    reconnect_min = std::chrono::milliseconds(1000);
    reconnect_max = std::chrono::milliseconds(10000);
    session_expiry_s = 7 * 24 * 3600;
    receive_maximum = 65535;
    read_chunk_bytes = 256 * 1024;
  }
  std::string filter = "factory/#";  ///< full filter, e.g. "$share/g/factory/#" (needs v5)
  int qos = 1;
  /// true: acknowledge a read's messages right after on_messages returned (no
  /// acknowledge_through needed); false: only through acknowledge_through().
  bool acknowledge_on_handover = false;
};

/// One received message; the views are valid during the on_messages call only.
struct message_view {
  std::string_view topic;
  std::string_view payload;     ///< oversized: only the first bytes of the payload
  std::string_view properties;  ///< v5: the encoded property list (codec: find_user_property)
  /// The RETAIN flag: a retained message the broker sent on subscribing (history, not live).
  bool retained = false;
  /// Oversized: the payload was read past, not held; payload_bytes and payload_sha256 tell
  /// what it was. payload_sha256 covers the whole PUBLISH body after the fixed header.
  bool oversized = false;
  std::size_t payload_bytes = 0;  ///< the whole payload's size (oversized or not)
  std::array<unsigned char, 32> payload_sha256{};
};

/// The subscriber's callbacks; all run on its thread.
struct subscriber_handlers {
  /// Messages of one read, in arrival order; messages[i] has sequence number first_seq + i.
  /// Must not block; return false to pause reading until resume(). Throwing ends the
  /// subscriber (see running()).
  std::function<bool(std::span<const message_view> messages, std::uint64_t first_seq)>
      on_messages;
  /// Connection events for the log ("connected", "subscribed (QoS 1)", refusals, drops).
  std::function<void(const std::string&)> on_log;
};

/// Counters (read from any thread).
struct subscriber_counters {
  std::atomic<std::uint64_t> messages{0};  ///< handed over
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> reads{0};          ///< reads that handed messages over
  std::atomic<std::uint64_t> acknowledged{0};   ///< PUBACKs (PUBRECs) written to the socket
  /// Handed over on the current connection and not yet acknowledged (a gauge).
  std::atomic<std::uint64_t> unacknowledged{0};
  /// Acknowledgements dropped because their connection ended (the broker redelivers those).
  std::atomic<std::uint64_t> dropped_acks{0};
  std::atomic<std::uint64_t> oversized{0};  ///< PUBLISH packets read past
  /// Reconnects on which the broker no longer had our session: what was queued for us
  /// meanwhile is lost (a broker restarted without persistence, an expired session).
  std::atomic<std::uint64_t> sessions_lost{0};
  std::atomic<bool> connected{false};
};

class subscriber {
 public:
  /// Throws std::runtime_error for unusable options.
  subscriber(subscriber_options options, subscriber_handlers handlers);
  /// stop(), then joins.
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  /// Starts the thread and waits for the first connection to be subscribed (or to resume a
  /// session that is), so that an unreachable broker, a refused login or a refused
  /// subscription is reported at once: throws std::runtime_error naming it. Afterwards the
  /// thread reconnects by itself.
  void start();
  /// Writes the acknowledgements released so far, then DISCONNECT (the session stays), waits
  /// for the broker to close and joins the thread. Messages not acknowledged, handed over or
  /// not, are redelivered by the broker in the next session. Idempotent.
  void stop();
  /// Releases the acknowledgement of every message numbered <= seq; thread-safe and cheap
  /// (an atomic store, and one wake-up of the thread unless one is pending). Numbers only
  /// ever grow: a lower seq than before is ignored.
  void acknowledge_through(std::uint64_t seq) noexcept;
  /// Reads again after on_messages returned false; thread-safe.
  void resume() noexcept;

  const subscriber_counters& counters() const noexcept;
  /// False once the thread ended: after stop(), a permanent refusal, a refused subscription
  /// or an on_messages that threw (see failure()).
  bool running() const noexcept;
  /// Why the subscriber stopped by itself; empty after a normal stop().
  std::string failure() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace factorysim::mqtt
