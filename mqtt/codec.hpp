#pragma once
/// The MQTT 3.1.1 / 5.0 packets our client roles (mqtt::publisher, mqtt::subscriber) need,
/// as pure functions: encoders that append a packet to a byte string, and an incremental
/// parser that cuts whole packets out of whatever the socket delivered. Decoding is strict:
/// fixed-header flags, packet id 0, property ids and their packet types, and the announced
/// maximum packet size are checked, and every violation is a protocol_error. No sockets
/// here: mqtt::session owns them. Why our own and not libmosquitto: mqtt/README.md.
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
  /// v5 only: Maximum Packet Size we accept (0 = not sent: no limit announced).
  std::uint32_t maximum_packet_size = 0;
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
/// `properties` (v5 only) is an encoded property list without its length, e.g. from
/// append_user_property(); it is ignored for v3.1.1.
std::size_t encode_publish(std::string& out, protocol version, std::string_view topic,
                           std::string_view payload, int qos, bool retain,
                           std::uint16_t packet_id, std::string_view properties = {});
/// Appends one v5 User Property (0x26, name and value) to an encoded property list.
void append_user_property(std::string& properties, std::string_view name,
                          std::string_view value);
/// The size on the wire of the PUBLISH encode_publish would write (for a peer's Maximum
/// Packet Size).
std::size_t publish_packet_size(protocol version, std::string_view topic,
                                std::string_view payload, int qos,
                                std::string_view properties = {}) noexcept;
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

/// The largest packet MQTT can express: a remaining length of 268,435,455 and a 5-byte
/// fixed header.
inline constexpr std::size_t largest_packet_bytes = 268'435'455 + 5;

/// A fixed header: type, flags, the remaining length and the header's own size.
struct fixed_header {
  packet_type type{};
  std::uint8_t flags = 0;
  std::size_t remaining_length = 0;
  std::size_t header_bytes = 0;  ///< 2..5
};

/// Reads the fixed header at the start of `in`: nullopt while it is incomplete. Throws
/// protocol_error for a reserved type, flags that the type does not allow (MQTT 2.1.3:
/// PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0b0010, every other type but PUBLISH 0b0000;
/// PUBLISH with QoS 3) or a remaining length over 4 bytes. Checks no size limit: a caller
/// that must not buffer a large packet decides from remaining_length before reading it.
std::optional<fixed_header> parse_fixed_header(std::string_view in);

/// Cuts the first whole packet out of `in`. Returns nullopt when `in` holds only part of
/// one (read more); otherwise the packet and sets `used` to its size on the wire.
/// Throws protocol_error as parse_fixed_header does, and for a packet whose size on the wire
/// (fixed header included, as MQTT 5's Maximum Packet Size counts it) is above
/// `max_packet_bytes` as soon as its header is complete, before its body arrives.
std::optional<packet> next_packet(std::string_view in, std::size_t& used,
                                  std::size_t max_packet_bytes = largest_packet_bytes);

/// CONNACK's content.
struct connack {
  bool session_present = false;
  int reason = 0;  ///< 0 = accepted; v3.1.1 return code or v5 reason code otherwise
  std::optional<std::uint16_t> server_keepalive_s;  ///< v5: the broker's keepalive overrides ours
  std::optional<std::uint16_t> receive_maximum;     ///< v5
  std::optional<std::uint32_t> maximum_packet_size; ///< v5: the broker takes nothing bigger
  std::optional<std::uint8_t> maximum_qos;          ///< v5: 0 or 1 when the broker caps QoS
  std::optional<bool> retain_available;             ///< v5
  std::string assigned_client_id;                   ///< v5, when we sent an empty one
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
  std::string_view properties;  ///< v5: the encoded property list (see find_user_property)
};
/// Reads a PUBLISH body; throws protocol_error when malformed: QoS 3, packet id 0 at QoS > 0,
/// an empty topic or one with a wildcard, a property PUBLISH may not carry, and a v5 topic
/// alias (we never allow the broker to use them).
publish parse_publish(const packet& p, protocol version);
/// The value of the first v5 User Property called `name` in an encoded property list (as in
/// publish::properties), if any. The list must be well formed (parse_publish checked it).
std::optional<std::string_view> find_user_property(std::string_view properties,
                                                   std::string_view name);

/// SUBACK's content: the packet id and the first granted QoS or failure code
/// (0..2 = granted QoS, >= 0x80 = refused).
struct suback {
  std::uint16_t packet_id = 0;
  int first_code = 0x80;
  std::string reason_string;  ///< v5, may be empty
};
/// Reads a SUBACK body; throws protocol_error when malformed.
suback parse_suback(const packet& p, protocol version);

/// The packet id of a PUBACK/PUBREC/PUBREL/PUBCOMP; throws protocol_error when too short.
std::uint16_t parse_packet_id(const packet& p);

/// A PUBACK/PUBREC/PUBREL/PUBCOMP: packet id and (v5) reason code, 0 when left out.
struct ack {
  std::uint16_t packet_id = 0;
  int reason = 0;             ///< >= 0x80: the broker did not take the message
  std::string reason_string;  ///< v5, may be empty
};
/// Reads an acknowledgement; throws protocol_error when malformed or its packet id is 0.
ack parse_ack(const packet& p, protocol version);

/// v5 DISCONNECT from the broker: its reason code (0 when the body is empty).
int parse_disconnect_reason(const packet& p);
/// v5 DISCONNECT: reason code and reason string (strictly parsed; protocol_error when
/// malformed). v3.1.1 DISCONNECT has an empty body: reason 0.
ack parse_disconnect(const packet& p, protocol version);

/// A person-readable CONNACK refusal, e.g. "not authorized (5)" or "bad user name or
/// password (0x86)".
std::string connack_reason_text(int reason, protocol version);
/// A person-readable MQTT 5 reason code of PUBACK/PUBREC/SUBACK/DISCONNECT, e.g.
/// "packet too large (0x95)".
std::string reason_code_text(int reason);
/// True for CONNACK refusals that retrying cannot cure (bad credentials, not authorized,
/// banned, unsupported protocol version, rejected client id): a client fails fast on them.
bool connack_refusal_is_permanent(int reason, protocol version) noexcept;

}  // namespace factorysim::mqtt
