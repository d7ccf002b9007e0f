#include "sim/publish_client.hpp"

#include <algorithm>

namespace factorysim::sim {
namespace {

/// Our own client: mqtt::publisher as it is.
class native_client final : public publish_client {
 public:
  native_client(boost::asio::io_context& io, mqtt::publisher_options o) : p_(io, std::move(o)) {}
  void start() override { p_.start(); }
  bool publish(std::string_view topic, std::string_view payload, int qos, bool retain) override {
    return p_.publish(topic, payload, qos, retain);
  }
  bool publish_with_properties(std::string_view topic, std::string_view payload, int qos,
                               bool retain, std::string_view properties) override {
    return p_.publish(topic, payload, qos, retain, properties);
  }
  bool supports_properties() const noexcept override { return true; }
  bool ready() const noexcept override { return p_.ready(); }
  bool connected() const noexcept override { return p_.connected(); }
  std::size_t in_flight() const noexcept override { return p_.in_flight(); }
  void on_ready(std::function<void()> callback) override { p_.on_ready(std::move(callback)); }
  void on_fatal(std::function<void(const std::string&)> callback) override {
    p_.on_fatal(std::move(callback));
  }
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) override {
    p_.async_shutdown(timeout, std::move(done));
  }
  const mqtt::publisher_counters& counters() const noexcept override { return p_.counters(); }
  void on_error(std::function<void(std::string_view)> sink) override {
    p_.on_error(std::move(sink));
  }

 private:
  mqtt::publisher p_;
};

}  // namespace

mqtt::publisher_options publisher_options_of(const scenarios::mqtt_settings& s) {
  mqtt::publisher_options o;
  o.host = s.host;
  o.port = s.port;
  o.version = s.protocol_version == 4 ? mqtt::protocol::v311 : mqtt::protocol::v5;
  o.username = s.username;
  o.password = s.password;
  mqtt::load_credentials(o, s.credentials_file);
  if (s.tls)
    o.tls = mqtt::tls_options{s.tls->ca_file, s.tls->cert_file, s.tls->key_file,
                              s.tls->server_name, s.tls->insecure};
  o.keepalive_s = s.keepalive_s;
  o.max_inflight = static_cast<std::size_t>(std::max(1, s.max_inflight));
  o.reconnect_min = std::chrono::milliseconds(static_cast<long>(s.reconnect_min_s * 1000));
  o.reconnect_max = std::chrono::milliseconds(static_cast<long>(s.reconnect_max_s * 1000));
  // MQTT 5 ends a session at disconnect unless it has an expiry; keep it for a broker blip
  // (our own re-send keeps QoS 1/2 messages either way).
  o.session_expiry_s = 300;
  o.will_qos = std::clamp(s.qos, 0, 2);
  o.will_retain = true;
  return o;
}

std::unique_ptr<publish_client> make_publish_client(boost::asio::io_context& io,
                                                    scenarios::mqtt_client_kind kind,
                                                    mqtt::publisher_options options) {
  if (kind == scenarios::mqtt_client_kind::libmosquitto)
    return make_mosquitto_client(io, std::move(options));
  return std::make_unique<native_client>(io, std::move(options));
}

}  // namespace factorysim::sim
