// Integration tests of mqtt::publisher (the simulator's MQTT client) against a real mosquitto on a free loopback port.
// The io_context runs in the test thread (run_for slices with bounded deadlines); nothing
// here asserts on speed.

#include "mqtt/publisher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/codec.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_server.hpp"

namespace {

using namespace std::chrono_literals;
using factorysim::mqtt::publisher;
using factorysim::mqtt::publisher_options;
using factorysim::test::collector_options;
using factorysim::test::mosquitto_server;
using factorysim::test::mosquitto_server_options;
using factorysim::test::mqtt_collector;

/// Runs the loop until pred() holds or the deadline passes; returns pred().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_for(10ms);
  }
  return pred();
}

/// Quick reconnects and a short keepalive, so that failure paths play out in test time.
publisher_options options_at(const std::string& host, int port, const std::string& client_id) {
  publisher_options o;
  o.host = host;
  o.port = port;
  o.client_id = client_id;
  o.keepalive_s = 5;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  return o;
}

publisher_options options_for(const mosquitto_server& broker, const std::string& client_id) {
  return options_at(broker.host(), broker.port(), client_id);
}

std::string payload_for(std::size_t seq, std::size_t size) {
  std::string p = "{\"seq\":" + std::to_string(seq) + ",\"pad\":\"";
  while (p.size() + 2 < size) p.push_back('x');
  return p + "\"}";
}

/// Parses the seq number back out of payload_for()'s output.
std::size_t seq_of(const std::string& payload) {
  return std::stoul(payload.substr(payload.find(':') + 1));
}

/// Publishes `total` messages as fast as the window allows, resuming from on_ready.
struct producer {
  publisher& client;
  std::string topic;
  std::size_t total;
  std::size_t size;
  int qos;
  std::size_t next = 0;
  std::size_t refusals = 0;
  std::size_t max_seen_in_flight = 0;

  void attach() {
    client.on_ready([this] { pump(); });
  }
  void pump() {
    while (next < total) {
      if (!client.publish(topic, payload_for(next, size), qos, false)) {
        ++refusals;
        return;
      }
      max_seen_in_flight = std::max(max_seen_in_flight, client.in_flight());
      ++next;
    }
  }
};

TEST(publisher, publishes_qos1_messages_in_order) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "order/#");
  boost::asio::io_context io;
  publisher client(io, options_for(broker, "order-pub"));
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s))
      << broker.log();

  constexpr std::size_t n = 2000;
  producer p{client, "order/a", n, 100, 1};
  p.attach();
  p.pump();
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == n; }, 30s))
      << "acknowledged " << client.counters().acknowledged;
  EXPECT_EQ(client.in_flight(), 0u);
  ASSERT_TRUE(collector.wait_for_count(n, 30s)) << "received " << collector.count();
  auto messages = collector.messages();
  ASSERT_EQ(messages.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(messages[i].topic, "order/a");
    ASSERT_EQ(seq_of(messages[i].payload), i) << "message " << i << " out of order";
    EXPECT_EQ(messages[i].payload, payload_for(i, 100));
  }
  EXPECT_EQ(client.counters().published, n);
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().reconnects, 0u);
  EXPECT_EQ(client.counters().publish_errors, 0u);

  bool done_ok = false, done_called = false;
  client.async_shutdown(5s, [&](bool ok) {
    done_called = true;
    done_ok = ok;
  });
  ASSERT_TRUE(run_until(
      io, [&] { return done_called; }, 10s));
  EXPECT_TRUE(done_ok);
  EXPECT_FALSE(client.connected());
}

TEST(publisher, qos0_messages_are_delivered_and_counted_when_written) {
  mosquitto_server broker;
  collector_options copts;
  copts.qos = 0;
  mqtt_collector collector(broker.host(), broker.port(), "q0/#", copts);
  boost::asio::io_context io;
  publisher client(io, options_for(broker, "q0-pub"));
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));
  constexpr std::size_t n = 500;
  producer p{client, "q0/a", n, 50, 0};
  p.attach();
  p.pump();
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == n; }, 30s));
  EXPECT_EQ(client.in_flight(), 0u);
  EXPECT_TRUE(client.publish("q0/+", "bad topic", 0, false));
  EXPECT_EQ(client.counters().publish_errors, 1u);
  EXPECT_EQ(client.counters().published, n);
  EXPECT_EQ(client.counters().dropped, 0u);
  // QoS 0 over loopback with a live subscriber: nothing is expected to be lost.
  ASSERT_TRUE(collector.wait_for_count(n, 30s)) << "received " << collector.count();
}

TEST(publisher, window_bounds_in_flight_and_refuses_when_full) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "win/#");
  boost::asio::io_context io;
  auto o = options_for(broker, "win-pub");
  o.max_inflight = 50;
  publisher client(io, o);
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));

  // Without running the loop no PUBACK can be read, so the window fills exactly.
  std::size_t accepted = 0;
  while (client.publish("win/a", payload_for(accepted, 64), 1, false)) {
    ++accepted;
    ASSERT_LE(accepted, 50u) << "window did not close";
  }
  EXPECT_EQ(accepted, 50u);
  EXPECT_EQ(client.in_flight(), 50u);
  EXPECT_FALSE(client.ready());
  EXPECT_FALSE(client.publish("win/a", "refused", 1, false));
  EXPECT_EQ(client.counters().published, 50u);

  constexpr std::size_t n = 3000;
  producer p{client, "win/a", n, 64, 1};
  p.next = accepted;
  std::size_t ready_calls = 0;
  client.on_ready([&] {
    ++ready_calls;
    p.pump();
  });
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == n; }, 30s))
      << "acknowledged " << client.counters().acknowledged;
  EXPECT_LE(p.max_seen_in_flight, 50u);
  EXPECT_GT(p.refusals, 0u);
  EXPECT_GT(ready_calls, 0u);
  ASSERT_TRUE(collector.wait_for_count(n, 30s)) << "received " << collector.count();
}

TEST(publisher, last_will_on_abrupt_loss_but_not_on_clean_shutdown) {
  mosquitto_server broker;
  mqtt_collector collector(broker.host(), broker.port(), "will/#");
  boost::asio::io_context io;
  {
    auto o = options_for(broker, "will-crash");
    o.will_topic = "will/crash/status";
    o.will_payload = "offline";
    publisher client(io, o);
    client.start();
    ASSERT_TRUE(run_until(
        io, [&] { return client.connected(); }, 10s));
    ASSERT_TRUE(client.publish("will/crash/status", "online", 1, true));
    ASSERT_TRUE(run_until(
        io, [&] { return client.in_flight() == 0; }, 10s));
    // Destroying the client without async_shutdown closes the TCP connection without a
    // DISCONNECT packet, exactly what the broker sees when the process dies.
  }
  ASSERT_TRUE(collector.wait_until(
      [](const auto& ms) {
        for (const auto& m : ms) {
          if (m.topic == "will/crash/status" && m.payload == "offline") return true;
        }
        return false;
      },
      10s))
      << "last will not delivered; broker log:\n"
      << broker.log();
  // Retained: a subscriber arriving later sees the machine offline.
  mqtt_collector late(broker.host(), broker.port(), "will/crash/status");
  ASSERT_TRUE(late.wait_for_count(1, 10s));
  EXPECT_EQ(late.messages()[0].payload, "offline");
  EXPECT_TRUE(late.messages()[0].retained);

  {
    auto o = options_for(broker, "will-clean");
    o.will_topic = "will/clean/status";
    o.will_payload = "offline";
    publisher client(io, o);
    client.start();
    ASSERT_TRUE(run_until(
        io, [&] { return client.connected(); }, 10s));
    ASSERT_TRUE(client.publish("will/clean/status", "stopped", 1, true));
    bool done = false;
    client.async_shutdown(5s, [&](bool) { done = true; });
    ASSERT_TRUE(run_until(
        io, [&] { return done; }, 10s));
  }
  // A marker published after the clean disconnect, then silence: the will must not appear.
  {
    publisher marker(io, options_for(broker, "will-marker"));
    marker.start();
    ASSERT_TRUE(run_until(
        io, [&] { return marker.connected(); }, 10s));
    ASSERT_TRUE(marker.publish("will/marker", "m", 1, false));
    ASSERT_TRUE(run_until(
        io, [&] { return marker.in_flight() == 0; }, 10s));
  }
  ASSERT_TRUE(collector.wait_until(
      [](const auto& ms) {
        for (const auto& m : ms) {
          if (m.topic == "will/marker") return true;
        }
        return false;
      },
      10s));
  collector.wait_quiet(1500ms, 5s);
  for (const auto& m : collector.messages()) {
    if (m.topic == "will/clean/status") {
      EXPECT_EQ(m.payload, "stopped") << "last will delivered after a clean shutdown";
    }
  }
}

TEST(publisher, broker_restart_loses_no_qos1_message) {
  mosquitto_server broker;
  collector_options copts;
  copts.client_id = "restart-collector";
  copts.clean_session = false;
  mqtt_collector collector(broker.host(), broker.port(), "restart/#", copts);

  boost::asio::io_context io;
  auto o = options_for(broker, "restart-pub");
  o.clean_start = false;
  // Room for every message, so that both paths are exercised: in flight when the connection
  // drops (re-sent after the reconnect) and published while disconnected (held by the client
  // until the reconnect). With a smaller window, a broker slow to acknowledge before the stop
  // left it full for the whole outage and nothing could be published then.
  o.max_inflight = 20000;
  publisher client(io, o);
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));

  constexpr std::size_t n = 20000;
  producer p{client, "restart/a", n, 200, 1};

  // The broker restarts from another thread while this one keeps publishing and running the
  // loop, so the client really meets a refused connection and reconnects by itself.
  std::atomic<std::size_t> published{0};
  std::atomic<bool> restarted{false};
  std::size_t published_while_disconnected = 0;
  std::thread restarter([&] {
    while (published.load() < n / 3) std::this_thread::sleep_for(1ms);
    broker.stop();
    std::this_thread::sleep_for(300ms);
    broker.start();
    restarted = true;
  });
  bool seen_disconnected = false;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while ((client.counters().acknowledged < n || !restarted) &&
         std::chrono::steady_clock::now() < deadline) {
    if (!client.connected()) seen_disconnected = true;
    // The stream waits at a third until the restart has cut the connection: however fast
    // this loop runs against the restarter thread, the next slice goes out while the client
    // is disconnected (the broker stays down 300 ms).
    const bool hold = p.next >= n / 3 && !seen_disconnected && !restarted;
    // Publish in small slices so that the restart lands in the middle of the stream.
    const auto target = hold ? p.next : std::min(n, p.next + 200);
    while (p.next < target && client.publish(p.topic, payload_for(p.next, p.size), 1, false)) {
      if (!client.connected()) ++published_while_disconnected;
      ++p.next;
    }
    published = p.next;
    io.run_for(2ms);
  }
  restarter.join();
  ASSERT_EQ(p.next, n);
  auto describe = [&] {
    std::string d = "in flight " + std::to_string(client.in_flight()) + ", publish errors " +
                    std::to_string(client.counters().publish_errors) + ", reconnects " +
                    std::to_string(client.counters().reconnects) + "; reported:";
    for (std::size_t i = 0; i < errors.size() && i < 20; ++i) d += "\n  " + errors[i];
    return d;
  };
  ASSERT_EQ(client.counters().acknowledged, n) << describe();
  EXPECT_GE(client.counters().disconnects, 1u);
  EXPECT_GE(client.counters().reconnects, 1u);
  EXPECT_GT(published_while_disconnected, 0u);
  EXPECT_FALSE(errors.empty()) << "the connection loss should have been reported";

  std::set<std::size_t> missing;
  for (std::size_t i = 0; i < n; ++i) missing.insert(i);
  auto all_seen = [&](const std::vector<factorysim::test::collected_message>& ms) {
    for (const auto& m : ms) missing.erase(seq_of(m.payload));
    return missing.empty();
  };
  ASSERT_TRUE(collector.wait_until(all_seen, 60s))
      << missing.size() << " sequence numbers never arrived, first " << *missing.begin()
      << "; collector connects " << collector.connects() << "\nbroker log:\n"
      << broker.log();
  EXPECT_GE(collector.connects(), 2);
}

// Issue 12: the simulator retried forever when the broker said "not authorized" (even in
// backfill) and reported its messages as published. A permanent refusal now ends the
// session at once: one attempt, a fatal error, nothing accepted any more.
TEST(publisher, a_wrong_password_fails_fast_instead_of_retrying_forever) {
  for (const auto version : {factorysim::mqtt::protocol::v5, factorysim::mqtt::protocol::v311}) {
    SCOPED_TRACE(version == factorysim::mqtt::protocol::v5 ? "MQTT 5" : "MQTT 3.1.1");
    mosquitto_server_options bopts;
    bopts.users = {{"sim", "right-password"}};
    mosquitto_server broker(bopts);
    boost::asio::io_context io;

    auto o = options_for(broker, "auth-bad");
    o.version = version;
    o.username = "sim";
    o.password = "wrong";
    publisher bad(io, o);
    std::vector<std::string> errors;
    std::string fatal;
    bad.on_error([&](std::string_view line) { errors.emplace_back(line); });
    bad.on_fatal([&](const std::string& why) { fatal = why; });
    // Held before the refusal: never acknowledged, and the shutdown says so.
    EXPECT_TRUE(bad.publish("auth/a", "held", 1, false));
    bad.start();
    ASSERT_TRUE(run_until(io, [&] { return !fatal.empty(); }, 10s)) << broker.log();
    // mosquitto 2.0 answers a wrong password with "not authorized".
    EXPECT_NE(fatal.find("not authorized"), std::string::npos) << fatal;
    // Well past the backoff (20 ms doubling to 200 ms): no second attempt.
    run_until(io, [] { return false; }, 1s);
    EXPECT_EQ(bad.counters().refused, 1u);
    EXPECT_EQ(bad.counters().connect_failures, 1u);
    EXPECT_EQ(bad.counters().connects, 0u);
    EXPECT_FALSE(bad.ready());
    EXPECT_FALSE(bad.publish("auth/a", "after", 1, false));
    ASSERT_FALSE(errors.empty());

    o.client_id = "auth-good";
    o.password = "right-password";
    publisher good(io, o);
    good.start();
    ASSERT_TRUE(run_until(io, [&] { return good.connected(); }, 10s)) << broker.log();
    EXPECT_EQ(good.counters().refused, 0u);

    bool done = false, ok = true;
    bad.async_shutdown(200ms, [&](bool r) {
      done = true;
      ok = r;
    });
    ASSERT_TRUE(run_until(io, [&] { return done; }, 10s));
    EXPECT_FALSE(ok) << "the held message was never acknowledged";
  }
}

TEST(publisher, tls_connects_with_the_right_ca_and_fails_with_another) {
  mosquitto_server_options bopts;
  bopts.tls = true;
  mosquitto_server broker(bopts);
  mosquitto_server other(bopts);  // only for its CA, which did not sign broker's certificate
  mqtt_collector collector(broker.host(), broker.port(), "tls/#");
  boost::asio::io_context io;

  auto o = options_for(broker, "tls-good");
  o.port = broker.tls_port();
  o.tls = factorysim::mqtt::tls_options{broker.ca_file(), "", "", "", false};
  publisher good(io, o);
  good.start();
  ASSERT_TRUE(run_until(
      io, [&] { return good.connected(); }, 10s))
      << broker.log();
  constexpr std::size_t n = 200;
  producer p{good, "tls/a", n, 100, 1};
  p.attach();
  p.pump();
  ASSERT_TRUE(run_until(
      io, [&] { return good.counters().acknowledged == n; }, 20s));
  ASSERT_TRUE(collector.wait_for_count(n, 20s)) << "received " << collector.count();
  EXPECT_EQ(seq_of(collector.messages().back().payload), n - 1);

  o.client_id = "tls-bad";
  o.tls = factorysim::mqtt::tls_options{other.ca_file(), "", "", "", false};
  publisher bad(io, o);
  std::vector<std::string> errors;
  bad.on_error([&](std::string_view line) { errors.emplace_back(line); });
  bad.start();
  ASSERT_TRUE(run_until(
      io, [&] { return bad.counters().connect_failures >= 2; }, 20s));
  EXPECT_FALSE(bad.connected());
  EXPECT_EQ(bad.counters().connects, 0u);
  EXPECT_FALSE(errors.empty());
}

TEST(publisher, destroying_a_tls_client_in_the_middle_of_a_write_is_safe) {
  // The TLS stream still encrypts from the write buffer when the lower-level write completes:
  // buffers and stream must outlive the client. Most telling under AddressSanitizer
  // (-DFACTORYSIM_SANITIZE=ON), where a use after free aborts the test.
  mosquitto_server_options bopts;
  bopts.tls = true;
  mosquitto_server broker(bopts);
  boost::asio::io_context io;
  auto o = options_for(broker, "tls-gone");
  o.port = broker.tls_port();
  o.tls = factorysim::mqtt::tls_options{broker.ca_file(), "", "", "", false};
  o.max_inflight = 5000;
  std::uint64_t written_before = 0;
  {
    publisher client(io, o);
    client.start();
    ASSERT_TRUE(run_until(
        io, [&] { return client.connected(); }, 10s))
        << broker.log();
    const std::string big(16 * 1024, 'x');
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(client.publish("gone/a", big, 1, false));
    // 32 MB cannot leave in one go: stop the loop while the write is under way.
    io.run_for(5ms);
    written_before = client.counters().acknowledged;
    EXPECT_LT(written_before, 2000u);
  }
  // The aborted operations complete now, after the client is gone.
  io.run_for(300ms);
  // The broker lives on and takes new clients.
  publisher next(io, [&] {
    auto o2 = o;
    o2.client_id = "tls-next";
    return o2;
  }());
  next.start();
  EXPECT_TRUE(run_until(
      io, [&] { return next.connected(); }, 10s))
      << broker.log();
}

TEST(publisher, starts_before_the_broker_and_backs_off_exponentially) {
  mosquitto_server broker;
  broker.stop();  // the port is known, nothing listens yet
  boost::asio::io_context io;
  auto o = options_for(broker, "early");
  o.reconnect_min = 100ms;
  o.reconnect_max = 400ms;
  publisher client(io, o);
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  const auto t0 = std::chrono::steady_clock::now();
  run_until(
      io, [] { return false; }, 2s);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(client.connected());
  EXPECT_GE(client.counters().connect_failures, 2u);
  // Delays 100, 200, 400, 400... ms: however slow this machine, no more attempts than that
  // schedule allows in the time that really passed (plus the immediate first one).
  const auto allowed = 1 + 3 + static_cast<std::uint64_t>(elapsed / 400ms);
  EXPECT_LE(client.counters().connect_failures, allowed);
  EXPECT_EQ(errors.size(), client.counters().connect_failures);
  EXPECT_TRUE(client.publish("early/a", "queued before the first connect", 1, true));
  EXPECT_TRUE(client.publish("early/b", "QoS 0 while disconnected: dropped", 0, false));
  EXPECT_EQ(client.counters().dropped, 1u);
  EXPECT_EQ(client.in_flight(), 1u);
  // A wildcard is no topic to publish to: rejected at once, not after the connect.
  EXPECT_TRUE(client.publish("early/#", "bad topic", 1, false));
  EXPECT_EQ(client.counters().publish_errors, 1u);
  EXPECT_EQ(client.counters().published, 2u);
  EXPECT_EQ(client.in_flight(), 1u);

  broker.start();
  mqtt_collector collector(broker.host(), broker.port(), "early/#");
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s))
      << broker.log();
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().reconnects, 0u);
  ASSERT_TRUE(run_until(
      io, [&] { return client.in_flight() == 0; }, 10s));
  ASSERT_TRUE(collector.wait_for_count(1, 10s));
  EXPECT_EQ(collector.messages()[0].payload, "queued before the first connect");
  EXPECT_EQ(collector.messages()[0].topic, "early/a");
}

TEST(publisher, keepalive_notices_a_hung_broker_and_reconnects) {
  mosquitto_server broker;
  boost::asio::io_context io;
  auto o = options_for(broker, "hung");
  o.keepalive_s = 5;  // libmosquitto's minimum
  publisher client(io, o);
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));
  broker.suspend();
  // Only PINGREQ without PINGRESP can reveal this: the TCP connection itself stays up.
  const bool noticed = run_until(
      io, [&] { return !client.connected(); }, 30s);
  broker.resume();
  ASSERT_TRUE(noticed) << "a silent broker was not detected";
  EXPECT_EQ(client.counters().disconnects, 1u);
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 20s))
      << broker.log();
  EXPECT_EQ(client.counters().reconnects, 1u);
  EXPECT_FALSE(errors.empty());
}

// ---- against a scripted peer: what the wire carries ------------------------------------

/// A listening socket on 127.0.0.1 that the test drives by hand, one step at a time, while
/// the client's loop keeps running in the same thread (run_until): no second thread, and
/// every byte the client sends can be inspected.
class scripted_broker {
 public:
  scripted_broker() { listen_fd_ = factorysim::test::listen_on_loopback(port_, 4); }
  ~scripted_broker() {
    drop();
    ::close(listen_fd_);
  }
  scripted_broker(const scripted_broker&) = delete;
  scripted_broker& operator=(const scripted_broker&) = delete;

  int port() const { return port_; }

  /// Accepts the client's next connection; false when none came in time.
  bool accept(boost::asio::io_context& io) {
    drop();
    if (!run_until(
            io,
            [&] {
              pollfd p{listen_fd_, POLLIN, 0};
              return ::poll(&p, 1, 0) > 0;
            },
            10s))
      return false;
    fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    return fd_ >= 0;
  }

  /// The next whole packet the client sent (first byte and body); nullopt on timeout or EOF.
  std::optional<std::pair<int, std::string>> next(boost::asio::io_context& io) {
    std::optional<std::pair<int, std::string>> got;
    run_until(
        io,
        [&] {
          if (got) return true;  // run_until asks once more after the loop
          std::size_t used = 0;
          if (auto p = factorysim::mqtt::next_packet(in_, used)) {
            got.emplace((static_cast<int>(p->type) << 4) | p->flags, std::string(p->body));
            in_.erase(0, used);
            return true;
          }
          char chunk[4096];
          const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
          if (n > 0) in_.append(chunk, static_cast<std::size_t>(n));
          if (n == 0) eof_ = true;
          return eof_;
        },
        10s);
    return got;
  }

  /// True once the client closed its side (reads EOF), waiting up to 10 s.
  bool closed_by_client(boost::asio::io_context& io) {
    while (!eof_) {
      if (!next(io) && !eof_) return false;
    }
    return true;
  }

  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void drop() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
    eof_ = false;
  }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
};

const std::string connack_accepted{'\x20', '\x02', '\x00', '\x00'};

std::string puback(std::uint16_t id) {
  std::string out;
  factorysim::mqtt::encode_ack(out, factorysim::mqtt::packet_type::puback, id);
  return out;
}

/// MQTT 3.1.1 unless a test asks for 5: the scripted broker speaks the bytes it is given.
publisher_options scripted_options(const scripted_broker& broker, const std::string& client_id,
                                   factorysim::mqtt::protocol version =
                                       factorysim::mqtt::protocol::v311) {
  auto o = options_at("127.0.0.1", broker.port(), client_id);
  o.version = version;
  return o;
}

/// A v5 CONNACK accepting us with these properties (already encoded).
std::string connack_v5(const std::string& properties) {
  std::string body{'\x00', '\x00'};
  body += static_cast<char>(properties.size());
  body += properties;
  return std::string{'\x20', static_cast<char>(body.size())} + body;
}

/// A v5 PUBACK with a reason code.
std::string puback_v5(std::uint16_t id, int reason) {
  return std::string{'\x40', '\x03', static_cast<char>(id >> 8), static_cast<char>(id & 0xff),
                     static_cast<char>(reason)};
}

factorysim::mqtt::publish parse_v5_publish(const std::pair<int, std::string>& p) {
  namespace wire = factorysim::mqtt;
  return wire::parse_publish({static_cast<wire::packet_type>(p.first >> 4),
                              static_cast<std::uint8_t>(p.first & 0x0F), p.second},
                             wire::protocol::v5);
}

TEST(publisher_wire, resends_what_was_not_acknowledged_with_dup_after_a_reconnect) {
  namespace wire = factorysim::mqtt;
  scripted_broker broker;
  boost::asio::io_context io;
  auto o = scripted_options(broker, "resend");
  o.will_topic = "resend/status";
  o.will_payload = "offline";
  publisher client(io, o);
  client.start();

  ASSERT_TRUE(broker.accept(io));
  auto connect = broker.next(io);
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->first, 0x10);
  // Protocol level 4, flags: will retained QoS 1 (0x2C), clean session off.
  ASSERT_GE(connect->second.size(), 8u);
  EXPECT_EQ(connect->second[6], '\x04');
  EXPECT_EQ(static_cast<unsigned char>(connect->second[7]), 0x2C);
  broker.send(connack_accepted);
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));

  // Published in one handler: they leave together, and the broker sees them in order.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client.publish("resend/a", "m" + std::to_string(i), 1, false));
  std::vector<wire::publish> first;
  std::vector<std::pair<int, std::string>> raw;
  for (int i = 0; i < 3; ++i) {
    auto p = broker.next(io);
    ASSERT_TRUE(p) << "PUBLISH " << i << " not sent";
    raw.push_back(*p);
  }
  for (const auto& [head, body] : raw) {
    wire::packet p{static_cast<wire::packet_type>(head >> 4),
                   static_cast<std::uint8_t>(head & 0x0F), body};
    ASSERT_EQ(p.type, wire::packet_type::publish);
    first.push_back(wire::parse_publish(p, wire::protocol::v311));
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(first[i].payload, "m" + std::to_string(i));
    EXPECT_EQ(first[i].qos, 1);
    EXPECT_FALSE(first[i].dup);
  }
  EXPECT_NE(first[0].packet_id, first[1].packet_id);
  EXPECT_NE(first[1].packet_id, first[2].packet_id);

  // Only the first is acknowledged; then the connection breaks.
  broker.send(puback(first[0].packet_id));
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == 1; }, 10s));
  EXPECT_EQ(client.in_flight(), 2u);
  broker.drop();
  ASSERT_TRUE(run_until(
      io, [&] { return !client.connected(); }, 10s));

  ASSERT_TRUE(broker.accept(io)) << "no reconnect";
  ASSERT_TRUE(broker.next(io));  // CONNECT
  broker.send(connack_accepted);
  for (int i = 1; i < 3; ++i) {
    auto p = broker.next(io);
    ASSERT_TRUE(p) << "message " << i << " not re-sent";
    const auto m = wire::parse_publish({static_cast<wire::packet_type>(p->first >> 4),
                                        static_cast<std::uint8_t>(p->first & 0x0F), p->second},
                                       wire::protocol::v311);
    EXPECT_TRUE(m.dup) << "a re-send must carry DUP";
    EXPECT_EQ(m.packet_id, first[i].packet_id) << "a re-send keeps its packet id";
    EXPECT_EQ(m.payload, "m" + std::to_string(i));
    broker.send(puback(m.packet_id));
  }
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == 3; }, 10s));
  EXPECT_EQ(client.in_flight(), 0u);
  EXPECT_EQ(client.counters().disconnects, 1u);
  EXPECT_EQ(client.counters().reconnects, 1u);
  EXPECT_EQ(client.counters().published, 3u);

  // A clean shutdown ends with DISCONNECT, so the broker would not publish the will.
  bool done = false;
  client.async_shutdown(2s, [&](bool) { done = true; });
  auto last = broker.next(io);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, 0xE0);
  EXPECT_TRUE(run_until(
      io, [&] { return done; }, 5s));
}

TEST(publisher_wire, a_packet_a_publisher_cannot_receive_ends_the_connection) {
  scripted_broker broker;
  boost::asio::io_context io;
  publisher client(io, scripted_options(broker, "bad-peer"));
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  ASSERT_TRUE(broker.accept(io));
  ASSERT_TRUE(broker.next(io));
  broker.send(connack_accepted);
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));
  ASSERT_TRUE(client.publish("bad/a", "kept", 1, false));
  ASSERT_TRUE(broker.next(io));
  // A SUBACK to a client that never subscribed.
  broker.send(std::string{'\x90', '\x03', '\x00', '\x01', '\x00'});
  EXPECT_TRUE(broker.closed_by_client(io));
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().disconnects == 1; }, 10s));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.back().find("protocol error"), std::string::npos) << errors.back();

  // The message was not acknowledged: it comes again on the next connection, which then
  // meets a length field no MQTT packet can have.
  ASSERT_TRUE(broker.accept(io));
  ASSERT_TRUE(broker.next(io));
  broker.send(connack_accepted);
  auto again = broker.next(io);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->first & 0xF0, 0x30);
  EXPECT_EQ(client.in_flight(), 1u);
  broker.send(std::string{'\x40', '\xFF', '\xFF', '\xFF', '\xFF', '\x01'});
  EXPECT_TRUE(broker.closed_by_client(io));
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().disconnects == 2; }, 10s));
  EXPECT_NE(errors.back().find("protocol error"), std::string::npos) << errors.back();
  EXPECT_EQ(client.in_flight(), 1u);
}

// Issue 12: over MQTT 3.1.1 a broker that drops a message (size limit, full queue) still
// acknowledges it, and the simulator said "0 publish errors". MQTT 5 carries the reason: a
// refusal is counted, reported once per kind, and the message is not retried.
TEST(publisher_wire, v5_broker_refusals_are_counted_not_hidden) {
  namespace wire = factorysim::mqtt;
  scripted_broker broker;
  boost::asio::io_context io;
  publisher client(io, scripted_options(broker, "v5-refusals", wire::protocol::v5));
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  ASSERT_TRUE(broker.accept(io));
  auto connect = broker.next(io);
  ASSERT_TRUE(connect);
  EXPECT_EQ(connect->second[6], '\x05') << "protocol level 5";
  broker.send(connack_v5(""));
  ASSERT_TRUE(run_until(io, [&] { return client.connected(); }, 10s));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.publish("v5/a", "m" + std::to_string(i), 1, false));
  std::vector<wire::publish> sent;
  std::vector<std::pair<int, std::string>> raw;
  for (int i = 0; i < 4; ++i) {
    auto p = broker.next(io);
    ASSERT_TRUE(p);
    raw.push_back(*p);
  }
  for (const auto& p : raw) sent.push_back(parse_v5_publish(p));
  broker.send(puback_v5(sent[0].packet_id, 0x00));
  broker.send(puback_v5(sent[1].packet_id, 0x10));  // no matching subscribers: delivered
  broker.send(puback_v5(sent[2].packet_id, 0x97));  // quota exceeded: dropped by the broker
  broker.send(puback_v5(sent[3].packet_id, 0x97));
  ASSERT_TRUE(run_until(io, [&] { return client.in_flight() == 0; }, 10s));
  const auto& c = client.counters();
  EXPECT_EQ(c.acknowledged, 2u);
  EXPECT_EQ(c.no_subscribers, 1u);
  EXPECT_EQ(c.rejected, 2u);
  ASSERT_EQ(c.rejected_by_reason.size(), 1u);
  EXPECT_EQ(c.rejected_by_reason[0].first, 0x97);
  EXPECT_EQ(c.rejected_by_reason[0].second, 2u);
  std::size_t reported = 0;
  for (const auto& e : errors) reported += e.find("quota exceeded") != std::string::npos;
  EXPECT_EQ(reported, 1u) << "one report per kind, the rest counted";
  // Not retried: nothing more arrives, even after a reconnect.
  broker.drop();
  ASSERT_TRUE(broker.accept(io));
  ASSERT_TRUE(broker.next(io));
  broker.send(connack_v5(""));
  ASSERT_TRUE(run_until(io, [&] { return client.connected(); }, 10s));
  bool done = false;
  client.async_shutdown(2s, [&](bool) { done = true; });
  auto last = broker.next(io);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->first, 0xE0) << "only DISCONNECT, no re-send of a refused message";
  EXPECT_TRUE(run_until(io, [&] { return done; }, 5s));
}

TEST(publisher_wire, v5_receive_maximum_and_maximum_packet_size_of_the_broker_are_kept) {
  namespace wire = factorysim::mqtt;
  scripted_broker broker;
  boost::asio::io_context io;
  auto o = scripted_options(broker, "v5-limits", wire::protocol::v5);
  o.max_inflight = 100;
  publisher client(io, o);
  std::vector<std::string> errors;
  client.on_error([&](std::string_view line) { errors.emplace_back(line); });
  client.start();
  ASSERT_TRUE(broker.accept(io));
  ASSERT_TRUE(broker.next(io));
  // Receive Maximum 2 (0x21), Maximum Packet Size 100 (0x27).
  broker.send(connack_v5(std::string{'\x21', '\x00', '\x02', '\x27', '\x00', '\x00', '\x00', '\x64'}));
  ASSERT_TRUE(run_until(io, [&] { return client.connected(); }, 10s));
  ASSERT_TRUE(client.publish("v5/big", std::string(200, 'x'), 1, false));
  EXPECT_EQ(client.counters().publish_errors, 1u) << "larger than the broker takes";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.publish("v5/a", "m" + std::to_string(i), 1, false));
  std::vector<wire::publish> sent;
  std::vector<std::pair<int, std::string>> raw;
  for (int i = 0; i < 2; ++i) {
    auto p = broker.next(io);
    ASSERT_TRUE(p);
    raw.push_back(*p);
  }
  for (const auto& p : raw) sent.push_back(parse_v5_publish(p));
  EXPECT_EQ(sent[0].payload, "m0");
  EXPECT_EQ(sent[1].payload, "m1");
  // No third one before an acknowledgement: the broker would disconnect us (0x93).
  run_until(io, [] { return false; }, 300ms);
  broker.send(puback_v5(sent[0].packet_id, 0));
  auto third = broker.next(io);
  ASSERT_TRUE(third);
  EXPECT_EQ(parse_v5_publish(*third).payload, "m2");
  EXPECT_EQ(client.in_flight(), 4u);
}

TEST(publisher_wire, a_broker_that_only_speaks_3_1_1_is_named_and_not_retried) {
  scripted_broker broker;
  boost::asio::io_context io;
  publisher client(io, scripted_options(broker, "old-broker", factorysim::mqtt::protocol::v5));
  std::string fatal;
  client.on_error([](std::string_view) {});
  client.on_fatal([&](const std::string& why) { fatal = why; });
  client.start();
  ASSERT_TRUE(broker.accept(io));
  ASSERT_TRUE(broker.next(io));
  // A 3.1.1 broker's answer to a level-5 CONNECT: return code 1.
  broker.send(std::string{'\x20', '\x02', '\x00', '\x01'});
  ASSERT_TRUE(run_until(io, [&] { return !fatal.empty(); }, 10s));
  EXPECT_NE(fatal.find("3.1.1"), std::string::npos) << fatal;
  EXPECT_NE(fatal.find("does not speak MQTT 5"), std::string::npos) << fatal;
}

TEST(publisher, v5_message_over_the_brokers_size_limit_is_a_counted_refusal) {
  mosquitto_server_options bopts;
  bopts.extra_config = {"message_size_limit 1000"};
  mosquitto_server broker(bopts);
  boost::asio::io_context io;
  auto o = options_for(broker, "size-limit");
  o.version = factorysim::mqtt::protocol::v5;
  publisher client(io, o);
  client.on_error([](std::string_view) {});
  client.start();
  ASSERT_TRUE(run_until(io, [&] { return client.connected(); }, 10s)) << broker.log();
  ASSERT_TRUE(client.publish("limit/a", std::string(5000, 'x'), 1, false));
  ASSERT_TRUE(client.publish("limit/a", "small", 1, false));
  ASSERT_TRUE(run_until(io, [&] { return client.in_flight() == 0; }, 10s)) << broker.log();
  EXPECT_EQ(client.counters().rejected, 1u) << broker.log();
  EXPECT_EQ(client.counters().acknowledged, 1u);
  ASSERT_EQ(client.counters().rejected_by_reason.size(), 1u);
  EXPECT_EQ(client.counters().rejected_by_reason[0].first, 0x95) << "packet too large";
}

TEST(publisher, qos2_messages_arrive_once_and_in_order) {
  mosquitto_server broker;
  collector_options copts;
  copts.qos = 2;
  mqtt_collector collector(broker.host(), broker.port(), "q2/#", copts);
  boost::asio::io_context io;
  auto o = options_for(broker, "q2-pub");
  o.max_inflight = 20;
  publisher client(io, o);
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.connected(); }, 10s));
  constexpr std::size_t n = 300;
  producer p{client, "q2/a", n, 80, 2};
  p.attach();
  p.pump();
  ASSERT_TRUE(run_until(
      io, [&] { return client.counters().acknowledged == n; }, 30s))
      << "acknowledged " << client.counters().acknowledged;
  EXPECT_EQ(client.in_flight(), 0u);
  ASSERT_TRUE(collector.wait_for_count(n, 30s)) << "received " << collector.count();
  collector.wait_quiet(300ms, 3s);
  const auto messages = collector.messages();
  ASSERT_EQ(messages.size(), n) << "QoS 2 delivers exactly once";
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(seq_of(messages[i].payload), i);
    EXPECT_EQ(messages[i].qos, 2);
  }
}

}  // namespace
