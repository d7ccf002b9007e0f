#pragma once
/// What an MQTT session needs to know, shared by the publisher and the subscriber roles:
/// where the broker is, who we are (credentials from argv, a file or the environment), TLS,
/// the protocol version, keepalive, limits and reconnect pacing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "mqtt/codec.hpp"

namespace factorysim::mqtt {

/// TLS towards the broker (PEM files). The broker's certificate is always verified against
/// `ca_file` (the system's CAs when empty) and its host name or IP, unless `insecure`.
struct tls_options {
  std::string ca_file;
  std::string cert_file;    ///< client certificate (chain), optional
  std::string key_file;     ///< its private key, optional
  std::string server_name;  ///< SNI and the name checked; empty = the host we connect to
  bool insecure = false;    ///< skip the host name check (still encrypted; tests only)
};

/// One MQTT session: connection, identity and pacing.
struct session_options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "factorysim";
  std::string username;
  std::string password;
  std::optional<tls_options> tls;
  protocol version = protocol::v5;
  int keepalive_s = 30;        ///< 0..65535; 0 = no keepalive
  bool clean_start = false;    ///< false: the broker keeps our session (QoS 1/2 survive)
  std::uint32_t session_expiry_s = 0;  ///< v5: how long the broker keeps it offline
  std::uint16_t receive_maximum = 0;   ///< v5: QoS 1/2 the broker may send unacknowledged
  /// Largest inbound packet held in memory, fixed header included; bigger ones are a
  /// protocol error unless the role takes them streamed (subscriber: oversized PUBLISH).
  std::size_t max_inbound_packet_bytes = 1024 * 1024;
  /// v5: announce max_inbound_packet_bytes as our Maximum Packet Size (the broker then drops
  /// bigger messages for us instead of sending them).
  bool announce_maximum_packet_size = false;
  std::size_t read_chunk_bytes = 64 * 1024;  ///< bytes asked for per read
  std::string will_topic;  ///< empty = no last will
  std::string will_payload;
  int will_qos = 1;
  bool will_retain = true;
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
  /// Resolve + TCP + TLS + CONNACK must be done within this.
  std::chrono::milliseconds connect_timeout{10000};
};

/// Fills username/password from `--password-file` style sources, so that secrets need not be
/// on the command line (where `ps` shows them):
///   - `file`: a file whose first line is the password, or two lines `username` then
///     `password` (a trailing newline is not part of either);
///   - otherwise the environment: FACTORYSIM_MQTT_USERNAME / FACTORYSIM_MQTT_PASSWORD (when
///     set and the option is still empty).
/// Throws std::runtime_error naming the file when it cannot be read.
void load_credentials(session_options& options, const std::string& file);

/// "host:port" (IPv6 literals in brackets), for messages.
std::string broker_address(const session_options& options);

}  // namespace factorysim::mqtt
