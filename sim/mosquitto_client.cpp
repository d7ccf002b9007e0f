// libmosquitto (2.0) inside the caller's Asio loop, behind publish_client
// (`mqtt.client: libmosquitto`).
//
// libmosquitto offers "network loop for use in other event loops" functions: we wrap its socket
// in a posix::stream_descriptor only to be told when it is readable/writable, and let
// mosquitto_loop_read / mosquitto_loop_write / mosquitto_loop_misc do the I/O. libmosquitto
// owns (and closes) the socket, so the descriptor is always release()d, never closed by Asio,
// and it is released right after every libmosquitto call that may have closed the socket,
// before anything can open a new socket with the same number.
//
// Connecting uses mosquitto_connect_async / mosquitto_reconnect_async: a non-blocking TCP
// connect whose CONNECT packet is written by mosquitto_loop_write once the socket becomes
// writable. Only name resolution (getaddrinfo) blocks; with an IP address it does not. The
// asynchronous connect takes no MQTT 5 properties, so an MQTT 5 session has no expiry here
// (libmosquitto still re-sends unacknowledged QoS 1/2 messages after a reconnect).
//
// Durability: libmosquitto keeps every QoS>0 message it has been given in its out queue until
// the broker acknowledges it and re-sends the unacknowledged ones after a reconnect (dup flag
// set). Messages published while we are not connected are held in our own queue (part of the
// window) and handed to libmosquitto after the next CONNACK, so nothing depends on what
// mosquitto_publish does on a closed socket. QoS 0 messages are dropped while disconnected.
// MQTT 5 reason codes >= 0x80 in PUBACK/PUBREC are counted as rejections, as mqtt::publisher
// counts them.

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "mqtt/backoff.hpp"
#include "mqtt/codec.hpp"
#include "sim/publish_client.hpp"

namespace factorysim::sim {
namespace asio = boost::asio;

namespace {

void ensure_lib_init() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

/// Message ids are 16 bit; the window stays below that so that a live id is never reused.
constexpr std::size_t max_window = 65535;

enum class mid_state : std::uint8_t { qos0_unwritten, qos_acked };

}  // namespace

struct mosquitto_impl : std::enable_shared_from_this<mosquitto_impl> {
  using impl = mosquitto_impl;
  mosquitto_impl(asio::io_context& io_in, mqtt::publisher_options options_in)
      : io(io_in),
        options(std::move(options_in)),
        descriptor(io_in),
        misc_timer(io_in),
        reconnect_timer(io_in),
        shutdown_timer(io_in),
        pacing(options_in.reconnect_min, options_in.reconnect_max) {
    options.max_inflight = std::clamp<std::size_t>(options.max_inflight, 1, max_window);
  }

  ~mosquitto_impl() {
    misc_timer.cancel();
    reconnect_timer.cancel();
    shutdown_timer.cancel();
    detach_socket();
    // Closes the socket without DISCONNECT: a client that vanishes without async_shutdown
    // leaves its last will to the broker, as a crashed process would.
    if (mosq != nullptr) mosquitto_destroy(mosq);
  }

  // --- setup ------------------------------------------------------------------------------

  void create() {
    ensure_lib_init();
    mosq = mosquitto_new(options.client_id.empty() ? nullptr : options.client_id.c_str(),
                         options.clean_start, this);
    if (mosq == nullptr) {
      throw std::runtime_error("mqtt client '" + options.client_id +
                               "': mosquitto_new failed (empty client id needs clean_start)");
    }
    v5 = options.version == mqtt::protocol::v5;
    check_setup(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
                                     v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311),
                "protocol version");
    // libmosquitto's own in-flight limit (default 20) would hold messages back that our window
    // already counts; let it send as many as the window allows.
    check_setup(
        mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM,
                             static_cast<int>(std::min<std::size_t>(options.max_inflight, 65535))),
        "send maximum");
    // No TCP_NODELAY: Nagle coalesces the small PUBLISH packets of a fast producer into fewer
    // segments; with it set, backfill into a local broker ran at about half the rate.
    if (!options.username.empty()) {
      check_setup(
          mosquitto_username_pw_set(mosq, options.username.c_str(),
                                    options.password.empty() ? nullptr : options.password.c_str()),
          "username/password");
    }
    if (!options.will_topic.empty()) {
      check_setup(
          mosquitto_will_set(mosq, options.will_topic.c_str(),
                             static_cast<int>(options.will_payload.size()),
                             options.will_payload.data(), options.will_qos, options.will_retain),
          "last will");
    }
    if (options.tls) {
      const auto& tls = *options.tls;
      auto c_or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
      // No CA file: trust the system's CAs (libmosquitto needs one of cafile/capath).
      const char* ca_path = tls.ca_file.empty() ? "/etc/ssl/certs" : nullptr;
      check_setup(mosquitto_tls_set(mosq, c_or_null(tls.ca_file), ca_path, c_or_null(tls.cert_file),
                                    c_or_null(tls.key_file), nullptr),
                  "tls");
      check_setup(mosquitto_tls_insecure_set(mosq, tls.insecure), "tls insecure");
      if (!tls.server_name.empty() && tls.server_name != options.host)
        throw std::runtime_error("mqtt client '" + options.client_id +
                                 "': libmosquitto checks the broker's certificate against the "
                                 "host it connects to; mqtt.tls.server_name needs mqtt.client: "
                                 "native");
    }
    mosquitto_connect_v5_callback_set(mosq, &impl::on_connect_cb);
    mosquitto_disconnect_callback_set(mosq, &impl::on_disconnect_cb);
    mosquitto_publish_v5_callback_set(mosq, &impl::on_publish_cb);
  }

  void check_setup(int rc, const char* what) const {
    if (rc != MOSQ_ERR_SUCCESS) {
      throw std::runtime_error("mqtt client '" + options.client_id + "': " + what + ": " +
                               mosquitto_strerror(rc));
    }
  }

  /// The one reporting path for runtime errors; never throws.
  void report(std::string_view context, int rc) const {
    std::string line = "factorysim mqtt " + options.client_id + " (" + options.host + ":" +
                       std::to_string(options.port) + "): " + std::string(context);
    if (rc != MOSQ_ERR_SUCCESS) {
      line += ": ";
      line += rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
    }
    try {
      if (error_sink) {
        error_sink(line);
      } else {
        std::cerr << line << '\n';
      }
    } catch (...) {
      // A failing log sink must not take the event loop down.
    }
  }

  // --- connection -------------------------------------------------------------------------

  void start() {
    if (started || stopped || !fatal.empty()) return;
    started = true;
    arm_misc_timer();
    attempt_connect();
  }

  void attempt_connect() {
    if (stopped) return;
    int rc = first_attempt_done ? mosquitto_reconnect_async(mosq)
                                : mosquitto_connect_async(mosq, options.host.c_str(), options.port,
                                                          options.keepalive_s);
    first_attempt_done = true;
    int fd = mosquitto_socket(mosq);
    if (rc != MOSQ_ERR_SUCCESS || fd < 0) {
      ++counters.connect_failures;
      report("connect failed", rc);
      schedule_reconnect();
      return;
    }
    connecting = true;
    attach_socket(fd);
    after_io();
  }

  void schedule_reconnect() {
    if (stopped || !fatal.empty()) return;
    const auto delay = pacing.next();
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->attempt_connect();
    });
  }

  void attach_socket(int fd) {
    boost::system::error_code ec;
    descriptor.assign(fd, ec);
    if (ec) {
      report("cannot watch socket: " + ec.message(), MOSQ_ERR_SUCCESS);
      return;
    }
    attached_fd = fd;
    ++generation;
    reading = writing = false;
    arm_read();
  }

  /// Stops watching the socket without closing it (libmosquitto owns it).
  void detach_socket() {
    if (attached_fd < 0) return;
    // release() cancels the pending waits (operation_aborted) and deregisters the fd
    // without closing it.
    (void)descriptor.release();
    attached_fd = -1;
    ++generation;
    reading = writing = false;
  }

  void arm_read() {
    if (reading || attached_fd < 0) return;
    reading = true;
    descriptor.async_wait(
        asio::posix::descriptor_base::wait_read,
        [w = weak_from_this(), gen = generation](const boost::system::error_code& ec) {
          auto self = w.lock();
          if (!self || gen != self->generation) return;
          self->reading = false;
          if (ec == asio::error::operation_aborted) return;
          int rc = mosquitto_loop_read(self->mosq, 1);
          if (rc != MOSQ_ERR_SUCCESS) self->note_loop_error("read", rc);
          self->after_io();
        });
  }

  void arm_write() {
    if (writing || attached_fd < 0) return;
    writing = true;
    descriptor.async_wait(
        asio::posix::descriptor_base::wait_write,
        [w = weak_from_this(), gen = generation](const boost::system::error_code& ec) {
          auto self = w.lock();
          if (!self || gen != self->generation) return;
          self->writing = false;
          if (ec == asio::error::operation_aborted) return;
          int rc = mosquitto_loop_write(self->mosq, 1);
          if (rc != MOSQ_ERR_SUCCESS) self->note_loop_error("write", rc);
          self->after_io();
        });
  }

  void arm_misc_timer() {
    // loop_misc sends PINGREQ and notices a dead peer; it needs calling about once a second.
    const auto period =
        std::chrono::milliseconds(std::clamp(options.keepalive_s * 1000 / 2, 100, 1000));
    misc_timer.expires_after(period);
    misc_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      auto self = w.lock();
      if (!self || self->stopped) return;
      if (self->attached_fd >= 0) {
        int rc = mosquitto_loop_misc(self->mosq);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
          self->note_loop_error("keepalive", rc);
        self->after_io();
      }
      self->arm_misc_timer();
    });
  }

  void note_loop_error(const char* what, int rc) {
    last_loop_error = rc;
    last_loop_error_what = what;
  }

  /// Runs after every libmosquitto call: notices a closed socket, reacts to a CONNACK, keeps
  /// the read/write waits armed and tells the producer when the window has room again.
  void after_io() {
    if (attached_fd >= 0 && mosquitto_socket(mosq) != attached_fd) on_socket_closed();
    if (just_connected) {
      just_connected = false;
      on_connected();
    }
    if (just_refused_for_good) {
      just_refused_for_good = false;
      go_fatal();
    }
    if (attached_fd >= 0) {
      arm_read();
      if (mosquitto_want_write(mosq)) arm_write();
    }
    if (window_was_full && in_flight < options.max_inflight) {
      window_was_full = false;
      post_ready();
    }
    if (draining && in_flight == 0) finish_shutdown();
  }

  void on_connected() {
    connecting = false;
    connected = true;
    ++counters.connects;
    if (ever_connected) ++counters.reconnects;
    ever_connected = true;
    connected_since = std::chrono::steady_clock::now();
    // Messages published while we were away go out after those libmosquitto re-sends itself.
    while (!held.empty()) {
      auto& m = held.front();
      int mid = 0;
      int rc = publish_raw(&mid, m.topic.c_str(), m.payload, m.qos, m.retain, m.properties);
      if (!accepted_by_queue(rc)) {
        report("publish of held message to '" + m.topic + "' failed", rc);
        ++counters.publish_errors;
        --in_flight;
      } else {
        track_mid(mid, mid_state::qos_acked);
      }
      held.pop_front();
    }
    post_ready();
  }

  void on_socket_closed() {
    detach_socket();
    const bool was_connected = connected;
    connected = false;
    if (was_connected) {
      pacing.lasted(std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - connected_since));
      ++counters.disconnects;
      if (!stopped) report("connection lost" + loop_error_suffix(), MOSQ_ERR_SUCCESS);
    } else if (connecting) {
      ++counters.connect_failures;
      report("connect failed" + loop_error_suffix(), MOSQ_ERR_SUCCESS);
    }
    connecting = false;
    last_loop_error = MOSQ_ERR_SUCCESS;
    // QoS 0 packets not yet written were discarded with the connection.
    if (qos0_unwritten > 0) {
      std::erase_if(mids,
                    [](const auto& entry) { return entry.second == mid_state::qos0_unwritten; });
      counters.dropped += qos0_unwritten;
      in_flight -= qos0_unwritten;
      qos0_unwritten = 0;
    }
    if (disconnecting) {
      complete_shutdown();
      return;
    }
    if (!fatal.empty()) return;
    schedule_reconnect();
  }

  /// A permanent refusal: stop retrying, tell the owner once, end a pending shutdown.
  void go_fatal() {
    fatal = "connection refused: " + connack_text();
    report(fatal + "; not retrying", MOSQ_ERR_SUCCESS);
    reconnect_timer.cancel();
    misc_timer.cancel();
    if (fatal_callback)
      asio::post(io, [w = weak_from_this()] {
        auto self = w.lock();
        if (self && self->fatal_callback) self->fatal_callback(self->fatal);
      });
    if (draining || shutdown_done) {
      stopped = true;
      draining = false;
      shutdown_ok = in_flight == 0;
      complete_shutdown();
    }
  }

  std::string loop_error_suffix() const {
    if (last_loop_error == MOSQ_ERR_SUCCESS) {
      return last_connack != 0 ? ": " + connack_text() : "";
    }
    std::string s = std::string(" (") + last_loop_error_what + ": ";
    s += last_loop_error == MOSQ_ERR_ERRNO ? std::strerror(errno)
                                           : mosquitto_strerror(last_loop_error);
    if (last_connack != 0) s += ", " + connack_text();
    return s + ")";
  }

  std::string connack_text() const {
    return mqtt::connack_reason_text(last_connack, v5 ? mqtt::protocol::v5 : mqtt::protocol::v311);
  }

  // --- libmosquitto callbacks (run inside our loop_* calls) ---------------------------------

  static void on_connect_cb(struct mosquitto*, void* user, int rc, int,
                            const mosquitto_property*) {
    auto* self = static_cast<impl*>(user);
    self->last_connack = rc;
    if (rc == 0) {
      self->just_connected = true;
    } else {
      ++self->counters.refused;
      // The CONNACK refusal closes the socket in the same loop_read; after_io schedules the
      // retry, or stops for good when retrying cannot help (bad credentials, not authorized).
      if (mqtt::connack_refusal_is_permanent(
              rc, self->v5 ? mqtt::protocol::v5 : mqtt::protocol::v311))
        self->just_refused_for_good = true;
    }
  }

  static void on_disconnect_cb(struct mosquitto*, void*, int) {
    // Nothing here: after_io() notices the closed socket right after the loop_* call returns.
  }

  static void on_publish_cb(struct mosquitto*, void* user, int mid, int reason,
                            const mosquitto_property*) {
    auto* self = static_cast<impl*>(user);
    self->last_reason = reason;
    if (self->publishing && mid == self->publishing_mid) {
      // A QoS 0 message written inside mosquitto_publish itself.
      self->written_during_publish = true;
      return;
    }
    auto it = self->mids.find(mid);
    if (it == self->mids.end()) return;
    if (it->second == mid_state::qos0_unwritten) --self->qos0_unwritten;
    self->mids.erase(it);
    --self->in_flight;
    if (reason >= 0x80) {
      self->note_rejection(reason);
    } else {
      ++self->counters.acknowledged;
      if (reason == 0x10) ++self->counters.no_subscribers;
    }
  }

  void note_rejection(int reason) {
    ++counters.rejected;
    auto it = std::find_if(counters.rejected_by_reason.begin(), counters.rejected_by_reason.end(),
                           [&](const auto& r) { return r.first == reason; });
    if (it != counters.rejected_by_reason.end()) {
      ++it->second;
      return;
    }
    counters.rejected_by_reason.emplace_back(reason, 1);
    report("the broker refused a message: " + mqtt::reason_code_text(reason) +
               "; further refusals of this kind are only counted",
           MOSQ_ERR_SUCCESS);
  }

  // --- publishing ---------------------------------------------------------------------------

  static bool accepted_by_queue(int rc) {
    // For QoS>0 libmosquitto has queued the message even when the immediate write failed; it
    // is re-sent after the reconnect.
    return rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST ||
           rc == MOSQ_ERR_ERRNO;
  }

  void track_mid(int mid, mid_state state) {
    auto [it, inserted] = mids.try_emplace(mid, state);
    if (!inserted) {
      // Cannot happen while the window is below 65536; if it did, the older message's
      // acknowledgement would be counted for this one.
      report("message id " + std::to_string(mid) + " reused while in flight", MOSQ_ERR_SUCCESS);
      --in_flight;
      if (it->second == mid_state::qos0_unwritten) --qos0_unwritten;
      it->second = state;
    }
  }

  /// mosquitto_publish, or mosquitto_publish_v5 with the user properties of `encoded` (the
  /// MQTT 5 wire form mqtt::append_user_property writes: id 0x26, then two length-prefixed
  /// strings, repeated).
  int publish_raw(int* mid, const char* topic, std::string_view payload, int qos, bool retain,
                  std::string_view encoded) {
    if (encoded.empty())
      return mosquitto_publish(mosq, mid, topic, static_cast<int>(payload.size()), payload.data(),
                               qos, retain);
    mosquitto_property* props = nullptr;
    std::string name, value;
    const auto take = [&](std::string& out) {
      if (encoded.size() < 2) return false;
      const std::size_t n = (static_cast<unsigned char>(encoded[0]) << 8) |
                            static_cast<unsigned char>(encoded[1]);
      if (encoded.size() < 2 + n) return false;
      out.assign(encoded.substr(2, n));
      encoded.remove_prefix(2 + n);
      return true;
    };
    while (!encoded.empty() && encoded[0] == MQTT_PROP_USER_PROPERTY) {
      encoded.remove_prefix(1);
      if (!take(name) || !take(value)) break;
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, name.c_str(),
                                         value.c_str());
    }
    const int rc = mosquitto_publish_v5(mosq, mid, topic, static_cast<int>(payload.size()),
                                        payload.data(), qos, retain, props);
    mosquitto_property_free_all(&props);
    return rc;
  }

  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain,
               std::string_view properties = {}) {
    if (stopped || !fatal.empty()) {
      ++counters.publish_errors;
      return false;
    }
    if (in_flight >= options.max_inflight) {
      window_was_full = true;
      return false;
    }
    if (qos < 0 || qos > 2) {
      ++counters.publish_errors;
      report("publish to '" + std::string(topic) + "': qos must be 0, 1 or 2", MOSQ_ERR_SUCCESS);
      return true;
    }
    if (!connected) {
      // Checked now, so that a bad topic is not discovered only after the reconnect.
      topic_buffer.assign(topic);
      if (int rc = mosquitto_pub_topic_check(topic_buffer.c_str()); rc != MOSQ_ERR_SUCCESS) {
        ++counters.publish_errors;
        report("publish to '" + topic_buffer + "'", rc);
        return true;
      }
    }
    if (!connected) {
      ++counters.published;
      if (qos == 0) {
        ++counters.dropped;
      } else {
        held.push_back(
            {std::string(topic), std::string(payload), qos, retain, std::string(properties)});
        ++in_flight;
        if (in_flight >= options.max_inflight) window_was_full = true;
      }
      return true;
    }
    topic_buffer.assign(topic);
    publishing = true;
    publishing_mid = -1;
    written_during_publish = false;
    int rc = publish_raw(&publishing_mid, topic_buffer.c_str(), payload, qos, retain, properties);
    publishing = false;
    if (qos == 0) {
      if (rc != MOSQ_ERR_SUCCESS) {
        if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO) {
          ++counters.dropped;
        } else {
          ++counters.publish_errors;
          report("publish to '" + topic_buffer + "' failed", rc);
          return true;
        }
      } else if (written_during_publish) {
        ++counters.acknowledged;
      } else {
        ++in_flight;
        ++qos0_unwritten;
        track_mid(publishing_mid, mid_state::qos0_unwritten);
      }
    } else if (accepted_by_queue(rc)) {
      ++in_flight;
      track_mid(publishing_mid, mid_state::qos_acked);
    } else {
      ++counters.publish_errors;
      report("publish to '" + topic_buffer + "' failed", rc);
      return true;
    }
    ++counters.published;
    if (in_flight >= options.max_inflight) window_was_full = true;
    // The immediate write may have hit a full socket buffer: let the loop finish it.
    if (attached_fd >= 0 && !writing && mosquitto_want_write(mosq)) arm_write();
    return true;
  }

  void post_ready() {
    asio::post(io, [w = weak_from_this()] {
      auto self = w.lock();
      if (!self || self->stopped || !self->ready_callback) return;
      if (self->in_flight < self->options.max_inflight) self->ready_callback();
    });
  }

  // --- shutdown -----------------------------------------------------------------------------

  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
    if (stopped || draining) {
      // A second request just learns the outcome of the first.
      asio::post(io, [done = std::move(done), ok = in_flight == 0] {
        if (done) done(ok);
      });
      return;
    }
    shutdown_done = std::move(done);
    draining = true;
    shutdown_timer.expires_after(timeout);
    shutdown_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->finish_shutdown();
    });
    if (!started || !fatal.empty()) {
      finish_shutdown();
      return;
    }
    if (in_flight == 0) finish_shutdown();
  }

  /// Drained or timed out: disconnect cleanly (no last will) and stop retrying.
  void finish_shutdown() {
    if (stopped) return;
    stopped = true;
    draining = false;
    shutdown_ok = in_flight == 0;
    reconnect_timer.cancel();
    misc_timer.cancel();
    shutdown_timer.cancel();
    if (attached_fd < 0) {
      complete_shutdown();
      return;
    }
    // Also while still connecting: a CONNECT the broker has already accepted would otherwise
    // end in a keepalive timeout and a last will.
    disconnecting = true;
    int rc = mosquitto_disconnect(mosq);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) report("disconnect", rc);
    // The DISCONNECT packet may still sit in the out queue, or the library may wait for the
    // broker to close: give it a moment through the normal read/write path.
    shutdown_timer.expires_after(std::chrono::seconds(2));
    shutdown_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->complete_shutdown();
    });
    after_io();
  }

  void complete_shutdown() {
    if (shutdown_completed) return;
    shutdown_completed = true;
    disconnecting = false;
    shutdown_timer.cancel();
    detach_socket();
    connected = false;
    if (shutdown_done) {
      asio::post(io, [done = std::move(shutdown_done), ok = shutdown_ok] { done(ok); });
      shutdown_done = nullptr;
    }
  }

  struct held_message {
    std::string topic;
    std::string payload;
    int qos;
    bool retain;
    std::string properties;  ///< encoded v5 user properties (--stamp-send-time), or empty
  };

  asio::io_context& io;
  mqtt::publisher_options options;
  bool v5 = true;
  bool just_refused_for_good = false;
  int last_reason = 0;
  std::string fatal;
  std::function<void(const std::string&)> fatal_callback;
  std::chrono::steady_clock::time_point connected_since;
  struct mosquitto* mosq = nullptr;
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer misc_timer;
  asio::steady_timer reconnect_timer;
  asio::steady_timer shutdown_timer;

  int attached_fd = -1;
  std::uint64_t generation = 0;  ///< invalidates waits armed on an earlier socket
  bool reading = false;
  bool writing = false;

  bool started = false;
  bool first_attempt_done = false;
  bool connecting = false;
  bool connected = false;
  bool ever_connected = false;
  bool just_connected = false;
  int last_connack = 0;
  int last_loop_error = MOSQ_ERR_SUCCESS;
  const char* last_loop_error_what = "";

  std::size_t in_flight = 0;  ///< held + QoS>0 unacknowledged + QoS 0 unwritten
  std::size_t qos0_unwritten = 0;
  bool window_was_full = false;
  std::unordered_map<int, mid_state> mids;  ///< messages in libmosquitto's hands, by id
  std::deque<held_message> held;            ///< QoS>0 published while not connected
  std::string topic_buffer;                 ///< NUL-terminated copy of the topic for the C API
  bool publishing = false;
  int publishing_mid = -1;
  bool written_during_publish = false;

  bool draining = false;
  bool stopped = false;
  bool disconnecting = false;
  bool shutdown_completed = false;
  bool shutdown_ok = false;
  std::function<void(bool)> shutdown_done;
  std::function<void()> ready_callback;
  std::function<void(std::string_view)> error_sink;
  mqtt::publisher_counters counters;
  mqtt::backoff pacing;
};

namespace {

class mosquitto_client final : public publish_client {
 public:
  mosquitto_client(asio::io_context& io, mqtt::publisher_options o)
      : impl_(std::make_shared<mosquitto_impl>(io, std::move(o))) {
    impl_->create();
  }
  void start() override { impl_->start(); }
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain) override {
    return impl_->publish(topic, payload, qos, retain);
  }
  bool publish_with_properties(std::string_view topic, std::string_view payload, int qos,
                               bool retain, std::string_view properties) override {
    return impl_->publish(topic, payload, qos, retain, properties);
  }
  // MQTT 5 only: mqtt_sink refuses stamping over 3.1.1 before any client exists.
  bool supports_properties() const noexcept override { return true; }
  bool ready() const noexcept override {
    return !impl_->stopped && impl_->fatal.empty() &&
           impl_->in_flight < impl_->options.max_inflight;
  }
  bool connected() const noexcept override { return impl_->connected; }
  std::size_t in_flight() const noexcept override { return impl_->in_flight; }
  void on_ready(std::function<void()> callback) override {
    impl_->ready_callback = std::move(callback);
  }
  void on_fatal(std::function<void(const std::string&)> callback) override {
    impl_->fatal_callback = std::move(callback);
  }
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) override {
    impl_->async_shutdown(timeout, std::move(done));
  }
  const mqtt::publisher_counters& counters() const noexcept override { return impl_->counters; }
  void on_error(std::function<void(std::string_view)> sink) override {
    impl_->error_sink = std::move(sink);
  }

 private:
  std::shared_ptr<mosquitto_impl> impl_;
};

}  // namespace

std::unique_ptr<publish_client> make_mosquitto_client(boost::asio::io_context& io,
                                                      mqtt::publisher_options options) {
  return std::make_unique<mosquitto_client>(io, std::move(options));
}

}  // namespace factorysim::sim
