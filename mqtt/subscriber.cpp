// The subscriber role (see subscriber.hpp): the session core on an io_context of its own, one
// thread, and the ledger of acknowledgements owed after the caller's commit.

#include "mqtt/subscriber.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mqtt/session.hpp"

namespace factorysim::mqtt {
namespace asio = boost::asio;

namespace {
constexpr std::uint16_t subscribe_packet_id = 1;
/// How long stop() waits for the broker to close the connection after our DISCONNECT.
constexpr std::chrono::milliseconds goodbye_timeout{5000};
}  // namespace

struct subscriber::impl : session_role {
  impl(subscriber_options o, subscriber_handlers h)
      : options(std::move(o)),
        handlers(std::move(h)),
        work(asio::make_work_guard(io)),
        core(io, static_cast<const session_options&>(options), *this) {
    if (options.qos < 0 || options.qos > 2)
      throw std::runtime_error("mqtt subscriber: qos must be 0, 1 or 2");
    core.on_report([this](std::string_view line) { log(std::string(line)); });
  }

  void log(const std::string& line) const {
    if (handlers.on_log) handlers.on_log(line);
  }

  // --- outcome of start() -------------------------------------------------------------------

  /// The first connection's outcome (empty = subscribed), once.
  void first_outcome(const std::string& error) {
    if (first_settled) return;
    first_settled = true;
    first.set_value(error);
  }

  /// The subscriber cannot go on: say why, stop the session, end running().
  void fail(const std::string& why) {
    {
      std::lock_guard lock(failure_mutex);
      if (failure_text.empty()) failure_text = why;
    }
    log(why);
    first_outcome(why);
    core.close_now();
  }

  // --- session_role -------------------------------------------------------------------------

  void on_connected(const connack& ack) override {
    counters.connects = core.counters().connects;
    counters.connected = true;
    log("connected to " + broker_address(options) + " as " + options.client_id +
        (ack.session_present ? " (session resumed)" : " (new session)"));
    if (subscribed_once && !ack.session_present && !options.clean_start) {
      // The broker forgot us (restarted without persistence, or the session expired): what
      // it had queued for us is gone. Subscribing again is all we can do; say it loudly.
      ++counters.sessions_lost;
      log("ERROR: the broker did not keep our session: messages published while we were "
          "disconnected may be lost; subscribing again");
    }
    encode_subscribe(core.outbox(), options.version, subscribe_packet_id, options.filter,
                     options.qos);
    core.flush_soon();
    // A resumed session already has its subscription, and the broker may send what it kept
    // for us ahead of the SUBACK: start() need not wait for it (and must not, when those
    // messages fill the caller's queue and pause our reading). A refusal still ends us.
    if (ack.session_present) first_outcome({});
  }

  void on_packet(const packet& p) override {
    switch (p.type) {
      case packet_type::publish:
        take(parse_publish(p, options.version), {});
        return;
      case packet_type::pubrel:
        // Ends a QoS 2 exchange whose PUBREC was sent: no message, nothing to order.
        encode_ack(core.outbox(), packet_type::pubcomp, parse_ack(p, options.version).packet_id);
        core.flush_soon();
        return;
      case packet_type::suback: {
        const auto s = parse_suback(p, options.version);
        if (s.packet_id != subscribe_packet_id)
          throw protocol_error("SUBACK for packet id " + std::to_string(s.packet_id) +
                               ", we sent " + std::to_string(subscribe_packet_id));
        if (s.first_code <= 2) {
          subscribed_once = true;
          log("subscribed (QoS " + std::to_string(s.first_code) + ") to " + options.filter);
          first_outcome({});
          return;
        }
        const auto text = options.version == protocol::v5
                              ? reason_code_text(s.first_code)
                              : "failure (0x80)";
        fail("the broker refused the subscription to " + options.filter + ": " + text +
             (s.reason_string.empty() ? "" : " (" + s.reason_string + ")"));
        return;
      }
      default:
        throw protocol_error("unexpected packet type " +
                             std::to_string(static_cast<int>(p.type)) + " for a subscriber");
    }
  }

  void on_oversized(const oversized_publish& o) override {
    ++counters.oversized;
    const auto m = parse_publish(packet{packet_type::publish, o.flags, o.head}, options.version);
    // Copies: the head dies when this returns, the batch is handed over at the read's end.
    auto& kept = oversized_store.emplace_back(o.head);
    const auto at = [&](std::string_view v) {
      if (v.empty()) return std::string_view();
      return std::string_view(kept).substr(static_cast<std::size_t>(v.data() - o.head.data()),
                                           v.size());
    };
    message_view v;
    v.oversized = true;
    v.payload_bytes = o.payload_bytes;
    v.payload_sha256 = o.payload_sha256;
    auto copy = m;
    copy.topic = at(m.topic);
    copy.payload = at(m.payload);
    copy.properties = at(m.properties);
    take(copy, v);
  }

  /// One PUBLISH of this read: into the batch, and into the ledger if it must be acknowledged.
  void take(const publish& m, message_view v) {
    if (m.qos > 0)
      batch_acks.push_back({batch.size(), m.packet_id,
                            m.qos == 1 ? packet_type::puback : packet_type::pubrec});
    v.topic = m.topic;
    v.payload = m.payload;
    v.properties = m.properties;
    v.retained = m.retain;
    if (!v.oversized) v.payload_bytes = m.payload.size();
    batch.push_back(v);
  }

  bool on_read_end() override {
    bool keep_reading = true;
    if (!batch.empty()) {
      const std::uint64_t first_seq = next_seq;
      next_seq += batch.size();
      for (auto& a : batch_acks) {
        a.seq += first_seq;
        ledger.push_back(a);
      }
      counters.messages += batch.size();
      ++counters.reads;
      try {
        keep_reading = handlers.on_messages(batch, first_seq);
      } catch (const std::exception& e) {
        // Nothing of it is acknowledged: the broker keeps it for the session.
        fail(std::string("subscriber stopped: ") + e.what());
        clear_batch();
        return false;
      }
      if (options.acknowledge_on_handover) raise_acked_through(next_seq - 1);
    }
    clear_batch();
    release_acks();
    counters.unacknowledged = ledger.size();
    return keep_reading;
  }

  void clear_batch() {
    batch.clear();
    batch_acks.clear();
    oversized_store.clear();
  }

  void on_write_started() override {
    acks_writing += acks_in_outbox;
    acks_in_outbox = 0;
  }

  void on_write_done() override {
    counters.acknowledged += acks_writing;
    acks_writing = 0;
  }

  void on_connection_lost(const std::string& why, bool established) override {
    counters.connected = false;
    // What this connection still owed is not sent on the next one: the broker redelivers
    // those messages there (under new numbers), and the caller's unique keys drop the second
    // copy of whatever it had already stored.
    counters.dropped_acks += ledger.size() + acks_in_outbox + acks_writing;
    ledger.clear();
    acks_in_outbox = acks_writing = 0;
    counters.unacknowledged = 0;
    clear_batch();
    if (!first_settled)
      fail(established ? "connection to MQTT broker " + broker_address(options) +
                             " lost before the subscription was confirmed: " + why
                       : "cannot connect to MQTT broker " + broker_address(options) + ": " + why);
  }

  void on_refused(const connack&, const std::string& why, bool permanent) override {
    counters.connected = false;
    if (permanent || !first_settled)
      fail("broker " + broker_address(options) + " refused the connection: " +
           why.substr(why.find(':') + 2));
  }

  void on_stopped() override {
    counters.connected = false;
    // What was never released goes with the session: the broker redelivers it.
    counters.dropped_acks += ledger.size() + acks_in_outbox + acks_writing;
    ledger.clear();
    acks_in_outbox = acks_writing = 0;
    counters.unacknowledged = 0;
    first_outcome(failure());
    work.reset();
  }

  // --- acknowledgements ---------------------------------------------------------------------

  void raise_acked_through(std::uint64_t seq) noexcept {
    std::uint64_t current = acked_through.load();
    while (current < seq && !acked_through.compare_exchange_weak(current, seq)) {
    }
  }

  void release_acks() {
    if (!core.connected() && core.state() != session_state::disconnecting) return;
    const std::uint64_t through = acked_through.load();
    bool any = false;
    while (!ledger.empty() && ledger.front().seq <= through) {
      encode_ack(core.outbox(), ledger.front().type, ledger.front().packet_id);
      ledger.pop_front();
      ++acks_in_outbox;
      any = true;
    }
    counters.unacknowledged = ledger.size();
    if (any) core.flush_soon();
  }

  std::string failure() const {
    std::lock_guard lock(failure_mutex);
    return failure_text;
  }

  /// A message handed over on the current connection and waiting for acknowledge_through.
  struct owed_ack {
    std::uint64_t seq;  ///< index in the batch until handed over
    std::uint16_t packet_id;
    packet_type type;  ///< puback (QoS 1) or pubrec (QoS 2)
  };

  subscriber_options options;
  subscriber_handlers handlers;
  subscriber_counters counters;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  session core;
  std::thread thread;

  std::promise<std::string> first;
  bool first_settled = false;  ///< loop thread only
  bool subscribed_once = false;
  mutable std::mutex failure_mutex;
  std::string failure_text;
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};

  std::atomic<std::uint64_t> acked_through{0};
  std::atomic<bool> ack_post_pending{false};
  std::uint64_t next_seq = 1;
  std::deque<owed_ack> ledger;  ///< arrival order
  std::size_t acks_in_outbox = 0;
  std::size_t acks_writing = 0;

  std::vector<message_view> batch;  ///< this read's messages
  std::vector<owed_ack> batch_acks;
  std::deque<std::string> oversized_store;  ///< heads of this read's oversized messages
};

subscriber::subscriber(subscriber_options options, subscriber_handlers handlers)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handlers))) {}

subscriber::~subscriber() { stop(); }

void subscriber::start() {
  auto& i = *impl_;
  if (i.thread.joinable()) return;
  auto outcome = i.first.get_future();
  i.running = true;
  i.thread = std::thread([&i] {
    try {
      i.io.run();
    } catch (const std::exception& e) {
      std::lock_guard lock(i.failure_mutex);
      if (i.failure_text.empty()) i.failure_text = std::string("subscriber stopped: ") + e.what();
      i.log(i.failure_text);
    }
    i.running = false;
  });
  asio::post(i.io, [&i] { i.core.start(); });
  // Connect timeout for the connection, the same again for the SUBACK.
  const auto limit = 2 * i.options.connect_timeout + std::chrono::seconds(1);
  std::string error;
  if (outcome.wait_for(limit) != std::future_status::ready) {
    error = "MQTT broker " + broker_address(i.options) + ": not subscribed within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) + " s";
  } else {
    error = outcome.get();
  }
  if (!error.empty()) {
    stop();
    throw std::runtime_error(error);
  }
}

void subscriber::stop() {
  auto& i = *impl_;
  if (!i.thread.joinable()) return;
  if (!i.stopping.exchange(true)) {
    asio::post(i.io, [&i] {
      // What was released before stop() goes out first, ahead of DISCONNECT.
      i.release_acks();
      if (i.core.state() == session_state::stopped) {
        i.work.reset();
        return;
      }
      i.core.disconnect(goodbye_timeout);
    });
  }
  i.thread.join();
  i.running = false;
}

void subscriber::acknowledge_through(std::uint64_t seq) noexcept {
  auto& i = *impl_;
  i.raise_acked_through(seq);
  // One wake-up per burst of releases: the loop clears the flag before it reads
  // acked_through, so a release racing with it is never missed.
  if (!i.ack_post_pending.exchange(true)) {
    try {
      asio::post(i.io, [&i] {
        i.ack_post_pending = false;
        i.release_acks();
      });
    } catch (...) {
      i.ack_post_pending = false;  // out of memory: the next release tries again
    }
  }
}

void subscriber::resume() noexcept {
  auto& i = *impl_;
  try {
    asio::post(i.io, [&i] { i.core.resume_reading(); });
  } catch (...) {
  }
}

const subscriber_counters& subscriber::counters() const noexcept { return impl_->counters; }

bool subscriber::running() const noexcept { return impl_->running; }

std::string subscriber::failure() const { return impl_->failure(); }

}  // namespace factorysim::mqtt
