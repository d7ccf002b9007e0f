#pragma once
/// The client under one MQTT session of the simulator, behind one interface so that the sink
/// can run on either library: our own (mqtt::publisher, the default: `mqtt.client: native`)
/// or libmosquitto inside the same Asio loop (`mqtt.client: libmosquitto`), for brokers and
/// features our client does not cover and as the reference in tests. docs/scenarios.md has
/// the measured trade-off.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mqtt/publisher.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::sim {

/// One publishing session; every member runs on the loop's thread. Semantics as
/// mqtt::publisher (window, held messages, reconnects, counters).
class publish_client {
 public:
  virtual ~publish_client() = default;
  virtual void start() = 0;
  virtual bool publish(std::string_view topic, std::string_view payload, int qos,
                       bool retain) = 0;
  /// As publish, with an encoded MQTT 5 property list (mqtt/codec.hpp: append_user_property).
  /// Only the native client carries it; the default refuses (counted as a publish error by
  /// the caller), and mqtt_sink refuses stamping up front for clients without it.
  virtual bool publish_with_properties(std::string_view topic, std::string_view payload,
                                       int qos, bool retain, std::string_view properties) {
    (void)topic, (void)payload, (void)qos, (void)retain, (void)properties;
    return false;
  }
  /// True when publish_with_properties carries the properties.
  virtual bool supports_properties() const noexcept { return false; }
  virtual bool ready() const noexcept = 0;
  virtual bool connected() const noexcept = 0;
  virtual std::size_t in_flight() const noexcept = 0;
  virtual void on_ready(std::function<void()> callback) = 0;
  /// Once, when the broker refused us for good (bad credentials, not authorized).
  virtual void on_fatal(std::function<void(const std::string&)> callback) = 0;
  virtual void async_shutdown(std::chrono::milliseconds timeout,
                              std::function<void(bool)> done) = 0;
  virtual const mqtt::publisher_counters& counters() const noexcept = 0;
  virtual void on_error(std::function<void(std::string_view)> sink) = 0;
};

/// The session options of a scenario's mqtt settings (credentials file read here; throws
/// std::runtime_error when it cannot be read).
mqtt::publisher_options publisher_options_of(const scenarios::mqtt_settings& settings);

/// A client of the chosen kind; throws std::runtime_error for unusable options.
std::unique_ptr<publish_client> make_publish_client(boost::asio::io_context& io,
                                                    scenarios::mqtt_client_kind kind,
                                                    mqtt::publisher_options options);

/// libmosquitto's client (mosquitto_client.cpp).
std::unique_ptr<publish_client> make_mosquitto_client(boost::asio::io_context& io,
                                                      mqtt::publisher_options options);

}  // namespace factorysim::sim
