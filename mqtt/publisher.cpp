// The publisher role (see publisher.hpp).
//
// Durability: every QoS 1/2 message stays in `pending` (its encoded PUBLISH) from publish()
// until the broker's final acknowledgement, across reconnects: after each CONNACK what is
// still pending is written again in publish order (DUP set if it had been written before; an
// unfinished QoS 2 handshake resumes with PUBREL), as MQTT 4.4 asks, but never more at once
// than the broker's Receive Maximum. publish() only encodes; whatever the loop's current
// handler publishes leaves in one write (the session batches).

#include "mqtt/publisher.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>

#include "mqtt/session.hpp"

namespace factorysim::mqtt {
namespace asio = boost::asio;

namespace {

/// Packet ids are 16 bit (0 is not one): the window stays below that so that a live id is
/// never reused.
constexpr std::size_t max_window = 65535;

/// Where a QoS 1/2 message is in its handshake.
enum class stage : std::uint8_t { await_puback, await_pubrec, await_pubcomp, done };

/// One message between publish() and its final acknowledgement.
struct pending_message {
  std::uint16_t packet_id = 0;
  stage state = stage::await_puback;
  bool written = false;    ///< sent at least once: a re-send carries DUP
  bool sent_now = false;   ///< sent on the current connection (counts against its quota)
  std::string packet;      ///< the encoded PUBLISH
  std::string_view topic;  ///< into `packet`, for reports
};

}  // namespace

struct publisher::impl : session_role, std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_in, publisher_options options_in)
      : io(io_in),
        max_inflight(std::clamp<std::size_t>(options_in.max_inflight, 1, max_window)),
        version(options_in.version),
        core(io_in, static_cast<session_options&&>(options_in), *this),
        shutdown_timer(io_in) {}

  // --- session_role -------------------------------------------------------------------------

  void on_connected(const connack& ack) override {
    sync_counters();
    // The broker's limits for this connection (v5; a v3.1.1 broker announces none).
    quota = std::min<std::size_t>(ack.receive_maximum.value_or(max_window), max_window);
    broker_max_packet = ack.maximum_packet_size.value_or(0);
    broker_max_qos = ack.maximum_qos.value_or(2);
    next_unsent = 0;
    for (auto& m : pending) m.sent_now = false;
    // Everything not yet acknowledged goes out again, in publish order, before anything new.
    send_more();
    post_ready();
  }

  void on_packet(const packet& p) override {
    switch (p.type) {
      case packet_type::puback: {
        const auto a = parse_ack(p, version);
        finish(a, stage::await_puback);
        return;
      }
      case packet_type::pubrec: {
        const auto a = parse_ack(p, version);
        auto* m = find_pending(a.packet_id);
        if (a.reason >= 0x80) {
          // The exchange ends here: no PUBREL after a refusing PUBREC (MQTT 5.0 4.3.3).
          if (m != nullptr && m->state == stage::await_pubrec) finish(a, stage::await_pubrec);
          return;
        }
        if (m != nullptr && m->state == stage::await_pubrec) m->state = stage::await_pubcomp;
        // Answered even for an id we do not know (a PUBREC of an earlier session), so that
        // the broker can finish it.
        encode_ack(core.outbox(), packet_type::pubrel, a.packet_id);
        core.flush_soon();
        return;
      }
      case packet_type::pubcomp: {
        const auto a = parse_ack(p, version);
        finish(a, stage::await_pubcomp);
        return;
      }
      default:
        throw protocol_error("unexpected packet type " +
                             std::to_string(static_cast<int>(p.type)) + " for a publisher");
    }
  }

  void on_write_started() override {
    qos0_writing += qos0_in_outbox;
    qos0_in_outbox = 0;
  }

  void on_write_done() override {
    counters.acknowledged += qos0_writing;
    in_flight -= qos0_writing;
    qos0_writing = 0;
    after_progress();
  }

  void on_connection_lost(const std::string&, bool) override {
    const std::size_t lost_qos0 = qos0_in_outbox + qos0_writing;
    qos0_in_outbox = qos0_writing = 0;
    counters.dropped += lost_qos0;
    in_flight -= lost_qos0;
    for (auto& m : pending) m.sent_now = false;
    next_unsent = 0;
    quota = 0;
    sync_counters();
    after_progress();
  }

  void on_refused(const connack&, const std::string& why, bool permanent) override {
    sync_counters();
    if (!permanent) return;
    fatal = why;
    if (fatal_callback) {
      asio::post(io, [w = weak_from_this()] {
        auto self = w.lock();
        if (self && self->fatal_callback) self->fatal_callback(self->fatal);
      });
    }
    // Nothing more will be acknowledged: a shutdown waiting for that ends now.
    if (draining) finish_drain();
    if (shutdown_done) complete_shutdown();
  }

  void on_stopped() override {
    sync_counters();
    complete_shutdown();
  }

  // --- window ---------------------------------------------------------------------------

  void sync_counters() {
    const auto& s = core.counters();
    counters.connects = s.connects;
    counters.reconnects = s.reconnects;
    counters.disconnects = s.disconnects;
    counters.connect_failures = s.connect_failures;
    counters.refused = s.refused;
  }

  bool window_full() const noexcept {
    return in_flight >= max_inflight || pending.size() >= max_window;
  }

  std::uint16_t next_packet_id() {
    // `pending` holds consecutive ids in publish order and is shorter than 65535, so the
    // next id after the newest is never one still in use.
    next_id = next_id == 65535 ? 1 : static_cast<std::uint16_t>(next_id + 1);
    return next_id;
  }

  /// Why the broker cannot take this packet, as announced in its CONNACK; empty if it can.
  std::string broker_limit_error(std::size_t packet_bytes, int qos) const {
    if (broker_max_packet > 0 && packet_bytes > broker_max_packet)
      return "message of " + std::to_string(packet_bytes) +
             " bytes exceeds the broker's Maximum Packet Size of " +
             std::to_string(broker_max_packet);
    if (qos > broker_max_qos)
      return "QoS " + std::to_string(qos) + " exceeds the broker's Maximum QoS " +
             std::to_string(broker_max_qos);
    return {};
  }

  /// Writes pending messages not yet sent on this connection while the broker's quota allows.
  void send_more() {
    if (!core.connected()) return;
    bool any = false;
    while (quota > 0 && next_unsent < pending.size()) {
      auto& m = pending[next_unsent];
      ++next_unsent;
      if (m.state == stage::done || m.sent_now) continue;
      if (m.state == stage::await_pubcomp) {
        encode_ack(core.outbox(), packet_type::pubrel, m.packet_id);
      } else {
        if (auto e = broker_limit_error(m.packet.size(), m.state == stage::await_puback ? 1 : 2);
            !e.empty()) {
          ++counters.publish_errors;
          core.report("publish to '" + std::string(m.topic) + "': " + e);
          retire(m);
          continue;
        }
        if (m.written) set_dup(m.packet[0]);
        m.written = true;
        core.outbox() += m.packet;
      }
      m.sent_now = true;
      --quota;
      any = true;
    }
    pop_done();
    if (any) core.flush_soon();
  }

  /// The message with this id, if still pending. The broker acknowledges in order, so it is
  /// nearly always the first one that is not done.
  pending_message* find_pending(std::uint16_t id) {
    for (auto& m : pending)
      if (m.packet_id == id && m.state != stage::done) return &m;
    return nullptr;
  }

  void retire(pending_message& m) {
    m.state = stage::done;
    std::string().swap(m.packet);
    m.topic = {};
    --in_flight;
  }

  void pop_done() {
    // Done messages leave from the front at once, so that the next in-order acknowledgement
    // finds its message first in line.
    while (!pending.empty() && pending.front().state == stage::done) {
      pending.pop_front();
      if (next_unsent > 0) --next_unsent;
    }
  }

  void finish(const ack& a, stage expected) {
    auto* m = find_pending(a.packet_id);
    // An acknowledgement for something not pending (a duplicate PUBACK after a re-send):
    // nothing to do.
    if (m == nullptr || m->state != expected) return;
    if (a.reason >= 0x80) {
      ++counters.rejected;
      note_rejection(a, m->topic);
    } else {
      ++counters.acknowledged;
      if (a.reason == 0x10) ++counters.no_subscribers;
    }
    if (m->sent_now) ++quota;
    retire(*m);
    pop_done();
    send_more();
    after_progress();
  }

  void note_rejection(const ack& a, std::string_view topic) {
    auto it = std::find_if(counters.rejected_by_reason.begin(), counters.rejected_by_reason.end(),
                           [&](const auto& r) { return r.first == a.reason; });
    if (it == counters.rejected_by_reason.end()) {
      counters.rejected_by_reason.emplace_back(a.reason, 1);
      // The first of each kind is reported; the totals are in the counters.
      core.report("the broker refused a message to '" + std::string(topic) +
                  "': " + reason_code_text(a.reason) +
                  (a.reason_string.empty() ? "" : " (" + a.reason_string + ")") +
                  "; further refusals of this kind are only counted");
    } else {
      ++it->second;
    }
  }

  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain,
               std::string_view properties) {
    if (stopped || !fatal.empty()) {
      ++counters.publish_errors;
      return false;
    }
    if (window_full()) {
      window_was_full = true;
      return false;
    }
    if (qos < 0 || qos > 2) {
      ++counters.publish_errors;
      core.report("publish to '" + std::string(topic) + "': qos must be 0, 1 or 2");
      return true;
    }
    if (auto e = publish_topic_error(topic); !e.empty()) {
      ++counters.publish_errors;
      core.report("publish to '" + std::string(topic) + "': " + e);
      return true;
    }
    ++counters.published;
    if (qos == 0) {
      if (!core.connected()) {
        ++counters.dropped;
        return true;
      }
      const auto size = publish_packet_size(version, topic, payload, 0, properties);
      if (auto e = broker_limit_error(size, 0); !e.empty()) {
        ++counters.publish_errors;
        core.report("publish to '" + std::string(topic) + "': " + e);
        return true;
      }
      encode_publish(core.outbox(), version, topic, payload, 0, retain, 0, properties);
      ++qos0_in_outbox;
      ++in_flight;
      core.flush_soon();
    } else {
      auto& m = pending.emplace_back();
      m.packet_id = next_packet_id();
      m.state = qos == 1 ? stage::await_puback : stage::await_pubrec;
      encode_publish(m.packet, version, topic, payload, qos, retain, m.packet_id, properties);
      // The topic starts after the fixed header (type byte + length bytes) and its 2-byte
      // length.
      std::size_t at = 1;
      while ((static_cast<unsigned char>(m.packet[at]) & 0x80) != 0) ++at;
      m.topic = std::string_view(m.packet).substr(at + 3, topic.size());
      ++in_flight;
      send_more();
    }
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
    if (draining && in_flight == 0) finish_drain();
  }

  void post_ready() {
    asio::post(io, [w = weak_from_this()] {
      auto self = w.lock();
      if (!self || self->stopped || !self->ready_callback) return;
      if (!self->window_full()) self->ready_callback();
    });
  }

  // --- shutdown -------------------------------------------------------------------------

  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
    if (stopped || draining || shutdown_done) {
      // A second request just learns the outcome of the first.
      asio::post(io, [done = std::move(done), ok = in_flight == 0] {
        if (done) done(ok);
      });
      return;
    }
    shutdown_done = std::move(done);
    if (!fatal.empty() || core.state() == session_state::idle) {
      shutdown_ok = in_flight == 0;
      stopped = true;
      core.close_now();
      return;
    }
    draining = true;
    shutdown_timer.expires_after(timeout);
    shutdown_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = w.lock()) self->finish_drain();
    });
    if (in_flight == 0) finish_drain();
  }

  /// Drained or timed out: disconnect cleanly (no last will) and stop retrying.
  void finish_drain() {
    if (!draining) return;
    draining = false;
    stopped = true;
    shutdown_ok = in_flight == 0;
    shutdown_timer.cancel();
    core.disconnect(std::chrono::seconds(2));
  }

  void complete_shutdown() {
    if (!shutdown_done) return;
    auto done = std::move(shutdown_done);
    shutdown_done = nullptr;
    stopped = true;
    asio::post(io, [done = std::move(done), ok = shutdown_ok] { done(ok); });
  }

  asio::io_context& io;
  std::size_t max_inflight;
  protocol version;
  session core;
  asio::steady_timer shutdown_timer;

  std::deque<pending_message> pending;  ///< QoS 1/2 messages in publish order
  std::size_t next_unsent = 0;          ///< index of the first one not sent on this connection
  std::size_t quota = 0;                ///< more QoS 1/2 the broker takes on this connection
  std::size_t broker_max_packet = 0;    ///< 0 = none announced
  int broker_max_qos = 2;
  std::uint16_t next_id = 0;
  std::size_t in_flight = 0;  ///< QoS 1/2 not yet acknowledged + QoS 0 not yet written
  std::size_t qos0_in_outbox = 0;
  std::size_t qos0_writing = 0;
  bool window_was_full = false;

  bool draining = false;
  bool stopped = false;
  bool shutdown_ok = false;
  std::string fatal;
  std::function<void(bool)> shutdown_done;
  std::function<void()> ready_callback;
  std::function<void(const std::string&)> fatal_callback;
  publisher_counters counters;
};

publisher::publisher(boost::asio::io_context& io, publisher_options options)
    : impl_(std::make_shared<impl>(io, std::move(options))) {}

publisher::~publisher() = default;

void publisher::start() { impl_->core.start(); }

bool publisher::publish(std::string_view topic, std::string_view payload, int qos, bool retain,
                        std::string_view properties) {
  return impl_->publish(topic, payload, qos, retain, properties);
}

bool publisher::ready() const noexcept {
  return !impl_->stopped && impl_->fatal.empty() && !impl_->window_full();
}

std::size_t publisher::in_flight() const noexcept { return impl_->in_flight; }

bool publisher::connected() const noexcept { return impl_->core.connected(); }

void publisher::on_ready(std::function<void()> callback) {
  impl_->ready_callback = std::move(callback);
}

void publisher::on_fatal(std::function<void(const std::string&)> callback) {
  impl_->fatal_callback = std::move(callback);
}

const std::string& publisher::fatal_error() const noexcept { return impl_->fatal; }

void publisher::async_shutdown(std::chrono::milliseconds timeout,
                               std::function<void(bool)> done) {
  impl_->async_shutdown(timeout, std::move(done));
}

const publisher_counters& publisher::counters() const noexcept {
  impl_->sync_counters();
  return impl_->counters;
}

void publisher::on_error(std::function<void(std::string_view)> sink) {
  impl_->core.on_report(std::move(sink));
}

}  // namespace factorysim::mqtt
