#pragma once
/// The MQTT 3.1.1 / 5.0 packets our publisher (sim::mqtt_client) and our subscriber
/// (ingest::mqtt_subscriber) need, as pure functions: encoders that append a packet to a byte
/// string, and an incremental parser that cuts whole packets out of whatever the socket
/// delivered. No sockets here: the clients own them.
///
/// Why our own: libmosquitto 2.0.11 reads a packet with three or four read() calls (one byte
/// of type, the length byte by byte, then the body) and wakes its own thread through a
/// socketpair for every publish and every PUBACK; our clients read 64 KiB or more at a time
/// and write many packets with one call.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace factorysim::mqtt {

/// Protocol levels we speak.
enum class protocol : std::uint8_t { v311 = 4, v5 = 5 };

/// Control packet types (the high nibble of the first byte).
enum class packet_type : std::uint8_t {
  connect = 1, connack = 2, publish = 3, puback = 4, pubrec = 5, pubrel = 6, pubcomp = 7,
  subscribe = 8, suback = 9, unsubscribe = 10, unsuback = 11, pingreq = 12, pingresp = 13,
  disconnect = 14, auth = 15
};

/// A packet the peer sent that breaks the protocol (bad length, truncated field, unknown
/// type, ...): the connection cannot go on.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What CONNECT carries.
struct connect_options {
  protocol version = protocol::v311;
  std::string client_id;
  bool clean_start = false;       ///< false: keep the session (subscriptions, queued QoS 1)
  std::uint16_t keepalive_s = 30;
  std::string username;           ///< empty: none
  std::string password;           ///< empty: none (only sent with a username)
  std::uint32_t session_expiry_s = 0;  ///< v5 only: how long the broker keeps the session
  /// v5 only: Receive Maximum, the unacknowledged QoS 1/2 messages the broker may send us;
  /// 0 = not sent (mosquitto 2.0.11 then applies its max_inflight_messages, default 20).
  std::uint16_t receive_maximum = 0;
  std::string will_topic;              ///< empty: no last will
  std::string will_payload;
  int will_qos = 0;
  bool will_retain = false;
};

/// Appends a CONNECT packet.
void encode_connect(std::string& out, const connect_options& o);
/// Appends a PUBLISH packet; `packet_id` is ignored (not sent) at QoS 0. Returns the offset of
/// its first byte in `out`, where set_dup() can mark it as a re-send. Throws
/// std::invalid_argument for a topic over 65535 bytes or a QoS outside 0..2.
std::size_t encode_publish(std::string& out, protocol version, std::string_view topic,
                           std::string_view payload, int qos, bool retain,
                           std::uint16_t packet_id);
/// Sets the DUP flag of the PUBLISH packet that starts at `packet[0]`.
void set_dup(char& first_byte) noexcept;
/// Why `topic` cannot be published to (empty, over 65535 bytes, a wildcard, a NUL, not
/// UTF-8), or an empty string when it can.
std::string publish_topic_error(std::string_view topic);
/// Appends a SUBSCRIBE packet for one filter at the given maximum QoS.
void encode_subscribe(std::string& out, protocol version, std::uint16_t packet_id,
                      std::string_view filter, int qos);
/// Appends PUBACK (QoS 1 delivery done), PUBREC or PUBCOMP for a packet id.
void encode_ack(std::string& out, packet_type type, std::uint16_t packet_id);
/// Appends PINGREQ.
void encode_pingreq(std::string& out);
/// Appends a normal DISCONNECT (v5: reason 0, the session stays per its expiry).
void encode_disconnect(std::string& out, protocol version);

/// One whole packet as it came off the wire: type, flags (low nibble) and body.
struct packet {
  packet_type type{};
  std::uint8_t flags = 0;
  std::string_view body;  ///< points into the parser's input
};

/// Cuts the first whole packet out of `in`. Returns nullopt when `in` holds only part of
/// one (read more); otherwise the packet and sets `used` to its size on the wire.
/// Throws protocol_error for a remaining length over 4 bytes or above `max_packet_bytes`.
std::optional<packet> next_packet(std::string_view in, std::size_t& used,
                                  std::size_t max_packet_bytes = 256 * 1024 * 1024);

/// CONNACK's content.
struct connack {
  bool session_present = false;
  int reason = 0;  ///< 0 = accepted; v3.1.1 return code or v5 reason code otherwise
  std::optional<std::uint16_t> server_keepalive_s;  ///< v5: the broker's keepalive overrides ours
  std::optional<std::uint16_t> receive_maximum;     ///< v5
  std::string reason_string;                        ///< v5, may be empty
};
/// Reads a CONNACK body; throws protocol_error when malformed.
connack parse_connack(const packet& p, protocol version);

/// A PUBLISH's content; views point into the packet body.
struct publish {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  ///< 0 for QoS 0
};
/// Reads a PUBLISH body (v5 properties are skipped); throws protocol_error when malformed,
/// including a QoS of 3 and a v5 topic alias (we never allow the broker to use them).
publish parse_publish(const packet& p, protocol version);

/// SUBACK's content: the packet id and the first granted QoS or failure code
/// (0..2 = granted QoS, >= 0x80 = refused).
struct suback {
  std::uint16_t packet_id = 0;
  int first_code = 0x80;
};
/// Reads a SUBACK body; throws protocol_error when malformed.
suback parse_suback(const packet& p, protocol version);

/// The packet id of a PUBACK/PUBREC/PUBREL/PUBCOMP; throws protocol_error when too short.
std::uint16_t parse_packet_id(const packet& p);

/// v5 DISCONNECT from the broker: its reason code (0 when the body is empty).
int parse_disconnect_reason(const packet& p);

/// A person-readable CONNACK refusal, e.g. "not authorized (5)" or "bad user name or
/// password (0x86)".
std::string connack_reason_text(int reason, protocol version);

}  // namespace factorysim::mqtt
