// An MQTT 3.1.1 publisher of our own inside the caller's Asio loop.
//
// Why not libmosquitto (which this file wrapped until the end-to-end benchmark measured it):
// at 40,000 messages/s libmosquitto 2.0.11 wrote each PUBLISH with its own send(), woke its
// loop through a socketpair byte per publish, read each PUBACK with three read() calls and
// walked the session's whole in-flight list for every PUBACK. Here publish() only encodes the
// packet into a buffer; whatever the loop's current handler publishes leaves in one write,
// and PUBACKs are read 64 KiB at a time. The wire format lives in mqtt/codec (pure, tested
// without sockets); this file owns the socket, the session state and the timers.
//
// Durability: every QoS>0 message stays in `pending_` (its encoded PUBLISH) from publish()
// until the broker's PUBACK / PUBCOMP, across reconnects: after each CONNACK everything still
// pending is written again in publish order (DUP set if it had been written before), as
// MQTT 3.1.1 section 4.4 asks. Messages published while not connected simply wait there.
// QoS 0 messages are written when connected and dropped (counted) otherwise, or when the
// connection ends before they were written.
//
// Every asynchronous handler holds the connection it was started on (a shared_ptr, so a TLS
// stream outlives its pending operations) and a weak_ptr to the client plus the connection's
// generation: a handler of a connection that has since been closed does nothing.

#include "sim/mqtt_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mqtt/codec.hpp"

namespace factorysim::sim {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

/// Packet ids are 16 bit (0 is not one): the window stays below that so that a live id is
/// never reused.
constexpr std::size_t max_window = 65535;

/// Reads this much at a time: a full read holds ~16,000 PUBACKs.
constexpr std::size_t read_chunk = 64 * 1024;

/// Where a QoS>0 message is in its handshake.
enum class stage : std::uint8_t { await_puback, await_pubrec, await_pubcomp, done };

/// One message between publish() and its final acknowledgement.
struct pending_message {
  std::uint16_t packet_id = 0;
  stage state = stage::await_puback;
  bool written = false;  ///< sent at least once: a re-send carries DUP
  std::string packet;    ///< the encoded PUBLISH
};

/// The socket of one connection attempt, plain or TLS.
struct connection {
  connection(asio::io_context& io, ssl::context* tls_context) {
    if (tls_context != nullptr) {
      tls.emplace(io, *tls_context);
    } else {
      plain.emplace(io);
    }
  }
  tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }

  template <class Buffers, class Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    if (tls) {
      asio::async_write(*tls, buffers, std::forward<Handler>(handler));
    } else {
      asio::async_write(*plain, buffers, std::forward<Handler>(handler));
    }
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls) {
      tls->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  bool established = false;  ///< TCP (and TLS) up, CONNECT queued: packets may follow it
  // The buffers of the operations under way live here, not in the client: a TLS operation
  // still copies into or out of them after the client is gone and the socket closed.
  std::string out;  ///< the bytes of the write under way
  std::vector<char> in = std::vector<char>(read_chunk);
  std::size_t in_begin = 0;  ///< first byte not yet parsed
  std::size_t in_end = 0;    ///< end of the bytes read
};

}  // namespace

struct mqtt_client::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_in, mqtt_options options_in)
      : io(io_in),
        options(std::move(options_in)),
        resolver(io_in),
        tick_timer(io_in),
        reconnect_timer(io_in),
        shutdown_timer(io_in) {
    options.max_inflight = std::clamp<std::size_t>(options.max_inflight, 1, max_window);
    backoff = options.reconnect_min;
    if (options.client_id.empty() && !options.clean_session) {
      throw std::runtime_error(
          "mqtt client: an empty client id needs clean_session (the broker cannot keep a "
          "session for a client it cannot name)");
    }
    if (options.keepalive_s < 0 || options.keepalive_s > 65535) {
      throw std::runtime_error("mqtt client '" + options.client_id +
                               "': keepalive must be 0..65535 s, got " +
                               std::to_string(options.keepalive_s));
    }
    if (!options.will_topic.empty()) {
      if (auto e = mqtt::publish_topic_error(options.will_topic); !e.empty())
        throw std::runtime_error("mqtt client '" + options.client_id + "': last will: " + e);
      if (options.will_qos < 0 || options.will_qos > 2)
        throw std::runtime_error("mqtt client '" + options.client_id +
                                 "': last will: qos must be 0, 1 or 2");
    }
    if (options.tls) setup_tls(*options.tls);
  }

  ~impl() {
    tick_timer.cancel();
    reconnect_timer.cancel();
    shutdown_timer.cancel();
    resolver.cancel();
    // Closes the socket without DISCONNECT: a client that vanishes without async_shutdown
    // leaves its last will to the broker, as a crashed process would.
    if (conn) {
      boost::system::error_code ignored;
      conn->lowest().close(ignored);
    }
  }

  // --- setup ------------------------------------------------------------------------------

  void setup_tls(const mqtt_tls& tls) {
    auto fail = [&](const char* what, const std::string& file,
                    const boost::system::error_code& ec) {
      throw std::runtime_error("mqtt client '" + options.client_id + "': tls: " + what +
                               (file.empty() ? "" : " '" + file + "'") + ": " + ec.message());
    };
    tls_context.emplace(ssl::context::tls_client);
    boost::system::error_code ec;
    tls_context->set_verify_mode(ssl::verify_peer, ec);
    // No CA file: trust the system's CAs.
    if (tls.ca_file.empty()) {
      tls_context->set_default_verify_paths(ec);
      if (ec) fail("system CA paths", "", ec);
    } else {
      tls_context->load_verify_file(tls.ca_file, ec);
      if (ec) fail("CA file", tls.ca_file, ec);
    }
    if (!tls.cert_file.empty()) {
      tls_context->use_certificate_chain_file(tls.cert_file, ec);
      if (ec) fail("certificate file", tls.cert_file, ec);
    }
    if (!tls.key_file.empty()) {
      tls_context->use_private_key_file(tls.key_file, ssl::context::pem, ec);
      if (ec) fail("key file", tls.key_file, ec);
    }
  }

  /// The one reporting path for runtime errors; never throws.
  void report(std::string_view context) const {
    try {
      std::string line = "factorysim mqtt " + options.client_id + " (" + options.host + ":" +
                         std::to_string(options.port) + "): " + std::string(context);
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
    if (started || stopped) return;
    started = true;
    arm_tick();
    attempt_connect();
  }

  /// Handler guard: the client still exists and `gen` is the current connection's.
  template <class F>
  auto guarded(F&& f) {
    return [w = weak_from_this(), gen = generation, c = conn,
            f = std::forward<F>(f)](auto&&... args) mutable {
      auto self = w.lock();
      if (!self || gen != self->generation) return;
      f(*self, std::forward<decltype(args)>(args)...);
    };
  }

  void attempt_connect() {
    if (stopped || conn) return;
    ++generation;
    conn = std::make_shared<connection>(io, tls_context ? &*tls_context : nullptr);
    connecting = true;
    attempt_started = clock_type::now();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (!ec) {
      const std::array<tcp::endpoint, 1> endpoints{tcp::endpoint(address, port())};
      asio::async_connect(conn->lowest(), endpoints,
                          guarded([](impl& self, const boost::system::error_code& e,
                                     const tcp::endpoint&) { self.on_tcp_connected(e); }));
      return;
    }
    resolver.async_resolve(
        options.host, std::to_string(options.port),
        guarded([](impl& self, const boost::system::error_code& e,
                   const tcp::resolver::results_type& results) {
          if (e) {
            self.close_connection("cannot resolve '" + self.options.host + "': " + e.message());
            return;
          }
          asio::async_connect(self.conn->lowest(), results,
                              self.guarded([](impl& s, const boost::system::error_code& e2,
                                              const tcp::endpoint&) { s.on_tcp_connected(e2); }));
        }));
  }

  unsigned short port() const { return static_cast<unsigned short>(options.port); }

  void on_tcp_connected(const boost::system::error_code& ec) {
    if (ec) {
      close_connection(ec.message());
      return;
    }
    // No TCP_NODELAY: Nagle lets a trickle of small PUBLISH packets share segments; a busy
    // publisher's writes are large anyway.
    if (!conn->tls) {
      send_connect();
      return;
    }
    auto& stream = *conn->tls;
    if (!options.tls->insecure) {
      stream.set_verify_callback(ssl::host_name_verification(options.host));
    }
    boost::system::error_code not_ip;
    (void)asio::ip::make_address(options.host, not_ip);
    if (not_ip) {
      // SNI, for brokers behind a TLS-terminating proxy; not for IP addresses (RFC 6066).
      SSL_set_tlsext_host_name(stream.native_handle(), options.host.c_str());
    }
    stream.async_handshake(ssl::stream_base::client,
                           guarded([](impl& self, const boost::system::error_code& e) {
                             if (e) {
                               self.close_connection("TLS handshake: " + e.message());
                               return;
                             }
                             self.send_connect();
                           }));
  }

  void send_connect() {
    mqtt::connect_options c;
    c.version = mqtt::protocol::v311;
    c.client_id = options.client_id;
    c.clean_start = options.clean_session;
    c.keepalive_s = static_cast<std::uint16_t>(options.keepalive_s);
    c.username = options.username;
    c.password = options.password;
    c.will_topic = options.will_topic;
    c.will_payload = options.will_payload;
    c.will_qos = options.will_qos;
    c.will_retain = options.will_retain;
    out_pending.clear();
    mqtt::encode_connect(out_pending, c);
    conn->established = true;
    last_in = last_out = clock_type::now();
    start_read();
    flush();
  }

  void on_connack(const mqtt::packet& p) {
    const auto ack = mqtt::parse_connack(p, mqtt::protocol::v311);
    if (ack.reason != 0) {
      ++counters.refused;
      close_connection("connection refused: " +
                       mqtt::connack_reason_text(ack.reason, mqtt::protocol::v311));
      return;
    }
    connecting = false;
    connected = true;
    ++counters.connects;
    if (ever_connected) ++counters.reconnects;
    ever_connected = true;
    backoff = options.reconnect_min;
    // Everything not yet acknowledged goes out again, in publish order, before anything new.
    for (auto& m : pending_) {
      if (m.state == stage::done) continue;
      if (m.state == stage::await_pubcomp) {
        mqtt::encode_ack(out_pending, mqtt::packet_type::pubrel, m.packet_id);
        continue;
      }
      if (m.written) mqtt::set_dup(m.packet[0]);
      m.written = true;
      out_pending += m.packet;
    }
    flush();
    post_ready();
  }

  /// Ends the current connection (or attempt): counts and reports why, drops the QoS 0
  /// messages it had not written, and either retries or completes a shutdown.
  void close_connection(const std::string& why) {
    if (!conn) return;
    boost::system::error_code ignored;
    conn->lowest().close(ignored);
    conn.reset();
    ++generation;  // handlers of this connection see they are stale
    resolver.cancel();
    writing = false;
    out_pending.clear();
    ping_outstanding = false;
    const std::size_t lost_qos0 = qos0_pending + qos0_writing;
    qos0_pending = qos0_writing = 0;
    counters.dropped += lost_qos0;
    in_flight -= lost_qos0;
    const bool was_connected = connected;
    connected = false;
    if (was_connected) {
      ++counters.disconnects;
      if (!stopped) report("connection lost: " + why);
    } else if (connecting) {
      ++counters.connect_failures;
      if (!stopped) report("connect failed: " + why);
    }
    connecting = false;
    if (stopped) {
      complete_shutdown();
      return;
    }
    schedule_reconnect();
    after_progress();
  }

  void schedule_reconnect() {
    if (stopped) return;
    const auto delay = backoff;
    backoff = std::min(backoff * 2, options.reconnect_max);
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->attempt_connect();
    });
  }

  /// Keepalive and connect timeout, checked about once a second.
  void arm_tick() {
    const auto period =
        std::chrono::milliseconds(std::clamp(options.keepalive_s * 1000 / 2, 100, 1000));
    tick_timer.expires_after(period);
    tick_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      auto self = w.lock();
      if (!self || self->stopped) return;
      self->on_tick();
      self->arm_tick();
    });
  }

  void on_tick() {
    if (!conn) return;
    const auto now = clock_type::now();
    const auto keepalive = std::chrono::seconds(options.keepalive_s);
    if (!connected) {
      // A broker that accepts TCP but never answers CONNECT (or a TLS peer that stalls).
      const auto limit = std::max<clock_type::duration>(keepalive, std::chrono::seconds(10));
      if (now - attempt_started >= limit) close_connection("no CONNACK in time");
      return;
    }
    if (options.keepalive_s == 0) return;
    // As libmosquitto: ping when nothing went out or nothing came in for a keepalive period;
    // a ping unanswered for another period means the broker (or the path) is gone, even
    // though TCP still looks up.
    if (now - last_out < keepalive && now - last_in < keepalive) return;
    if (!ping_outstanding) {
      ping_outstanding = true;
      ping_sent = now;
      mqtt::encode_pingreq(out_pending);
      flush();
    } else if (now - ping_sent >= keepalive) {
      close_connection("keepalive: no answer from the broker in " +
                       std::to_string(options.keepalive_s) + " s");
    }
  }

  // --- writing ------------------------------------------------------------------------------

  /// Writes what has been queued unless a write is under way (its completion calls flush
  /// again). Deferred through the loop when called from publish(), so that everything the
  /// current handler publishes leaves in one write.
  void schedule_flush() {
    if (flush_posted || writing) return;
    flush_posted = true;
    asio::post(io, [w = weak_from_this()] {
      auto self = w.lock();
      if (!self) return;
      self->flush_posted = false;
      self->flush();
    });
  }

  void flush() {
    if (writing || !conn || !conn->established || out_pending.empty()) return;
    writing = true;
    conn->out.swap(out_pending);
    qos0_writing = qos0_pending;
    qos0_pending = 0;
    conn->async_write(asio::buffer(conn->out),
                      guarded([](impl& self, const boost::system::error_code& ec, std::size_t) {
                        self.on_written(ec);
                      }));
  }

  void on_written(const boost::system::error_code& ec) {
    writing = false;
    if (ec) {
      close_connection("write: " + ec.message());
      return;
    }
    last_out = clock_type::now();
    counters.acknowledged += qos0_writing;
    in_flight -= qos0_writing;
    qos0_writing = 0;
    conn->out.clear();
    if (disconnecting && out_pending.empty()) {
      // DISCONNECT is out: the broker drops the session's will. Closing now is clean.
      close_connection("disconnected");
      return;
    }
    flush();
    after_progress();
  }

  // --- reading ------------------------------------------------------------------------------

  void start_read() {
    auto& c = *conn;
    if (c.in_end == c.in.size()) {
      // Compact: a partial packet moves to the front; a packet bigger than the buffer grows it.
      if (c.in_begin > 0) {
        std::copy(c.in.begin() + static_cast<std::ptrdiff_t>(c.in_begin),
                  c.in.begin() + static_cast<std::ptrdiff_t>(c.in_end), c.in.begin());
        c.in_end -= c.in_begin;
        c.in_begin = 0;
      } else {
        c.in.resize(c.in.size() * 2);
      }
    }
    c.async_read_some(asio::buffer(c.in.data() + c.in_end, c.in.size() - c.in_end),
                      guarded([](impl& self, const boost::system::error_code& ec, std::size_t n) {
                        self.on_read(ec, n);
                      }));
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec) {
      close_connection(ec == asio::error::eof ? std::string("closed by the broker")
                                              : "read: " + ec.message());
      return;
    }
    // Held here: a packet may end the connection (and drop the client's reference) mid-loop.
    const auto c = conn;
    c->in_end += n;
    last_in = clock_type::now();
    const auto gen = generation;
    try {
      while (c->in_begin < c->in_end) {
        std::size_t used = 0;
        // 1 MiB: a publisher only ever receives small acknowledgements.
        auto p =
            mqtt::next_packet(std::string_view(c->in.data() + c->in_begin, c->in_end - c->in_begin),
                              used, 1024 * 1024);
        if (!p) break;
        c->in_begin += used;
        on_packet(*p);
        if (gen != generation) return;  // the packet ended the connection
      }
    } catch (const mqtt::protocol_error& e) {
      close_connection(std::string("protocol error: ") + e.what());
      return;
    }
    if (c->in_begin == c->in_end) c->in_begin = c->in_end = 0;
    after_progress();
    if (gen == generation) start_read();
  }

  void on_packet(const mqtt::packet& p) {
    using mqtt::packet_type;
    if (!connected && p.type != packet_type::connack) {
      throw mqtt::protocol_error("packet before CONNACK");
    }
    switch (p.type) {
      case packet_type::connack:
        if (connected) throw mqtt::protocol_error("second CONNACK");
        on_connack(p);
        return;
      case packet_type::puback:
        finish(mqtt::parse_packet_id(p), stage::await_puback);
        return;
      case packet_type::pubrec: {
        const auto id = mqtt::parse_packet_id(p);
        if (auto* m = find_pending(id); m != nullptr && m->state == stage::await_pubrec)
          m->state = stage::await_pubcomp;
        // Answered even for an id we do not know (a PUBREC of an earlier session), so that
        // the broker can finish it.
        mqtt::encode_ack(out_pending, packet_type::pubrel, id);
        flush();
        return;
      }
      case packet_type::pubcomp:
        finish(mqtt::parse_packet_id(p), stage::await_pubcomp);
        return;
      case packet_type::pingresp:
        ping_outstanding = false;
        return;
      default:
        throw mqtt::protocol_error("unexpected packet type " +
                                   std::to_string(static_cast<int>(p.type)) + " for a publisher");
    }
  }

  /// The message with this id, if still pending. The broker acknowledges in order, so it is
  /// nearly always the first one that is not done.
  pending_message* find_pending(std::uint16_t id) {
    for (auto& m : pending_) {
      if (m.packet_id == id && m.state != stage::done) return &m;
    }
    return nullptr;
  }

  void finish(std::uint16_t id, stage expected) {
    auto* m = find_pending(id);
    // An acknowledgement for something not pending (a duplicate PUBACK after a re-send):
    // nothing to do.
    if (m == nullptr || m->state != expected) return;
    m->state = stage::done;
    std::string().swap(m->packet);
    --in_flight;
    ++counters.acknowledged;
    // Done messages leave from the front at once, so that the next in-order acknowledgement
    // finds its message first in line.
    while (!pending_.empty() && pending_.front().state == stage::done) pending_.pop_front();
  }

  // --- publishing ---------------------------------------------------------------------------

  std::uint16_t next_packet_id() {
    // pending_ holds consecutive ids in publish order and is shorter than 65535, so the next
    // id after the newest is never one still in use.
    next_id = next_id == 65535 ? 1 : static_cast<std::uint16_t>(next_id + 1);
    return next_id;
  }

  bool window_full() const noexcept {
    return in_flight >= options.max_inflight || pending_.size() >= max_window;
  }

  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
    if (stopped) {
      ++counters.publish_errors;
      return false;
    }
    if (window_full()) {
      window_was_full = true;
      return false;
    }
    if (qos < 0 || qos > 2) {
      ++counters.publish_errors;
      report("publish to '" + std::string(topic) + "': qos must be 0, 1 or 2");
      return true;
    }
    if (auto e = mqtt::publish_topic_error(topic); !e.empty()) {
      ++counters.publish_errors;
      report("publish to '" + std::string(topic) + "': " + e);
      return true;
    }
    ++counters.published;
    if (qos == 0) {
      if (!connected) {
        ++counters.dropped;
        return true;
      }
      mqtt::encode_publish(out_pending, mqtt::protocol::v311, topic, payload, 0, retain, 0);
      ++qos0_pending;
      ++in_flight;
    } else {
      auto& m = pending_.emplace_back();
      m.packet_id = next_packet_id();
      m.state = qos == 1 ? stage::await_puback : stage::await_pubrec;
      mqtt::encode_publish(m.packet, mqtt::protocol::v311, topic, payload, qos, retain,
                           m.packet_id);
      ++in_flight;
      if (connected) {
        m.written = true;
        out_pending += m.packet;
      }
    }
    if (connected) schedule_flush();
    if (window_full()) window_was_full = true;
    return true;
  }

  /// After acknowledgements or a written buffer: tell the producer about room in the window,
  /// and finish a drain that has nothing left.
  void after_progress() {
    if (window_was_full && !window_full()) {
      window_was_full = false;
      post_ready();
    }
    if (draining && in_flight == 0) finish_shutdown();
  }

  void post_ready() {
    asio::post(io, [w = weak_from_this()] {
      auto self = w.lock();
      if (!self || self->stopped || !self->ready_callback) return;
      if (!self->window_full()) self->ready_callback();
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
    if (!started || in_flight == 0) finish_shutdown();
  }

  /// Drained or timed out: disconnect cleanly (no last will) and stop retrying.
  void finish_shutdown() {
    if (stopped) return;
    stopped = true;
    draining = false;
    shutdown_ok = in_flight == 0;
    reconnect_timer.cancel();
    tick_timer.cancel();
    shutdown_timer.cancel();
    if (!conn || !conn->established) {
      // Nothing sent yet that the broker could hold a will for.
      if (conn) {
        close_connection("shut down");
      } else {
        complete_shutdown();
      }
      return;
    }
    // Also while waiting for CONNACK: a CONNECT the broker accepts would otherwise end in a
    // keepalive timeout and a last will. The DISCONNECT follows anything still queued.
    disconnecting = true;
    mqtt::encode_disconnect(out_pending, mqtt::protocol::v311);
    flush();
    shutdown_timer.expires_after(std::chrono::seconds(2));
    shutdown_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->close_connection("disconnect timed out");
    });
  }

  void complete_shutdown() {
    if (shutdown_completed) return;
    shutdown_completed = true;
    disconnecting = false;
    shutdown_timer.cancel();
    connected = false;
    if (shutdown_done) {
      asio::post(io, [done = std::move(shutdown_done), ok = shutdown_ok] { done(ok); });
      shutdown_done = nullptr;
    }
  }

  asio::io_context& io;
  mqtt_options options;
  std::optional<ssl::context> tls_context;
  tcp::resolver resolver;
  asio::steady_timer tick_timer;
  asio::steady_timer reconnect_timer;
  asio::steady_timer shutdown_timer;

  std::shared_ptr<connection> conn;  ///< the current connection or attempt
  std::uint64_t generation = 0;      ///< invalidates handlers of earlier connections
  clock_type::time_point attempt_started;
  clock_type::time_point last_in;
  clock_type::time_point last_out;
  clock_type::time_point ping_sent;
  bool ping_outstanding = false;

  bool started = false;
  bool connecting = false;
  bool connected = false;  ///< CONNACK accepted on the current connection
  bool ever_connected = false;
  std::chrono::milliseconds backoff;

  std::string out_pending;  ///< packets queued for the next write
  bool writing = false;
  bool flush_posted = false;
  std::size_t qos0_pending = 0;  ///< QoS 0 messages in out_pending
  std::size_t qos0_writing = 0;  ///< ... and in the write under way

  std::deque<pending_message> pending_;  ///< QoS>0 messages in publish order
  std::uint16_t next_id = 0;
  std::size_t in_flight = 0;  ///< QoS>0 not yet acknowledged + QoS 0 not yet written
  bool window_was_full = false;

  bool draining = false;
  bool stopped = false;
  bool disconnecting = false;
  bool shutdown_completed = false;
  bool shutdown_ok = false;
  std::function<void(bool)> shutdown_done;
  std::function<void()> ready_callback;
  std::function<void(std::string_view)> error_sink;
  mqtt_counters counters;
};

mqtt_client::mqtt_client(boost::asio::io_context& io, mqtt_options options)
    : impl_(std::make_shared<impl>(io, std::move(options))) {}

mqtt_client::~mqtt_client() = default;

void mqtt_client::start() {
  impl_->start();
}

bool mqtt_client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  return impl_->publish(topic, payload, qos, retain);
}

bool mqtt_client::ready() const noexcept {
  return !impl_->stopped && !impl_->window_full();
}

std::size_t mqtt_client::in_flight() const noexcept {
  return impl_->in_flight;
}

bool mqtt_client::connected() const noexcept {
  return impl_->connected;
}

void mqtt_client::on_ready(std::function<void()> callback) {
  impl_->ready_callback = std::move(callback);
}

void mqtt_client::async_shutdown(std::chrono::milliseconds timeout,
                                 std::function<void(bool)> done) {
  impl_->async_shutdown(timeout, std::move(done));
}

const mqtt_counters& mqtt_client::counters() const noexcept {
  return impl_->counters;
}

void mqtt_client::on_error(std::function<void(std::string_view)> sink) {
  impl_->error_sink = std::move(sink);
}

}  // namespace factorysim::sim
