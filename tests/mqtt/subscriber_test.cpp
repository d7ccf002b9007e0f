// mqtt::subscriber (the ingestor's QoS 1 subscriber) against a real mosquitto on a free loopback port
// (messages published with libmosquitto and acknowledged by the broker before we look):
// bulk delivery with binary and large payloads (v3.1.1 and v5 with properties), the
// persistent session, redelivery of what was never handed over, a broker restart mid-stream,
// acknowledgement only through acknowledge_through (what was handed over but not released is
// redelivered, acknowledgements of an old connection are dropped, v5 Receive Maximum against
// mosquitto's default window of 20), refused logins, nothing listening, v5 shared
// subscriptions, keepalive, a fake broker that sends malformed packets, and reconnect pacing
// when connections die right after CONNACK.
#include "mqtt/subscriber.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/sha.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_server.hpp"

namespace factorysim::mqtt {
namespace {

using namespace std::chrono_literals;
using test::mosquitto_server;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct message {
  std::string topic;
  std::string payload;
  std::uint64_t seq = 0;  ///< the subscriber's sequence number (0 in what we publish)
};

/// Collects what one subscriber hands over and logs, thread-safely.
class inbox {
 public:
  using gate_fn = std::function<void(std::span<const message_view>)>;

  /// Handlers recording into this inbox; `gate` runs first on every call and may block.
  subscriber_handlers handlers(gate_fn gate = {}) {
    subscriber_handlers h;
    h.on_messages = [this, gate](std::span<const message_view> batch, std::uint64_t first) {
      if (gate) gate(batch);
      {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < batch.size(); ++i)
          messages_.push_back(
              {std::string(batch[i].topic), std::string(batch[i].payload), first + i});
        changed_.notify_all();
      }
      // As the ingestor does after a commit, only here right after recording.
      if (auto* sub = acknowledger_.load()) sub->acknowledge_through(first + batch.size() - 1);
      return true;
    };
    h.on_log = [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      logs_.push_back(line);
      changed_.notify_all();
    };
    return h;
  }

  /// From now on every recorded call is acknowledged through `sub` (set before sub.start()).
  void acknowledge_through(subscriber& sub) { acknowledger_ = &sub; }

  /// Waits until pred(messages, logs) holds; false on timeout.
  bool wait_until(
      const std::function<bool(const std::vector<message>&, const std::vector<std::string>&)>& pred,
      std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(messages_, logs_); });
  }
  bool wait_count(std::size_t n, std::chrono::milliseconds timeout = 30s) {
    return wait_until([n](const auto& m, const auto&) { return m.size() >= n; }, timeout);
  }
  /// The SUBACK granted QoS 1 (the subscriber logs it).
  bool wait_subscribed(std::chrono::milliseconds timeout = 20s) {
    return wait_until(
        [](const auto&, const auto& logs) {
          return std::any_of(logs.begin(), logs.end(), [](const std::string& l) {
            return lower(l).find("subscribed") != std::string::npos;
          });
        },
        timeout);
  }
  std::size_t logs_containing(const std::string& word) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(logs_.begin(), logs_.end(), [&](const auto& l) {
      return lower(l).find(word) != std::string::npos;
    }));
  }
  std::vector<message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::set<std::string> payloads() const {
    std::lock_guard lock(mutex_);
    std::set<std::string> s;
    for (const auto& m : messages_) s.insert(m.payload);
    return s;
  }
  std::string log_text() const {
    std::lock_guard lock(mutex_);
    std::string s;
    for (const auto& l : logs_) s += "  " + l + "\n";
    return s;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<message> messages_;
  std::vector<std::string> logs_;
  std::atomic<subscriber*> acknowledger_{nullptr};
};

/// Publishes at QoS 1 through libmosquitto; wait_acked() returns once the broker sent a
/// PUBACK for every message (so it holds them for every matching session).
class reference_publisher {
 public:
  explicit reference_publisher(int port, bool v5 = false) : v5_(v5) {
    test::ensure_mosquitto_lib_init();
    mosq_ = mosquitto_new(nullptr, true, this);
    if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
    if (v5_) mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
      auto* p = static_cast<reference_publisher*>(self);
      std::lock_guard lock(p->mutex_);
      ++p->acked_;
      p->changed_.notify_all();
    });
    mosquitto_max_inflight_messages_set(mosq_, 1000);
    const int rc = mosquitto_connect(mosq_, "127.0.0.1", port, 30);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(mosq_);
      throw std::runtime_error("reference_publisher cannot connect to 127.0.0.1:" + std::to_string(port) +
                               ": " + mosquitto_strerror(rc));
    }
    mosquitto_loop_start(mosq_);
  }
  ~reference_publisher() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }
  reference_publisher(const reference_publisher&) = delete;
  reference_publisher& operator=(const reference_publisher&) = delete;

  void publish(const std::string& topic, const std::string& payload) {
    mosquitto_property* props = nullptr;
    if (v5_) {
      // Properties the broker forwards: the subscriber must skip them.
      mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 0);
      mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 3600);
      mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "application/json");
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "source", "test");
    }
    const int rc =
        mosquitto_publish_v5(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), 1, false, props);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS)
      throw std::runtime_error(std::string("publish failed: ") + mosquitto_strerror(rc));
    std::lock_guard lock(mutex_);
    ++sent_;
  }

  /// Throws when the broker did not acknowledge everything within the timeout.
  void wait_acked(std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return acked_ >= sent_; }))
      throw std::runtime_error("broker acknowledged " + std::to_string(acked_) + " of " +
                               std::to_string(sent_) + " messages");
  }

 private:
  mosquitto* mosq_ = nullptr;
  bool v5_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  long acked_ = 0;
  long sent_ = 0;
};

void publish_all(int port, const std::vector<message>& messages, bool v5 = false) {
  reference_publisher p(port, v5);
  for (const auto& m : messages) p.publish(m.topic, m.payload);
  p.wait_acked();
}

std::vector<message> numbered(const std::string& topic, const std::string& prefix, int from,
                              int to) {
  std::vector<message> v;
  for (int i = from; i < to; ++i) v.push_back({topic, prefix + std::to_string(i)});
  return v;
}

subscriber_options options_for(int port, const std::string& client_id,
                                    const std::string& filter = "t/#",
                                    mqtt::protocol version = mqtt::protocol::v311) {
  subscriber_options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.client_id = client_id;
  o.filter = filter;
  o.version = version;
  o.reconnect_min = 100ms;
  o.reconnect_max = 500ms;
  o.connect_timeout = 5s;
  return o;
}

/// First index where two payload lists differ, for a readable failure (payloads can be
/// 300 KB of binary).
std::string first_difference(const std::vector<std::string>& expected,
                             const std::vector<std::string>& got) {
  for (std::size_t i = 0; i < std::min(expected.size(), got.size()); ++i) {
    if (expected[i] != got[i])
      return "index " + std::to_string(i) + ": expected " + std::to_string(expected[i].size()) +
             " bytes starting '" + expected[i].substr(0, 20) + "', got " +
             std::to_string(got[i].size()) + " bytes starting '" + got[i].substr(0, 20) + "'";
  }
  if (expected.size() != got.size())
    return "expected " + std::to_string(expected.size()) + " messages, got " +
           std::to_string(got.size());
  return "";
}

// ---- (a) bulk delivery ----------------------------------------------------------------

void check_bulk_delivery(mqtt::protocol version) {
  mosquitto_server server;
  inbox in;
  subscriber sub(options_for(server.port(), "bulk", "t/#", version), in.handlers());
  in.acknowledge_through(sub);
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();

  constexpr int count = 2000;
  std::vector<message> sent;
  for (int i = 0; i < count; ++i) {
    std::string payload = "{\"seq\":" + std::to_string(i) + "}";
    if (i == 10) payload = std::string("nul\0in\0the\0\0middle", 19) + std::to_string(i);
    if (i == 1001) {
      payload.resize(300 * 1024);
      for (std::size_t k = 0; k < payload.size(); ++k)
        payload[k] = static_cast<char>((k * 31 + 7) % 256);
    }
    sent.push_back({"t/" + std::to_string(i % 4), payload});
  }
  publish_all(server.port(), sent, version == mqtt::protocol::v5);

  ASSERT_TRUE(in.wait_count(count)) << "got " << in.messages().size() << "\n" << in.log_text();
  // Anything extra (a duplicate) would show up right behind the rest.
  std::this_thread::sleep_for(300ms);
  const auto got = in.messages();
  EXPECT_EQ(static_cast<std::size_t>(count), got.size());

  std::map<std::string, std::vector<std::string>> expected_by_topic, got_by_topic;
  for (const auto& m : sent) expected_by_topic[m.topic].push_back(m.payload);
  for (const auto& m : got) got_by_topic[m.topic].push_back(m.payload);
  EXPECT_EQ(expected_by_topic.size(), got_by_topic.size());
  for (const auto& [topic, expected] : expected_by_topic) {
    SCOPED_TRACE(topic);
    EXPECT_EQ("", first_difference(expected, got_by_topic[topic]));
  }
  EXPECT_EQ(static_cast<std::uint64_t>(count), sub.counters().messages.load());
  EXPECT_EQ(1u, sub.counters().connects.load());
  EXPECT_GT(sub.counters().reads.load(), 0u);
  sub.stop();
  // Everything was released as it came, so all of it was acknowledged by the end.
  EXPECT_EQ(static_cast<std::uint64_t>(count), sub.counters().acknowledged.load());
  EXPECT_EQ(0u, sub.counters().dropped_acks.load());
}

TEST(mqtt_subscriber, v311_delivers_every_message_once_in_order_with_bytes_intact) {
  check_bulk_delivery(mqtt::protocol::v311);
}

TEST(mqtt_subscriber, v5_delivers_every_message_once_in_order_with_properties_skipped) {
  check_bulk_delivery(mqtt::protocol::v5);
}

// ---- (b) persistent session -----------------------------------------------------------

void check_persistent_session(mqtt::protocol version) {
  mosquitto_server server;
  const auto options = options_for(server.port(), "persistent", "t/#", version);
  {
    inbox first;
    subscriber sub(options, first.handlers());
    sub.start();
    ASSERT_TRUE(first.wait_subscribed()) << first.log_text();
    sub.stop();
  }
  const auto sent = numbered("t/offline", "offline-", 0, 100);
  publish_all(server.port(), sent, version == mqtt::protocol::v5);

  inbox second;
  subscriber sub(options, second.handlers());
  second.acknowledge_through(sub);
  sub.start();
  ASSERT_TRUE(second.wait_count(sent.size())) << "got " << second.messages().size() << "\n"
                                              << second.log_text();
  // First arrivals in publishing order (a duplicate would be allowed by QoS 1).
  std::vector<std::string> expected, got;
  for (const auto& m : sent) expected.push_back(m.payload);
  std::set<std::string> seen;
  for (const auto& m : second.messages())
    if (seen.insert(m.payload).second) got.push_back(m.payload);
  EXPECT_EQ("", first_difference(expected, got));
  sub.stop();
}

TEST(mqtt_subscriber, v311_session_outlives_stop_and_queues_messages_meanwhile) {
  check_persistent_session(mqtt::protocol::v311);
}

TEST(mqtt_subscriber, v5_session_outlives_stop_and_queues_messages_meanwhile) {
  check_persistent_session(mqtt::protocol::v5);
}

// ---- (c) redelivery -------------------------------------------------------------------

TEST(mqtt_subscriber, messages_never_handed_over_are_redelivered_to_the_next_session) {
  mosquitto_server server;
  const auto options = options_for(server.port(), "redelivery");

  // The first call of on_messages blocks until the test lets go, so whatever the broker
  // sends meanwhile stays unread in the socket.
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool entered = false;
  bool release = false;
  const auto gate = [&](std::span<const message_view>) {
    std::unique_lock lock(gate_mutex);
    entered = true;
    gate_changed.notify_all();
    gate_changed.wait(lock, [&] { return release; });
  };
  inbox first;
  auto sub = std::make_unique<subscriber>(options, first.handlers(gate));
  sub->start();
  ASSERT_TRUE(first.wait_subscribed()) << first.log_text();

  publish_all(server.port(), {{"t/r", "r-0"}});
  {
    std::unique_lock lock(gate_mutex);
    ASSERT_TRUE(gate_changed.wait_for(lock, 20s, [&] { return entered; })) << first.log_text();
  }
  const auto rest = numbered("t/r", "r-", 1, 50);
  publish_all(server.port(), rest);

  // stop() while on_messages still blocks; the short pause only orders the two so that the
  // subscriber learns of the stop before the callback returns. The check below holds either
  // way: it concerns messages the first subscriber never saw.
  std::thread stopper([&] { sub->stop(); });
  std::this_thread::sleep_for(200ms);
  {
    std::lock_guard lock(gate_mutex);
    release = true;
  }
  gate_changed.notify_all();
  stopper.join();
  sub.reset();

  const auto seen_first = first.payloads();
  EXPECT_LT(seen_first.size(), 50u) << "the first subscriber saw everything: nothing to redeliver";
  std::set<std::string> missing;
  for (const auto& m : rest)
    if (seen_first.count(m.payload) == 0) missing.insert(m.payload);

  inbox second;
  subscriber again(options, second.handlers());
  again.start();
  const bool all = second.wait_until([&](const auto& messages, const auto&) {
    std::size_t found = 0;
    std::set<std::string> s;
    for (const auto& m : messages)
      if (missing.count(m.payload) != 0 && s.insert(m.payload).second) ++found;
    return found == missing.size();
  });
  EXPECT_TRUE(all) << "missing " << missing.size() << ", second subscriber got "
                   << second.messages().size() << "\n"
                   << second.log_text();
  again.stop();
}

// ---- (d) broker restart ---------------------------------------------------------------

TEST(mqtt_subscriber, reconnects_after_a_broker_restart_mid_stream_and_loses_nothing) {
  mosquitto_server server;
  // The first hand-over blocks until the broker is down: the restart lands mid-stream, with
  // messages handed over but not yet acknowledged and more waiting in the session.
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool entered = false;
  bool broker_stopped = false;
  const auto gate = [&](std::span<const message_view>) {
    std::unique_lock lock(gate_mutex);
    if (broker_stopped) return;
    entered = true;
    gate_changed.notify_all();
    gate_changed.wait(lock, [&] { return broker_stopped; });
  };
  inbox in;
  subscriber sub(options_for(server.port(), "restart"), in.handlers(gate));
  in.acknowledge_through(sub);
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();

  const auto before = numbered("t/x", "before-", 0, 1000);
  publish_all(server.port(), before);
  {
    std::unique_lock lock(gate_mutex);
    ASSERT_TRUE(gate_changed.wait_for(lock, 20s, [&] { return entered; })) << in.log_text();
  }
  server.stop();
  {
    std::lock_guard lock(gate_mutex);
    broker_stopped = true;
  }
  gate_changed.notify_all();
  server.start();

  const auto after = numbered("t/x", "after-", 0, 1000);
  publish_all(server.port(), after);

  std::set<std::string> expected;
  for (const auto& m : before) expected.insert(m.payload);
  for (const auto& m : after) expected.insert(m.payload);
  const bool all = in.wait_until([&](const auto& messages, const auto&) {
    std::set<std::string> s;
    for (const auto& m : messages)
      if (expected.count(m.payload) != 0) s.insert(m.payload);
    return s.size() == expected.size();
  });
  EXPECT_TRUE(all) << "got " << in.payloads().size() << " distinct of " << expected.size() << "\n"
                   << in.log_text() << "broker log:\n"
                   << server.log();
  EXPECT_GE(sub.counters().connects.load(), 2u);
  sub.stop();
}

// ---- (e) acknowledgement through acknowledge_through ----------------------------------
// Issue 3: the ingestor acknowledges a message only once it is stored, so the subscriber must
// send a PUBACK for exactly the messages released, never for the others.

/// Polls `condition` until it holds; false after `timeout`.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Payloads in arrival order.
std::vector<std::string> payload_list(const std::vector<message>& messages) {
  std::vector<std::string> v;
  for (const auto& m : messages) v.push_back(m.payload);
  return v;
}

/// A fresh subscriber with `options` (acknowledging everything) receives what the broker
/// still holds for the session, then a marker published behind it: returns the payloads
/// before the marker. The broker sends a session's redeliveries ahead of new messages.
std::vector<std::string> redelivered_to_next_session(const mosquitto_server& server,
                                                     const subscriber_options& options) {
  inbox in;
  subscriber sub(options, in.handlers());
  in.acknowledge_through(sub);
  sub.start();
  EXPECT_TRUE(in.wait_subscribed()) << in.log_text();
  publish_all(server.port(), {{"t/marker", "marker"}});
  const bool got_marker = in.wait_until([](const auto& messages, const auto&) {
    return std::any_of(messages.begin(), messages.end(),
                       [](const message& m) { return m.payload == "marker"; });
  });
  EXPECT_TRUE(got_marker) << in.log_text();
  sub.stop();
  auto got = payload_list(in.messages());
  got.erase(std::find(got.begin(), got.end(), "marker"), got.end());
  return got;
}

void check_only_released_messages_are_acknowledged(mqtt::protocol version) {
  mosquitto_server server;
  const auto options = options_for(server.port(), "released", "t/#", version);
  const auto sent = numbered("t/a", "a-", 0, 100);
  {
    inbox first;
    subscriber sub(options, first.handlers());
    sub.start();
    ASSERT_TRUE(first.wait_subscribed()) << first.log_text();
    publish_all(server.port(), sent, version == mqtt::protocol::v5);
    ASSERT_TRUE(first.wait_count(sent.size())) << first.log_text();
    const auto got = first.messages();
    ASSERT_EQ(sent.size(), got.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(sent[i].payload, got[i].payload);
      ASSERT_EQ(i + 1, got[i].seq) << "numbers count handed-over messages from 1";
    }
    // The gauge is updated right after on_messages returns.
    EXPECT_TRUE(eventually([&] { return sub.counters().unacknowledged.load() == sent.size(); }))
        << sub.counters().unacknowledged.load();
    EXPECT_EQ(0u, sub.counters().acknowledged.load()) << "acknowledged before being released";
    // Release the first 60 and stop at once: stop() writes them before DISCONNECT.
    sub.acknowledge_through(got[59].seq);
    sub.acknowledge_through(got[10].seq);  // lower than before: ignored
    sub.stop();
    EXPECT_EQ(60u, sub.counters().acknowledged.load()) << first.log_text();
    EXPECT_EQ(40u, sub.counters().dropped_acks.load());
  }
  std::vector<std::string> expected;
  for (std::size_t i = 60; i < sent.size(); ++i) expected.push_back(sent[i].payload);
  EXPECT_EQ("", first_difference(expected, redelivered_to_next_session(server, options)));
}

TEST(mqtt_subscriber, v311_only_messages_released_by_acknowledge_through_are_acknowledged) {
  check_only_released_messages_are_acknowledged(mqtt::protocol::v311);
}

TEST(mqtt_subscriber, v5_only_messages_released_by_acknowledge_through_are_acknowledged) {
  check_only_released_messages_are_acknowledged(mqtt::protocol::v5);
}

TEST(mqtt_subscriber, acknowledge_on_handover_acknowledges_each_read_after_the_call) {
  mosquitto_server server;
  auto options = options_for(server.port(), "on-handover");
  options.acknowledge_on_handover = true;
  const auto sent = numbered("t/h", "h-", 0, 50);
  {
    inbox first;
    subscriber sub(options, first.handlers());
    sub.start();
    ASSERT_TRUE(first.wait_subscribed()) << first.log_text();
    publish_all(server.port(), sent);
    ASSERT_TRUE(first.wait_count(sent.size())) << first.log_text();
    sub.stop();
    EXPECT_EQ(sent.size(), sub.counters().acknowledged.load());
  }
  EXPECT_EQ("", first_difference({}, redelivered_to_next_session(server, options)));
}

TEST(mqtt_subscriber, acknowledgements_of_an_old_connection_are_not_sent_on_the_new_one) {
  mosquitto_server server;
  const auto options = options_for(server.port(), "old-connection");
  const auto sent = numbered("t/o", "o-", 0, 50);
  inbox first;
  auto sub = std::make_unique<subscriber>(options, first.handlers());
  sub->start();
  ASSERT_TRUE(first.wait_subscribed()) << first.log_text();
  publish_all(server.port(), sent);
  ASSERT_TRUE(first.wait_count(sent.size())) << first.log_text();

  // The connection ends with 50 messages handed over and none released; the broker keeps
  // them in the session and redelivers them on the next connection as numbers 51..100.
  server.stop();
  server.start();
  ASSERT_TRUE(first.wait_count(2 * sent.size())) << "got " << first.messages().size() << "\n"
                                                 << first.log_text();
  EXPECT_EQ(50u, sub->counters().dropped_acks.load());
  const auto got = first.messages();
  // Releasing 1..75 must acknowledge only the redelivered copies numbered 51..75: the
  // acknowledgements of numbers 1..50 belonged to the first connection.
  sub->acknowledge_through(75);
  sub->stop();
  EXPECT_EQ(25u, sub->counters().acknowledged.load()) << first.log_text();
  sub.reset();

  std::vector<std::string> expected;
  for (const auto& m : got)
    if (m.seq > 75) expected.push_back(m.payload);
  ASSERT_EQ(25u, expected.size());
  EXPECT_EQ("", first_difference(expected, redelivered_to_next_session(server, options)));
}

TEST(mqtt_subscriber, v5_receive_maximum_bounds_the_unacknowledged_messages) {
  mosquitto_server server;
  auto options = options_for(server.port(), "window", "t/#", mqtt::protocol::v5);
  options.receive_maximum = 10;
  inbox in;
  subscriber sub(options, in.handlers());
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();
  const auto sent = numbered("t/w", "w-", 0, 50);
  publish_all(server.port(), sent, true);
  ASSERT_TRUE(in.wait_count(10)) << in.log_text();
  // The pause only gives a broker that ignored the window the time to show it.
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(10u, in.messages().size()) << "more than Receive Maximum unacknowledged";
  // Only the first window is exact: mosquitto 2.0.11 moves up to a window of queued messages
  // into flight per PUBACK it reads (10 acknowledged -> 100 sent), so the rest comes fast.
  while (in.messages().size() < sent.size()) {
    const auto have = in.messages().size();
    sub.acknowledge_through(in.messages().back().seq);
    ASSERT_TRUE(in.wait_count(have + 1)) << in.log_text();
  }
  std::this_thread::sleep_for(200ms);  // a duplicate would show up right behind
  EXPECT_EQ("", first_difference(payload_list(sent), payload_list(in.messages())));
  sub.acknowledge_through(in.messages().back().seq);
  sub.stop();
  EXPECT_EQ(sent.size(), sub.counters().acknowledged.load());
}

TEST(mqtt_subscriber, v5_receive_maximum_lifts_mosquittos_default_window_of_20) {
  // The broker's default: no max_inflight_messages line (the harness sets 0 = unlimited; a
  // later line overrides it). A v3.1.1 subscriber then gets 20 unacknowledged messages, a v5
  // one announcing Receive Maximum 65535 gets them all (docs/ingest.md, "In-flight window").
  test::mosquitto_server_options so;
  so.extra_config = {"max_inflight_messages 20"};
  mosquitto_server server(so);
  for (const auto version : {mqtt::protocol::v311, mqtt::protocol::v5}) {
    SCOPED_TRACE(version == mqtt::protocol::v5 ? "v5" : "v3.1.1");
    const std::string id = version == mqtt::protocol::v5 ? "window-v5" : "window-v311";
    inbox in;
    subscriber sub(options_for(server.port(), id, "t/" + id + "/#", version), in.handlers());
    sub.start();
    ASSERT_TRUE(in.wait_subscribed()) << in.log_text();
    publish_all(server.port(), numbered("t/" + id + "/x", "x-", 0, 200));
    const std::size_t expected = version == mqtt::protocol::v5 ? 200 : 20;
    ASSERT_TRUE(in.wait_count(expected)) << in.log_text();
    std::this_thread::sleep_for(300ms);  // a window larger than expected would show by now
    EXPECT_EQ(expected, in.messages().size());
    sub.stop();
  }
}

// ---- (f), (g) start() failures ---------------------------------------------------------

/// Runs start() and returns what() of the std::runtime_error it threw ("" if none).
std::string start_error(subscriber& sub) {
  try {
    sub.start();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(mqtt_subscriber, refused_login_makes_start_throw_and_says_so) {
  test::mosquitto_server_options so;
  so.users = {{"ingest", "secret"}};
  mosquitto_server server(so);
  for (const auto version : {mqtt::protocol::v311, mqtt::protocol::v5}) {
    SCOPED_TRACE(version == mqtt::protocol::v5 ? "v5" : "v3.1.1");
    {
      auto o = options_for(server.port(), "login", "t/#", version);
      o.username = "ingest";
      o.password = "wrong";
      inbox in;
      subscriber sub(o, in.handlers());
      const auto what = start_error(sub);
      ASSERT_FALSE(what.empty()) << "start() did not throw";
      EXPECT_NE(std::string::npos, lower(what).find("refused")) << what;
      EXPECT_EQ(0u, sub.counters().connects.load());
      sub.stop();
    }
    {
      auto o = options_for(server.port(), "anonymous", "t/#", version);
      inbox in;
      subscriber sub(o, in.handlers());
      const auto what = start_error(sub);
      ASSERT_FALSE(what.empty()) << "start() did not throw for an anonymous login";
      EXPECT_NE(std::string::npos, lower(what).find("refused")) << what;
    }
    {
      auto o = options_for(server.port(), "login", "t/#", version);
      o.username = "ingest";
      o.password = "secret";
      inbox in;
      subscriber sub(o, in.handlers());
      EXPECT_EQ("", start_error(sub));
      EXPECT_TRUE(in.wait_subscribed()) << in.log_text();
      EXPECT_EQ(1u, sub.counters().connects.load());
      sub.stop();
    }
  }
}

// Issue 12: the ingestor buffered an inbound packet of any size up to 256 MiB before its
// payload limit applied. Above the limit a PUBLISH is now read past: handed over as an
// oversized message (first bytes, size, SHA-256 of the payload), acknowledged like any other,
// and what follows it arrives intact.
TEST(mqtt_subscriber, a_publish_above_the_limit_is_read_past_with_its_size_and_digest) {
  mosquitto_server server;
  inbox in;
  std::vector<message_view> seen;
  std::mutex seen_mutex;
  auto h = in.handlers([&](std::span<const message_view> batch) {
    std::lock_guard lock(seen_mutex);
    for (const auto& v : batch) {
      message_view copy = v;
      copy.topic = {};
      copy.payload = {};
      copy.properties = {};
      seen.push_back(copy);
    }
  });
  auto o = options_for(server.port(), "oversized");
  o.max_inbound_packet_bytes = 64 * 1024;
  subscriber sub(o, std::move(h));
  in.acknowledge_through(sub);
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();
  std::string big(3 * 1024 * 1024, 'x');
  for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<char>((k * 131 + 17) % 251);
  publish_all(server.port(), {{"t/a", "before"}, {"t/big", big}, {"t/a", "after"}});
  ASSERT_TRUE(in.wait_count(3)) << in.log_text();
  const auto got = in.messages();
  ASSERT_EQ(3u, got.size());
  EXPECT_EQ("before", got[0].payload);
  EXPECT_EQ("t/big", got[1].topic);
  EXPECT_EQ("after", got[2].payload);
  std::lock_guard lock(seen_mutex);
  ASSERT_EQ(3u, seen.size());
  EXPECT_FALSE(seen[0].oversized);
  ASSERT_TRUE(seen[1].oversized);
  EXPECT_EQ(big.size(), seen[1].payload_bytes);
  EXPECT_LT(got[1].payload.size(), 128u * 1024) << "only a bounded prefix is held";
  EXPECT_EQ(big.substr(0, got[1].payload.size()), got[1].payload);
  std::array<unsigned char, 32> expected{};
  SHA256(reinterpret_cast<const unsigned char*>(big.data()), big.size(), expected.data());
  EXPECT_EQ(expected, seen[1].payload_sha256);
  EXPECT_EQ(1u, sub.counters().oversized.load());
  sub.stop();
  EXPECT_EQ(3u, sub.counters().acknowledged.load());
}

// Issue 12: a lost session was only logged. It is counted and said loudly, and the
// subscription is made again.
TEST(mqtt_subscriber, a_session_the_broker_lost_is_counted_and_subscribed_again) {
  mosquitto_server server;
  inbox in;
  subscriber sub(options_for(server.port(), "lost-session", "t/#", mqtt::protocol::v5),
                 in.handlers());
  in.acknowledge_through(sub);
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();
  server.stop();
  std::filesystem::remove(server.dir() / "mosquitto.db");  // a broker without its state
  server.start();
  ASSERT_TRUE(in.wait_until(
      [&](const auto&, const auto&) { return sub.counters().sessions_lost.load() == 1; }, 20s))
      << in.log_text();
  EXPECT_GE(in.logs_containing("did not keep our session"), 1u) << in.log_text();
  ASSERT_TRUE(in.wait_until([&](const auto&, const auto& logs) {
    return std::count_if(logs.begin(), logs.end(), [](const std::string& l) {
             return l.find("subscribed") != std::string::npos;
           }) >= 2;
  })) << in.log_text();
  publish_all(server.port(), {{"t/a", "after-loss"}});
  ASSERT_TRUE(in.wait_count(1)) << in.log_text();
  sub.stop();
}

// Issue 12: the ingestor had no TLS. Same session core as the publisher: the broker's
// certificate is checked against a CA file and the host.
TEST(mqtt_subscriber, tls_with_the_right_ca_subscribes_and_with_another_fails_at_start) {
  test::mosquitto_server_options so;
  so.tls = true;
  mosquitto_server server(so);
  test::mosquitto_server_options other_options;
  other_options.tls = true;
  mosquitto_server other(other_options);  // another CA
  {
    auto o = options_for(server.tls_port(), "tls-good", "t/#", mqtt::protocol::v5);
    o.tls = tls_options{server.ca_file(), "", "", "", false};
    inbox in;
    subscriber sub(o, in.handlers());
    in.acknowledge_through(sub);
    EXPECT_EQ("", start_error(sub));
    publish_all(server.port(), {{"t/a", "over-tls"}});
    ASSERT_TRUE(in.wait_count(1)) << in.log_text();
    EXPECT_EQ("over-tls", in.messages()[0].payload);
    sub.stop();
  }
  {
    auto o = options_for(server.tls_port(), "tls-bad", "t/#", mqtt::protocol::v5);
    o.tls = tls_options{other.ca_file(), "", "", "", false};
    inbox in;
    subscriber sub(o, in.handlers());
    const auto what = start_error(sub);
    EXPECT_NE(std::string::npos, what.find("TLS handshake")) << what;
  }
}

TEST(mqtt_subscriber, nothing_listening_makes_start_throw_naming_host_and_port) {
  const int port = test::pick_free_port();
  inbox in;
  subscriber sub(options_for(port, "nobody"), in.handlers());
  const auto what = start_error(sub);
  ASSERT_FALSE(what.empty()) << "start() did not throw";
  EXPECT_NE(std::string::npos, what.find("127.0.0.1:" + std::to_string(port))) << what;
  EXPECT_EQ(0u, sub.counters().connects.load());
  sub.stop();  // harmless after a failed start
}

// ---- (h) shared subscription ----------------------------------------------------------

TEST(mqtt_subscriber, v5_shared_subscription_splits_the_stream_between_two_subscribers) {
  mosquitto_server server;
  inbox in1, in2;
  subscriber sub1(options_for(server.port(), "shared-1", "$share/g/t/#", mqtt::protocol::v5),
                       in1.handlers());
  subscriber sub2(options_for(server.port(), "shared-2", "$share/g/t/#", mqtt::protocol::v5),
                       in2.handlers());
  in1.acknowledge_through(sub1);
  in2.acknowledge_through(sub2);
  sub1.start();
  sub2.start();
  ASSERT_TRUE(in1.wait_subscribed()) << in1.log_text();
  ASSERT_TRUE(in2.wait_subscribed()) << in2.log_text();

  const auto sent = numbered("t/s", "s-", 0, 1000);
  publish_all(server.port(), sent, true);

  std::set<std::string> expected;
  for (const auto& m : sent) expected.insert(m.payload);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::set<std::string> together;
  while (std::chrono::steady_clock::now() < deadline) {
    together = in1.payloads();
    const auto p2 = in2.payloads();
    together.insert(p2.begin(), p2.end());
    if (together == expected) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(expected.size(), together.size());
  EXPECT_TRUE(together == expected);
  const auto n1 = in1.messages().size();
  const auto n2 = in2.messages().size();
  EXPECT_GE(n1, 1u);
  EXPECT_GE(n2, 1u);
  EXPECT_EQ(1000u, n1 + n2) << n1 << " + " << n2;
  sub1.stop();
  sub2.stop();
}

// ---- (i) keepalive --------------------------------------------------------------------

TEST(mqtt_subscriber, pings_keep_an_idle_connection_alive) {
  mosquitto_server server;
  auto o = options_for(server.port(), "idle");
  // mosquitto drops a client silent for 1.5 keepalives (3 s); we ping after 1.5 s, which
  // leaves a loaded CI machine 1.5 s to schedule us.
  o.keepalive_s = 2;
  inbox in;
  subscriber sub(o, in.handlers());
  sub.start();
  ASSERT_TRUE(in.wait_subscribed()) << in.log_text();

  std::this_thread::sleep_for(5000ms);  // idle on purpose: past the broker's 3 s limit
  publish_all(server.port(), {{"t/k", "still here"}});
  ASSERT_TRUE(in.wait_count(1, 20s)) << in.log_text();
  EXPECT_EQ("still here", in.messages().at(0).payload);
  EXPECT_EQ(1u, sub.counters().connects.load()) << in.log_text() << "broker log:\n" << server.log();
  sub.stop();
}

// ---- (j) malformed packets from a fake broker ------------------------------------------

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(static_cast<unsigned char>(v)));
  return s;
}

/// A fake broker on 127.0.0.1:<free port>, one connection at a time: reads CONNECT and
/// answers `connect_reply`; when `subscribe_reply` is set, also reads SUBSCRIBE and answers
/// that. Connections stay open until the fake broker goes (the client must be the one that
/// gives up on them).
class fake_broker {
 public:
  fake_broker(std::string connect_reply, std::string subscribe_reply = {})
      : connect_reply_(std::move(connect_reply)), subscribe_reply_(std::move(subscribe_reply)) {
    listen_fd_ = test::listen_on_loopback(port_);
    thread_ = std::thread([this] { run(); });
  }
  ~fake_broker() {
    stop_ = true;
    thread_.join();
    for (const int fd : open_) ::close(fd);
    ::close(listen_fd_);
  }
  fake_broker(const fake_broker&) = delete;
  fake_broker& operator=(const fake_broker&) = delete;

  int port() const noexcept { return port_; }
  /// CONNECT packets answered so far.
  int connects() const noexcept { return connects_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      // Keep the latest connections open; close the oldest (their client gave up on them
      // long ago) so that a reconnect loop cannot exhaust the process's descriptors.
      if (open_.size() >= 64) {
        ::close(open_.front());
        open_.erase(open_.begin());
      }
      open_.push_back(fd);
      std::string buffer;
      if (read_packet(fd, buffer) != 0x10) continue;
      ++connects_;
      if (!send_all(fd, connect_reply_) || subscribe_reply_.empty()) continue;
      if ((read_packet(fd, buffer) & 0xF0) != 0x80) continue;
      send_all(fd, subscribe_reply_);
    }
  }

  /// Reads one whole packet (removing it from `buffer`); its first byte, or -1.
  int read_packet(int fd, std::string& buffer) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      // Fixed header: type byte, then up to four bytes of remaining length.
      std::size_t length = 0;
      std::size_t i = 1;
      bool have_length = false;
      for (; i < buffer.size() && i <= 4; ++i) {
        const auto b = static_cast<unsigned char>(buffer[i]);
        length |= static_cast<std::size_t>(b & 0x7F) << (7 * (i - 1));
        if ((b & 0x80) == 0) {
          have_length = true;
          break;
        }
      }
      if (have_length && buffer.size() >= i + 1 + length) {
        const int first = static_cast<unsigned char>(buffer[0]);
        buffer.erase(0, i + 1 + length);
        return first;
      }
      if (stop_ || std::chrono::steady_clock::now() > deadline) return -1;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return -1;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  std::string connect_reply_;
  std::string subscribe_reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<int> open_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connects_{0};
  std::thread thread_;
};

const std::string connack_ok = bytes({0x20, 0x02, 0x00, 0x00});
/// SUBACK of packet id 1 granting QoS 1.
const std::string suback_ok = bytes({0x90, 0x03, 0x00, 0x01, 0x01});
/// PUBLISH with a remaining length of five bytes (MQTT allows at most four).
const std::string five_byte_length = bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F});

/// The subscriber meets what `broker` sends after the subscription was granted, logs a
/// protocol error, delivers nothing and reconnects (again and again: the fake broker never
/// improves).
void expect_protocol_error_then_reconnects(fake_broker& broker) {
  inbox in;
  subscriber sub(options_for(broker.port(), "fake"), in.handlers());
  sub.start();
  const bool reconnected = in.wait_until(
      [&](const auto&, const auto&) { return sub.counters().connects.load() >= 3; }, 20s);
  // wait_until is woken by log lines, and every reconnect logs.
  EXPECT_TRUE(reconnected) << "connects " << sub.counters().connects.load() << "\n"
                           << in.log_text();
  EXPECT_GE(in.logs_containing("protocol"), 1u) << in.log_text();
  EXPECT_TRUE(in.messages().empty());
  sub.stop();
  EXPECT_GE(broker.connects(), 2);
}

TEST(mqtt_subscriber, garbage_right_after_suback_is_a_protocol_error_then_a_reconnect) {
  fake_broker broker(connack_ok, suback_ok + five_byte_length);
  expect_protocol_error_then_reconnects(broker);
}

TEST(mqtt_subscriber, garbage_before_the_suback_makes_start_throw_naming_it) {
  // start() waits for the subscription: a broker that breaks the protocol before granting it
  // is reported at once instead of being retried in the background.
  fake_broker broker(connack_ok + five_byte_length);
  inbox in;
  subscriber sub(options_for(broker.port(), "fake"), in.handlers());
  const auto what = start_error(sub);
  EXPECT_NE(std::string::npos, what.find("protocol error")) << what;
  EXPECT_NE(std::string::npos, what.find("127.0.0.1:" + std::to_string(broker.port()))) << what;
}

// Issue 12: a refused SUBACK was only logged, and the ingestor sat there receiving nothing.
TEST(mqtt_subscriber, a_refused_subscription_makes_start_throw_naming_the_filter) {
  fake_broker broker(connack_ok, bytes({0x90, 0x03, 0x00, 0x01, 0x80}));
  inbox in;
  subscriber sub(options_for(broker.port(), "fake", "t/#"), in.handlers());
  const auto what = start_error(sub);
  EXPECT_NE(std::string::npos, what.find("refused the subscription to t/#")) << what;
  EXPECT_FALSE(sub.running());
}

TEST(mqtt_subscriber, malformed_publish_after_suback_is_a_protocol_error_then_a_reconnect) {
  // SUBACK granting QoS 1, then a PUBLISH whose flags say QoS 3.
  fake_broker broker(connack_ok, bytes({0x90, 0x03, 0x00, 0x01, 0x01, 0x36, 0x06, 0x00, 0x01, 't',
                                        0x00, 0x01, 'x'}));
  expect_protocol_error_then_reconnects(broker);
}

TEST(mqtt_subscriber, garbage_instead_of_connack_makes_start_throw) {
  fake_broker broker(five_byte_length);
  inbox in;
  subscriber sub(options_for(broker.port(), "fake"), in.handlers());
  const auto what = start_error(sub);
  EXPECT_FALSE(what.empty()) << "start() did not throw";
  EXPECT_NE(std::string::npos, what.find("127.0.0.1:" + std::to_string(broker.port()))) << what;
  EXPECT_EQ(0u, sub.counters().connects.load());
}

// ---- reconnect pacing -----------------------------------------------------------------
// A connection that CONNACKs and then dies at once must not turn into a reconnect loop as
// fast as the CPU allows: the header promises backoff. The bound allows an immediate first
// retry and is an upper bound only (a slow machine makes fewer attempts, never more).

/// Connects counted over `window` must stay within two per reconnect_min, plus slack.
void expect_paced(const std::function<std::uint64_t()>& connects, std::chrono::milliseconds min,
                  std::chrono::milliseconds window, const inbox& in) {
  const auto c0 = connects();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  const auto c1 = connects();
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  const auto bound = static_cast<std::uint64_t>(2 * (elapsed / min) + 2);
  EXPECT_LE(c1 - c0, bound) << (c1 - c0) << " connects in " << elapsed.count()
                            << " ms with reconnect_min " << min.count() << " ms\n"
                            << in.log_text().substr(0, 1000);
}

TEST(mqtt_subscriber, reconnects_after_protocol_errors_are_paced) {
  fake_broker broker(connack_ok, suback_ok + five_byte_length);
  inbox in;
  auto o = options_for(broker.port(), "fake");
  o.reconnect_min = 200ms;
  o.reconnect_max = 1s;
  subscriber sub(o, in.handlers());
  sub.start();
  expect_paced([&] { return sub.counters().connects.load(); }, o.reconnect_min, 1s, in);
  sub.stop();
}

TEST(mqtt_subscriber, two_subscribers_with_one_client_id_do_not_fight_in_a_tight_loop) {
  // mosquitto closes the older connection when the same client id connects again; both
  // subscribers then reconnect. The default client id is shared by every ingestor, so two
  // instances started by mistake must not flood the broker.
  mosquitto_server server;
  auto o = options_for(server.port(), "same-id");
  o.reconnect_min = 200ms;
  o.reconnect_max = 1s;
  inbox in1, in2;
  subscriber sub1(o, in1.handlers());
  subscriber sub2(o, in2.handlers());
  sub1.start();
  sub2.start();
  expect_paced(
      [&] {
        // Two subscribers: halve the sum to compare with one subscriber's bound.
        return (sub1.counters().connects.load() + sub2.counters().connects.load()) / 2;
      },
      o.reconnect_min, 1s, in1);
  sub1.stop();
  sub2.stop();
}

}  // namespace
}  // namespace factorysim::mqtt
