// The MQTT session core (see session.hpp for the state machine).
//
// Every asynchronous handler holds the connection it was started on (a shared_ptr, so a TLS
// stream and the buffers of its operations outlive a closed socket) and a weak_ptr to the
// session plus the connection's generation: a handler of a connection that has since been
// closed does nothing. Errors inside handlers go through report(); operation_aborted is a
// normal shutdown and says nothing.

#include "mqtt/session.hpp"

#include <openssl/evp.h>

#include "mqtt/backoff.hpp"

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
#include <iostream>
#include <optional>
#include <stdexcept>
#include <vector>

namespace factorysim::mqtt {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string_view to_string(session_state s) noexcept {
  switch (s) {
    case session_state::idle: return "idle";
    case session_state::connecting: return "connecting";
    case session_state::awaiting_connack: return "awaiting_connack";
    case session_state::connected: return "connected";
    case session_state::backing_off: return "backing_off";
    case session_state::disconnecting: return "disconnecting";
    case session_state::refused: return "refused";
    case session_state::stopped: return "stopped";
  }
  return "?";
}

void session_role::on_oversized(const oversized_publish& p) {
  throw protocol_error("PUBLISH of " + std::to_string(p.packet_bytes) +
                       " bytes exceeds the limit");
}

namespace {

/// How much of an oversized PUBLISH body is kept: a topic (up to 65,535 bytes), a packet id,
/// v5 properties and the start of the payload.
constexpr std::size_t oversized_head_bytes = 70 * 1024;

/// The socket of one connection attempt, plain or TLS, and the buffers of its operations
/// (they live here, not in the session: a TLS operation still copies into or out of them
/// after the session is gone and the socket closed).
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
  std::string out;           ///< the bytes of the write under way
  std::vector<char> in;
  std::size_t in_begin = 0;  ///< first byte not yet parsed
  std::size_t in_end = 0;    ///< end of the bytes read
};

/// An oversized PUBLISH being read past: its head is collected first (the payload's offset
/// is known once the topic, packet id and properties are in), then the rest of the payload
/// only feeds the digest.
struct discard_state {
  std::uint8_t flags = 0;
  std::size_t packet_bytes = 0;
  std::size_t body_bytes = 0;
  std::size_t body_left = 0;  ///< body bytes still to come
  std::size_t head_target = 0;
  std::size_t payload_offset = 0;
  std::string head;
  EVP_MD_CTX* sha = nullptr;  ///< null until the head is complete

  discard_state() = default;
  discard_state(const discard_state&) = delete;
  discard_state& operator=(const discard_state&) = delete;
  ~discard_state() {
    if (sha != nullptr) EVP_MD_CTX_free(sha);
  }
};

}  // namespace

struct session::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_in, session_options options_in, session_role& role_in)
      : io(io_in),
        options(std::move(options_in)),
        role(&role_in),
        resolver(io_in),
        tick_timer(io_in),
        reconnect_timer(io_in),
        linger_timer(io_in),
        pacing(options.reconnect_min, options.reconnect_max) {
    const std::string who = "mqtt client '" + options.client_id + "'";
    if (options.client_id.empty() && !options.clean_start)
      throw std::runtime_error(
          "mqtt client: an empty client id needs a clean start (the broker cannot keep a "
          "session for a client it cannot name)");
    if (options.keepalive_s < 0 || options.keepalive_s > 65535)
      throw std::runtime_error(who + ": keepalive must be 0..65535 s, got " +
                               std::to_string(options.keepalive_s));
    if (options.port < 1 || options.port > 65535)
      throw std::runtime_error(who + ": port must be 1..65535, got " +
                               std::to_string(options.port));
    if (!options.will_topic.empty()) {
      if (auto e = publish_topic_error(options.will_topic); !e.empty())
        throw std::runtime_error(who + ": last will: " + e);
      if (options.will_qos < 0 || options.will_qos > 2)
        throw std::runtime_error(who + ": last will: qos must be 0, 1 or 2");
    }
    options.max_inbound_packet_bytes =
        std::clamp<std::size_t>(options.max_inbound_packet_bytes, 64, largest_packet_bytes);
    options.read_chunk_bytes = std::clamp<std::size_t>(options.read_chunk_bytes, 1024, 1 << 24);
    if (options.tls) setup_tls(*options.tls);
  }

  ~impl() { close_socket(); }

  // --- setup --------------------------------------------------------------------------------

  void setup_tls(const tls_options& tls) {
    auto fail = [&](const char* what, const std::string& file,
                    const boost::system::error_code& ec) {
      throw std::runtime_error("mqtt client '" + options.client_id + "': tls: " + what +
                               (file.empty() ? "" : " '" + file + "'") + ": " + ec.message());
    };
    tls_context.emplace(ssl::context::tls_client);
    boost::system::error_code ec;
    tls_context->set_verify_mode(ssl::verify_peer, ec);
    if (tls.ca_file.empty()) {
      // No CA file: trust the system's CAs.
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

  void report(std::string_view what) const noexcept {
    try {
      std::string line = "factorysim mqtt " + options.client_id + " (" +
                         broker_address(options) + "): " + std::string(what);
      if (error_sink) {
        error_sink(line);
      } else {
        std::cerr << line << '\n';
      }
    } catch (...) {
      // A failing log sink must not take the event loop down.
    }
  }

  // --- connecting ---------------------------------------------------------------------------

  /// Handler guard: the session still exists and `gen` is the current connection's.
  template <class F>
  auto guarded(F&& f) {
    return [w = weak_from_this(), gen = generation, c = conn,
            f = std::forward<F>(f)](auto&&... args) mutable {
      auto self = w.lock();
      if (!self || gen != self->generation) return;
      f(*self, std::forward<decltype(args)>(args)...);
    };
  }

  void start() {
    if (state != session_state::idle) return;
    arm_tick();
    attempt_connect();
  }

  void attempt_connect() {
    if (state == session_state::stopped || state == session_state::refused ||
        state == session_state::disconnecting)
      return;
    ++generation;
    conn = std::make_shared<connection>(io, tls_context ? &*tls_context : nullptr);
    conn->in.resize(options.read_chunk_bytes);
    state = session_state::connecting;
    attempt_started = clock_type::now();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (!ec) {
      const std::array<tcp::endpoint, 1> endpoints{
          tcp::endpoint(address, static_cast<unsigned short>(options.port))};
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
            self.end_connection("cannot resolve '" + self.options.host + "': " + e.message());
            return;
          }
          asio::async_connect(self.conn->lowest(), results,
                              self.guarded([](impl& s, const boost::system::error_code& e2,
                                              const tcp::endpoint&) { s.on_tcp_connected(e2); }));
        }));
  }

  void on_tcp_connected(const boost::system::error_code& ec) {
    if (ec) {
      end_connection(ec.message());
      return;
    }
    // No TCP_NODELAY: Nagle lets a trickle of small packets share segments; busy writes are
    // large anyway, and every role's writes are batched.
    if (!conn->tls) {
      send_connect();
      return;
    }
    auto& stream = *conn->tls;
    const auto& name = options.tls->server_name.empty() ? options.host : options.tls->server_name;
    if (!options.tls->insecure) stream.set_verify_callback(ssl::host_name_verification(name));
    boost::system::error_code not_ip;
    (void)asio::ip::make_address(name, not_ip);
    if (not_ip) {
      // SNI, for brokers behind a TLS-terminating proxy; not for IP addresses (RFC 6066).
      SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
    }
    stream.async_handshake(ssl::stream_base::client,
                           guarded([](impl& self, const boost::system::error_code& e) {
                             if (e) {
                               self.end_connection("TLS handshake: " + e.message());
                               return;
                             }
                             self.send_connect();
                           }));
  }

  void send_connect() {
    connect_options c;
    c.version = options.version;
    c.client_id = options.client_id;
    c.clean_start = options.clean_start;
    c.keepalive_s = static_cast<std::uint16_t>(options.keepalive_s);
    c.username = options.username;
    c.password = options.password;
    c.session_expiry_s = options.session_expiry_s;
    c.receive_maximum = options.receive_maximum;
    if (options.announce_maximum_packet_size)
      c.maximum_packet_size = static_cast<std::uint32_t>(
          std::min<std::size_t>(options.max_inbound_packet_bytes, 0xFFFFFFFFu));
    c.will_topic = options.will_topic;
    c.will_payload = options.will_payload;
    c.will_qos = options.will_qos;
    c.will_retain = options.will_retain;
    // Whatever a role had queued belonged to an earlier connection; CONNECT goes first.
    out_pending.clear();
    encode_connect(out_pending, c);
    conn->established = true;
    state = session_state::awaiting_connack;
    last_in = last_out = clock_type::now();
    start_read();
    flush();
  }

  void on_connack(const packet& p) {
    ack_of_connection = parse_connack(p, options.version);
    const auto& ack = ack_of_connection;
    if (ack.reason != 0) {
      ++counters.refused;
      const bool permanent = connack_refusal_is_permanent(ack.reason, options.version);
      const std::string why = "connection refused: " +
                              connack_reason_text(ack.reason, options.version) +
                              (ack.reason_string.empty() ? "" : " (" + ack.reason_string + ")");
      if (permanent) {
        ++counters.connect_failures;
        close_socket();
        state = session_state::refused;
        tick_timer.cancel();
        reconnect_timer.cancel();
        report(why + "; not retrying");
        if (role != nullptr) role->on_refused(ack, why, true);
        return;
      }
      if (role != nullptr) role->on_refused(ack, why, false);
      end_connection(why);
      return;
    }
    state = session_state::connected;
    connected_since = clock_type::now();
    ++counters.connects;
    if (ever_connected) ++counters.reconnects;
    ever_connected = true;
    keepalive_s = ack.server_keepalive_s ? *ack.server_keepalive_s : options.keepalive_s;
    if (role != nullptr) role->on_connected(ack);
    flush();
  }

  void close_socket() {
    resolver.cancel();
    if (conn) {
      boost::system::error_code ignored;
      conn->lowest().close(ignored);
      conn.reset();
    }
    ++generation;  // handlers of this connection see they are stale
    writing = false;
    reading = false;
    out_pending.clear();
    ping_outstanding = ping_in_write = false;
    discard.reset();
  }

  /// The current connection (or attempt) ended: tell the role, then back off and retry (or
  /// finish a disconnect).
  void end_connection(const std::string& why) {
    if (!conn) return;
    const bool established = state == session_state::connected;
    const auto was = state;
    close_socket();
    if (was == session_state::disconnecting) {
      finish_stop();
      return;
    }
    if (established) {
      ++counters.disconnects;
      report("connection lost: " + why);
      pacing.lasted(std::chrono::duration_cast<milliseconds>(clock_type::now() - connected_since));
    } else {
      ++counters.connect_failures;
      report("connect failed: " + why);
    }
    state = session_state::backing_off;
    if (role != nullptr) role->on_connection_lost(why, established);
    if (state != session_state::backing_off) return;  // the role stopped us
    const auto delay = pacing.next();
    reconnect_timer.expires_after(delay);
    reconnect_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock(); self && self->state == session_state::backing_off)
        self->attempt_connect();
    });
  }

  // --- timers -------------------------------------------------------------------------------

  void arm_tick() {
    const int k = std::max(options.keepalive_s, 1);
    tick_timer.expires_after(milliseconds(std::clamp(k * 1000 / 4, 100, 1000)));
    tick_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      auto self = w.lock();
      if (!self || self->state == session_state::stopped ||
          self->state == session_state::refused)
        return;
      self->on_tick();
      if (self->state != session_state::stopped && self->state != session_state::refused)
        self->arm_tick();
    });
  }

  void on_tick() {
    const auto now = clock_type::now();
    if (state == session_state::connecting || state == session_state::awaiting_connack) {
      // A broker that accepts TCP but never answers CONNECT, or a TLS peer that stalls.
      if (now - attempt_started >= options.connect_timeout)
        end_connection(std::string(state == session_state::connecting ? "no connection"
                                                                       : "no CONNACK") +
                       " within " + std::to_string(options.connect_timeout.count()) + " ms");
      return;
    }
    if (state != session_state::connected) return;
    const auto keepalive = std::chrono::seconds(keepalive_s);
    // mosquitto 2.0 reads one packet per socket per turn of its event loop, so under load our
    // writes wait seconds for room while the broker still works through them; giving up
    // early would only make it redeliver. Only a broker that takes nothing for this long is
    // treated as gone.
    const auto stall_limit = std::max<clock_type::duration>(std::chrono::seconds(60), 3 * keepalive);
    if (writing && now - write_started >= stall_limit) {
      end_connection("write stalled for " +
                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        now - write_started).count()) + " s");
      return;
    }
    if (keepalive_s == 0) return;
    if (ping_outstanding) {
      // Counted from when the ping left, and not while we do not read (backpressure): the
      // PINGRESP may be waiting unread in our own socket.
      if (!ping_in_write && !paused && now - ping_written_at >= keepalive)
        end_connection("keepalive: no PINGRESP within " + std::to_string(keepalive_s) + " s");
      return;
    }
    // Ping after 3/4 of the keepalive without sending (the broker gives up after 1.5 x), or
    // after a keepalive without hearing from the broker.
    if (now - last_out >= keepalive * 3 / 4 || (!paused && now - last_in >= keepalive)) {
      ping_outstanding = true;
      ping_in_write = true;
      encode_pingreq(out_pending);
      flush();
    }
  }

  // --- writing ------------------------------------------------------------------------------

  void flush_soon() {
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
    write_started = clock_type::now();
    conn->out.swap(out_pending);
    if (role != nullptr) role->on_write_started();
    conn->async_write(asio::buffer(conn->out),
                      guarded([](impl& self, const boost::system::error_code& ec, std::size_t n) {
                        self.on_written(ec, n);
                      }));
  }

  void on_written(const boost::system::error_code& ec, std::size_t n) {
    writing = false;
    if (ec) {
      end_connection("write: " + ec.message());
      return;
    }
    counters.bytes_out += n;
    last_out = clock_type::now();
    if (ping_in_write) {
      ping_in_write = false;
      ping_written_at = last_out;
    }
    conn->out.clear();
    if (role != nullptr) role->on_write_done();
    if (!conn) return;  // the role ended the connection
    if (state == session_state::disconnecting && out_pending.empty()) {
      // DISCONNECT is out: the broker drops our will and closes. Closing first could lose
      // what we wrote before it (mosquitto reads one packet per loop turn, and a client that
      // connects with our id meanwhile makes it drop the old connection unread), so wait
      // for its close, up to the linger time.
      if (!conn->tls) {
        boost::system::error_code ignored;
        conn->lowest().shutdown(tcp::socket::shutdown_send, ignored);
      }
      return;
    }
    flush();
  }

  // --- reading ------------------------------------------------------------------------------

  void start_read() {
    if (reading || paused || !conn) return;
    auto& c = *conn;
    if (c.in_end == c.in.size()) {
      // Compact: a partial packet moves to the front; a packet bigger than the buffer (below
      // the inbound limit) grows it.
      if (c.in_begin > 0) {
        std::copy(c.in.begin() + static_cast<std::ptrdiff_t>(c.in_begin),
                  c.in.begin() + static_cast<std::ptrdiff_t>(c.in_end), c.in.begin());
        c.in_end -= c.in_begin;
        c.in_begin = 0;
      } else {
        c.in.resize(c.in.size() * 2);
      }
    }
    reading = true;
    c.async_read_some(asio::buffer(c.in.data() + c.in_end, c.in.size() - c.in_end),
                      guarded([](impl& self, const boost::system::error_code& ec, std::size_t n) {
                        self.reading = false;
                        self.on_read(ec, n);
                      }));
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec) {
      end_connection(ec == asio::error::eof ? std::string("closed by the broker")
                                            : "read: " + ec.message());
      return;
    }
    // Held here: a packet may end the connection (and drop the session's reference) mid-loop.
    const auto c = conn;
    c->in_end += n;
    counters.bytes_in += n;
    last_in = clock_type::now();
    const auto gen = generation;
    bool keep_reading = true;
    try {
      parse_buffer(*c);
      if (gen != generation) return;  // a packet ended the connection
      if (state == session_state::connected && role != nullptr) keep_reading = role->on_read_end();
      if (gen != generation) return;
    } catch (const protocol_error& e) {
      ++counters.protocol_errors;
      end_connection(std::string("protocol error: ") + e.what());
      return;
    }
    if (c->in_begin == c->in_end) c->in_begin = c->in_end = 0;
    if (!keep_reading) paused = true;
    start_read();
  }

  /// Hands every whole packet in the buffer on; reads past an oversized PUBLISH.
  void parse_buffer(connection& c) {
    const auto gen = generation;
    while (c.in_begin < c.in_end) {
      if (discard) {
        const std::size_t take = std::min(discard->body_left, c.in_end - c.in_begin);
        std::string_view chunk(c.in.data() + c.in_begin, take);
        c.in_begin += take;
        discard->body_left -= take;
        if (discard->sha == nullptr) {
          const std::size_t into_head = std::min(take, discard->head_target - discard->head.size());
          discard->head.append(chunk.substr(0, into_head));
          chunk.remove_prefix(into_head);
          if (discard->head.size() == discard->head_target) start_digest(*discard);
        }
        if (discard->sha != nullptr && !chunk.empty())
          EVP_DigestUpdate(discard->sha, chunk.data(), chunk.size());
        if (discard->body_left > 0) return;
        oversized_publish o;
        o.flags = discard->flags;
        o.packet_bytes = discard->packet_bytes;
        o.payload_bytes = discard->body_bytes - discard->payload_offset;
        unsigned int len = 0;
        EVP_DigestFinal_ex(discard->sha, o.payload_sha256.data(), &len);
        const std::string head = std::move(discard->head);
        o.head = head;
        discard.reset();
        if (state == session_state::connected && role != nullptr) role->on_oversized(o);
        if (gen != generation) return;
        continue;
      }
      const std::string_view rest(c.in.data() + c.in_begin, c.in_end - c.in_begin);
      const auto h = parse_fixed_header(rest);
      if (!h) return;
      const std::size_t size = h->header_bytes + h->remaining_length;
      if (size > options.max_inbound_packet_bytes) {
        if (h->type != packet_type::publish || state != session_state::connected)
          throw protocol_error("packet type " + std::to_string(static_cast<int>(h->type)) +
                               " of " + std::to_string(size) + " bytes exceeds the limit of " +
                               std::to_string(options.max_inbound_packet_bytes));
        discard.emplace();
        discard->flags = h->flags;
        discard->packet_bytes = size;
        discard->body_bytes = discard->body_left = h->remaining_length;
        discard->head_target = std::min(h->remaining_length, oversized_head_bytes);
        c.in_begin += h->header_bytes;
        continue;
      }
      std::size_t used = 0;
      const auto p = next_packet(rest, used, options.max_inbound_packet_bytes);
      if (!p) return;
      c.in_begin += used;
      on_packet(*p);
      if (gen != generation) return;
    }
  }

  /// The head of an oversized PUBLISH is in: find where its payload starts (a head that does
  /// not hold the whole variable header is a protocol error) and digest the payload so far.
  void start_digest(discard_state& d) {
    const auto m = parse_publish(packet{packet_type::publish, d.flags, d.head}, options.version);
    d.payload_offset = static_cast<std::size_t>(m.payload.data() - d.head.data());
    d.sha = EVP_MD_CTX_new();
    if (d.sha == nullptr || EVP_DigestInit_ex(d.sha, EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("mqtt: SHA-256 unavailable from OpenSSL");
    EVP_DigestUpdate(d.sha, m.payload.data(), m.payload.size());
  }

  void on_packet(const packet& p) {
    if (state == session_state::awaiting_connack) {
      if (p.type != packet_type::connack)
        throw protocol_error("packet type " + std::to_string(static_cast<int>(p.type)) +
                             " before CONNACK");
      on_connack(p);
      return;
    }
    if (state == session_state::disconnecting) return;  // the role is done with packets
    switch (p.type) {
      case packet_type::connack:
        throw protocol_error("second CONNACK");
      case packet_type::pingresp:
        ping_outstanding = false;
        return;
      case packet_type::disconnect: {
        const auto d = parse_disconnect(p, options.version);
        end_connection("the broker disconnected us: " + reason_code_text(d.reason) +
                       (d.reason_string.empty() ? "" : " (" + d.reason_string + ")"));
        return;
      }
      default:
        if (role != nullptr) role->on_packet(p);
    }
  }

  void resume_reading() {
    if (!paused) return;
    paused = false;
    if (conn && (state == session_state::connected || state == session_state::disconnecting))
      start_read();
  }

  // --- stopping -----------------------------------------------------------------------------

  void disconnect(milliseconds linger) {
    if (state == session_state::stopped || state == session_state::disconnecting) return;
    reconnect_timer.cancel();
    if (!conn || !conn->established) {
      // Nothing sent yet that the broker could hold a will for.
      close_socket();
      finish_stop();
      return;
    }
    // Also while waiting for CONNACK: a CONNECT the broker accepts would otherwise end in a
    // keepalive timeout and a last will. The DISCONNECT follows anything still queued.
    state = session_state::disconnecting;
    paused = false;
    encode_disconnect(out_pending, options.version);
    flush();
    start_read();  // the broker's close ends the wait
    linger_timer.expires_after(linger);
    linger_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock(); self && self->state == session_state::disconnecting) {
        self->close_socket();
        self->finish_stop();
      }
    });
  }

  void close_now() {
    if (state == session_state::stopped) return;
    close_socket();
    finish_stop();
  }

  void finish_stop() {
    state = session_state::stopped;
    tick_timer.cancel();
    reconnect_timer.cancel();
    linger_timer.cancel();
    asio::post(io, [w = weak_from_this()] {
      if (auto self = w.lock(); self && self->role != nullptr) self->role->on_stopped();
    });
  }

  asio::io_context& io;
  session_options options;
  session_role* role;
  std::optional<ssl::context> tls_context;
  tcp::resolver resolver;
  asio::steady_timer tick_timer;
  asio::steady_timer reconnect_timer;
  asio::steady_timer linger_timer;
  backoff pacing;

  session_state state = session_state::idle;
  std::shared_ptr<connection> conn;  ///< the current connection or attempt
  std::uint64_t generation = 0;      ///< invalidates handlers of earlier connections
  connack ack_of_connection;
  int keepalive_s = 0;  ///< in force: the broker's (v5 server keep alive) or ours
  bool ever_connected = false;
  clock_type::time_point attempt_started;
  clock_type::time_point connected_since;
  clock_type::time_point last_in;
  clock_type::time_point last_out;
  clock_type::time_point write_started;
  clock_type::time_point ping_written_at;
  bool ping_outstanding = false;
  bool ping_in_write = false;  ///< the PINGREQ is queued or being written, not yet out

  std::string out_pending;  ///< the outbox
  bool writing = false;
  bool flush_posted = false;
  bool reading = false;
  bool paused = false;
  std::optional<discard_state> discard;

  std::function<void(std::string_view)> error_sink;
  session_counters counters;
};

session::session(boost::asio::io_context& io, session_options options, session_role& role)
    : impl_(std::make_shared<impl>(io, std::move(options), role)) {}

session::~session() {
  impl_->role = nullptr;
  impl_->close_socket();
  impl_->tick_timer.cancel();
  impl_->reconnect_timer.cancel();
  impl_->linger_timer.cancel();
}

void session::start() { impl_->start(); }
std::string& session::outbox() noexcept { return impl_->out_pending; }
void session::flush_soon() { impl_->flush_soon(); }
void session::pause_reading() noexcept { impl_->paused = true; }
void session::resume_reading() { impl_->resume_reading(); }
void session::disconnect(std::chrono::milliseconds linger) { impl_->disconnect(linger); }
void session::close_now() { impl_->close_now(); }
session_state session::state() const noexcept { return impl_->state; }
const connack& session::last_connack() const noexcept { return impl_->ack_of_connection; }
const session_options& session::options() const noexcept { return impl_->options; }
const session_counters& session::counters() const noexcept { return impl_->counters; }
bool session::writing() const noexcept {
  return impl_->writing || !impl_->out_pending.empty();
}
void session::report(std::string_view what) const noexcept { impl_->report(what); }
void session::on_report(std::function<void(std::string_view)> sink) {
  impl_->error_sink = std::move(sink);
}

}  // namespace factorysim::mqtt
