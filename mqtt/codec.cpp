#include "mqtt/codec.hpp"

#include <initializer_list>

namespace factorysim::mqtt {
namespace {

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u16(std::string& out, std::uint16_t v) {
  put_u8(out, static_cast<std::uint8_t>(v >> 8));
  put_u8(out, static_cast<std::uint8_t>(v & 0xff));
}

void put_u32(std::string& out, std::uint32_t v) {
  put_u16(out, static_cast<std::uint16_t>(v >> 16));
  put_u16(out, static_cast<std::uint16_t>(v & 0xffff));
}

void put_varint(std::string& out, std::size_t v) {
  do {
    auto byte = static_cast<std::uint8_t>(v % 128);
    v /= 128;
    if (v > 0) byte |= 0x80;
    put_u8(out, byte);
  } while (v > 0);
}

void put_string(std::string& out, std::string_view s) {
  if (s.size() > 0xffff) throw std::invalid_argument("MQTT string longer than 65535 bytes");
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

/// Appends fixed header + body.
void put_packet(std::string& out, std::uint8_t first_byte, std::string_view body) {
  put_u8(out, first_byte);
  put_varint(out, body.size());
  out.append(body);
}

/// Reads fields off a packet body; every overrun is a protocol_error naming the field.
class reader {
 public:
  reader(std::string_view body, const char* packet_name) : in_(body), name_(packet_name) {}

  std::uint8_t u8(const char* field) {
    need(1, field);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint16_t u16(const char* field) {
    need(2, field);
    const auto v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(in_[pos_]) << 8) |
                                              static_cast<std::uint8_t>(in_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  std::uint32_t u32(const char* field) {
    const std::uint32_t hi = u16(field);
    return (hi << 16) | u16(field);
  }
  std::size_t varint(const char* field) {
    std::size_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const std::uint8_t b = u8(field);
      v |= static_cast<std::size_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    fail(std::string(field) + " is a variable integer longer than 4 bytes");
  }
  std::string_view bytes(std::size_t n, const char* field) {
    need(n, field);
    const auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view string(const char* field) { return bytes(u16(field), field); }
  std::string_view rest() {
    const auto s = in_.substr(pos_);
    pos_ = in_.size();
    return s;
  }
  bool at_end() const noexcept { return pos_ >= in_.size(); }
  /// What is left, without consuming it.
  std::string_view rest_view() const noexcept { return in_.substr(pos_); }

  [[noreturn]] void fail(const std::string& what) const {
    throw protocol_error(std::string(name_) + ": " + what);
  }

 private:
  void need(std::size_t n, const char* field) const {
    if (in_.size() - pos_ < n) fail(std::string("truncated ") + field);
  }

  std::string_view in_;
  const char* name_;
  std::size_t pos_ = 0;
};

/// Which v5 properties a packet may carry (MQTT 5.0 section 2.2.2.2), as bit masks over the
/// property ids (all below 64).
constexpr std::uint64_t bits(std::initializer_list<int> ids) {
  std::uint64_t m = 0;
  for (const int id : ids) m |= std::uint64_t{1} << id;
  return m;
}
constexpr std::uint64_t connack_properties =
    bits({0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27,
          0x28, 0x29, 0x2A});
constexpr std::uint64_t publish_properties =
    bits({0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26});
constexpr std::uint64_t ack_properties = bits({0x1F, 0x26});
constexpr std::uint64_t disconnect_properties = bits({0x11, 0x1C, 0x1F, 0x26});
/// The properties that may appear more than once (User Property; Subscription Identifier in
/// a PUBLISH).
constexpr std::uint64_t repeatable_properties = bits({0x0B, 0x26});

/// Calls f(id, reader) for each v5 property after reading the property length; f reads the
/// value of the properties it wants and returns false for the others, which are skipped by
/// their type. A property id the packet may not carry, or a second copy of one that may
/// appear only once, is a protocol_error.
template <class F>
void for_each_property(reader& r, std::uint64_t allowed, F&& f) {
  const std::size_t length = r.varint("property length");
  reader props(r.bytes(length, "properties"), "properties");
  std::uint64_t seen = 0;
  while (!props.at_end()) {
    const std::size_t wide_id = props.varint("property id");
    if (wide_id >= 64 || ((allowed >> wide_id) & 1) == 0)
      props.fail("property id " + std::to_string(wide_id) + " is not allowed here");
    const auto id = static_cast<std::uint8_t>(wide_id);
    const std::uint64_t bit = std::uint64_t{1} << id;
    if ((seen & bit) != 0 && (repeatable_properties & bit) == 0)
      props.fail("property id " + std::to_string(id) + " appears twice");
    seen |= bit;
    if (f(id, props)) continue;
    switch (id) {
      case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
        props.u8("property");
        break;
      case 0x13: case 0x21: case 0x22: case 0x23:
        props.u16("property");
        break;
      case 0x02: case 0x11: case 0x18: case 0x27:
        props.u32("property");
        break;
      case 0x0B:
        props.varint("subscription identifier");
        break;
      case 0x03: case 0x08: case 0x12: case 0x15: case 0x1A: case 0x1C: case 0x1F:
      case 0x09: case 0x16:
        props.string("property");
        break;
      case 0x26:
        props.string("user property name");
        props.string("user property value");
        break;
      default:
        props.fail("unknown property id " + std::to_string(id));
    }
  }
}

/// The flags a fixed header of this type must carry (PUBLISH: any, checked by its parser).
constexpr int required_flags(packet_type t) noexcept {
  switch (t) {
    case packet_type::publish: return -1;
    case packet_type::pubrel:
    case packet_type::subscribe:
    case packet_type::unsubscribe: return 0x02;
    default: return 0x00;
  }
}

const char* hex_digits = "0123456789abcdef";

std::string with_hex(std::string text, int reason) {
  return text + " (0x" + hex_digits[(reason >> 4) & 0xf] + hex_digits[reason & 0xf] + ")";
}

}  // namespace

void encode_connect(std::string& out, const connect_options& o) {
  const bool v5 = o.version == protocol::v5;
  const bool will = !o.will_topic.empty();
  std::string body;
  put_string(body, "MQTT");
  put_u8(body, static_cast<std::uint8_t>(o.version));
  std::uint8_t flags = o.clean_start ? 0x02 : 0x00;
  if (will) {
    flags |= static_cast<std::uint8_t>(0x04 | ((o.will_qos & 0x03) << 3));
    if (o.will_retain) flags |= 0x20;
  }
  if (!o.username.empty()) {
    flags |= 0x80;
    if (!o.password.empty()) flags |= 0x40;
  }
  put_u8(body, flags);
  put_u16(body, o.keepalive_s);
  if (v5) {
    std::string props;
    if (o.session_expiry_s > 0) {
      put_u8(props, 0x11);
      put_u32(props, o.session_expiry_s);
    }
    if (o.receive_maximum > 0) {
      put_u8(props, 0x21);
      put_u16(props, o.receive_maximum);
    }
    if (o.maximum_packet_size > 0) {
      put_u8(props, 0x27);
      put_u32(props, o.maximum_packet_size);
    }
    put_varint(body, props.size());
    body += props;
  }
  put_string(body, o.client_id);
  if (will) {
    if (v5) put_varint(body, 0);  // no will properties
    put_string(body, o.will_topic);
    put_string(body, o.will_payload);  // binary data: the same 2-byte length prefix
  }
  if (!o.username.empty()) {
    put_string(body, o.username);
    if (!o.password.empty()) put_string(body, o.password);
  }
  put_packet(out, 0x10, body);
}

namespace {
std::size_t varint_size(std::size_t v) noexcept {
  std::size_t n = 1;
  while (v >= 128) {
    v /= 128;
    ++n;
  }
  return n;
}

std::size_t publish_body_size(bool v5, std::string_view topic, std::string_view payload, int qos,
                              std::string_view properties) noexcept {
  const std::size_t props = v5 ? varint_size(properties.size()) + properties.size() : 0;
  return 2 + topic.size() + (qos > 0 ? 2 : 0) + props + payload.size();
}
}  // namespace

std::size_t publish_packet_size(protocol version, std::string_view topic,
                                std::string_view payload, int qos,
                                std::string_view properties) noexcept {
  const std::size_t body =
      publish_body_size(version == protocol::v5, topic, payload, qos, properties);
  return 1 + varint_size(body) + body;
}

std::size_t encode_publish(std::string& out, protocol version, std::string_view topic,
                           std::string_view payload, int qos, bool retain,
                           std::uint16_t packet_id, std::string_view properties) {
  if (qos < 0 || qos > 2) throw std::invalid_argument("QoS must be 0, 1 or 2");
  if (topic.size() > 0xffff) throw std::invalid_argument("MQTT topic longer than 65535 bytes");
  if (qos > 0 && packet_id == 0) throw std::invalid_argument("packet id 0 at QoS > 0");
  const bool v5 = version == protocol::v5;
  const std::size_t length = publish_body_size(v5, topic, payload, qos, properties);
  const std::size_t start = out.size();
  // Written in place (no temporary body): this runs once per published message.
  put_u8(out, static_cast<std::uint8_t>(0x30 | (qos << 1) | (retain ? 1 : 0)));
  put_varint(out, length);
  put_u16(out, static_cast<std::uint16_t>(topic.size()));
  out.append(topic);
  if (qos > 0) put_u16(out, packet_id);
  if (v5) {
    put_varint(out, properties.size());
    out.append(properties);
  }
  out.append(payload);
  return start;
}

void append_user_property(std::string& properties, std::string_view name,
                          std::string_view value) {
  put_u8(properties, 0x26);
  put_string(properties, name);
  put_string(properties, value);
}

void set_dup(char& first_byte) noexcept {
  first_byte = static_cast<char>(static_cast<std::uint8_t>(first_byte) | 0x08);
}

std::string publish_topic_error(std::string_view topic) {
  if (topic.empty()) return "empty topic";
  if (topic.size() > 0xffff) return "topic longer than 65535 bytes";
  for (std::size_t i = 0; i < topic.size();) {
    const auto b = static_cast<std::uint8_t>(topic[i]);
    if (b == '+' || b == '#') return "wildcard in a topic to publish to";
    // UTF-8 as MQTT (1.5.3) and mosquitto's validator want it: no overlong forms, no
    // surrogates, no NUL, no control characters, no non-characters. A broker that finds one
    // drops the connection, and the re-sent message would drop the next one too.
    std::uint32_t cp = 0;
    std::size_t n = 0;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1Fu;
      n = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0Fu;
      n = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07u;
      n = 4;
    } else {
      return "topic is not UTF-8";
    }
    if (topic.size() - i < n) return "topic is not UTF-8";
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<std::uint8_t>(topic[i + k]);
      if ((c & 0xC0) != 0x80) return "topic is not UTF-8";
      cp = (cp << 6) | (c & 0x3Fu);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return "topic is not UTF-8";
    if (cp == 0) return "NUL in topic";
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return "control character in topic";
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
      return "non-character in topic";
    i += n;
  }
  return {};
}

void encode_subscribe(std::string& out, protocol version, std::uint16_t packet_id,
                      std::string_view filter, int qos) {
  std::string body;
  put_u16(body, packet_id);
  if (version == protocol::v5) put_varint(body, 0);
  put_string(body, filter);
  put_u8(body, static_cast<std::uint8_t>(qos & 0x03));
  put_packet(out, 0x82, body);
}

void encode_ack(std::string& out, packet_type type, std::uint16_t packet_id) {
  // PUBREL is the only one of the four with fixed flags 0b0010.
  const std::uint8_t flags = type == packet_type::pubrel ? 0x02 : 0x00;
  put_u8(out, static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 4) | flags));
  put_u8(out, 2);
  put_u16(out, packet_id);
}

void encode_pingreq(std::string& out) {
  put_u8(out, 0xC0);
  put_u8(out, 0);
}

void encode_disconnect(std::string& out, protocol version) {
  put_u8(out, 0xE0);
  if (version == protocol::v5) {
    // Reason 0 (normal) without properties: spelled out, though length 0 means the same.
    put_u8(out, 2);
    put_u8(out, 0);
    put_u8(out, 0);
  } else {
    put_u8(out, 0);
  }
}

std::optional<fixed_header> parse_fixed_header(std::string_view in) {
  if (in.empty()) return std::nullopt;
  const auto first = static_cast<std::uint8_t>(in[0]);
  const auto type = static_cast<packet_type>(first >> 4);
  const auto flags = static_cast<std::uint8_t>(first & 0x0f);
  if ((first >> 4) == 0) throw protocol_error("packet type 0 is reserved");
  const int need = required_flags(type);
  if (need >= 0 && flags != need)
    throw protocol_error("packet type " + std::to_string(first >> 4) + " with flags " +
                         std::to_string(flags) + " (MQTT 2.1.3 requires " +
                         std::to_string(need) + ")");
  if (type == packet_type::publish && ((flags >> 1) & 0x03) == 3)
    throw protocol_error("PUBLISH: QoS 3 is not a QoS");
  std::size_t length = 0;
  std::size_t i = 1;
  for (;; ++i) {
    if (i > 4) throw protocol_error("packet remaining length longer than 4 bytes");
    if (i >= in.size()) return std::nullopt;
    const auto b = static_cast<std::uint8_t>(in[i]);
    length |= static_cast<std::size_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) break;
  }
  return fixed_header{type, flags, length, i + 1};
}

std::optional<packet> next_packet(std::string_view in, std::size_t& used,
                                  std::size_t max_packet_bytes) {
  const auto h = parse_fixed_header(in);
  if (!h) return std::nullopt;
  const std::size_t size = h->header_bytes + h->remaining_length;
  if (size > max_packet_bytes)
    throw protocol_error("packet of " + std::to_string(size) + " bytes exceeds the limit of " +
                         std::to_string(max_packet_bytes));
  if (in.size() < size) return std::nullopt;
  used = size;
  return packet{h->type, h->flags, in.substr(h->header_bytes, h->remaining_length)};
}

connack parse_connack(const packet& p, protocol version) {
  reader r(p.body, "CONNACK");
  connack c;
  const std::uint8_t flags = r.u8("acknowledge flags");
  if ((flags & 0xFE) != 0) r.fail("reserved acknowledge flags set");
  c.session_present = (flags & 0x01) != 0;
  c.reason = r.u8("reason code");
  if (c.reason != 0 && c.session_present) r.fail("session present on a refusal");
  // A v3.1.1 broker answers a v5 CONNECT with its own CONNACK (2 bytes, return code 1):
  // no property list follows, and the caller names the protocol version (see
  // connack_reason_text).
  if (version == protocol::v5 && !r.at_end()) {
    for_each_property(r, connack_properties, [&](std::uint8_t id, reader& props) {
      switch (id) {
        case 0x13: c.server_keepalive_s = props.u16("server keep alive"); return true;
        case 0x21:
          c.receive_maximum = props.u16("receive maximum");
          if (*c.receive_maximum == 0) props.fail("receive maximum 0");
          return true;
        case 0x27:
          c.maximum_packet_size = props.u32("maximum packet size");
          if (*c.maximum_packet_size == 0) props.fail("maximum packet size 0");
          return true;
        case 0x24: {
          const auto q = props.u8("maximum qos");
          if (q > 1) props.fail("maximum qos must be 0 or 1");
          c.maximum_qos = q;
          return true;
        }
        case 0x25: {
          const auto a = props.u8("retain available");
          if (a > 1) props.fail("retain available must be 0 or 1");
          c.retain_available = a == 1;
          return true;
        }
        case 0x12:
          c.assigned_client_id = std::string(props.string("assigned client identifier"));
          return true;
        case 0x1F: c.reason_string = std::string(props.string("reason string")); return true;
        default: return false;
      }
    });
  }
  if (!r.at_end()) r.fail("bytes after the end");
  return c;
}

publish parse_publish(const packet& p, protocol version) {
  reader r(p.body, "PUBLISH");
  publish m;
  m.qos = (p.flags >> 1) & 0x03;
  m.retain = (p.flags & 0x01) != 0;
  m.dup = (p.flags & 0x08) != 0;
  if (m.qos == 3) r.fail("QoS 3 is not a QoS");
  if (m.qos == 0 && m.dup) r.fail("DUP set at QoS 0");
  m.topic = r.string("topic");
  if (m.qos > 0) {
    m.packet_id = r.u16("packet id");
    if (m.packet_id == 0) r.fail("packet id 0 at QoS " + std::to_string(m.qos));
  }
  if (version == protocol::v5) {
    const auto before = r.rest_view();
    for_each_property(r, publish_properties, [&](std::uint8_t id, reader& props) {
      // We announce no topic alias maximum, so a broker must not use aliases.
      if (id == 0x23) props.fail("topic alias used though none was allowed");
      return false;
    });
    const auto after = r.rest_view();
    // The property list without its length: what lies between the length and `after`.
    const auto block = before.substr(0, before.size() - after.size());
    std::size_t length_bytes = 1;
    while ((static_cast<std::uint8_t>(block[length_bytes - 1]) & 0x80) != 0) ++length_bytes;
    m.properties = block.substr(length_bytes);
  }
  if (m.topic.empty()) r.fail("empty topic");
  if (m.topic.find_first_of("+#") != std::string_view::npos) r.fail("wildcard in the topic");
  m.payload = r.rest();
  return m;
}

suback parse_suback(const packet& p, protocol version) {
  reader r(p.body, "SUBACK");
  suback s;
  s.packet_id = r.u16("packet id");
  if (s.packet_id == 0) r.fail("packet id 0");
  if (version == protocol::v5) {
    for_each_property(r, ack_properties, [&](std::uint8_t id, reader& props) {
      if (id != 0x1F) return false;
      s.reason_string = std::string(props.string("reason string"));
      return true;
    });
  }
  s.first_code = r.u8("reason code");
  const bool valid = s.first_code <= 2 || s.first_code == 0x80 ||
                     (version == protocol::v5 && s.first_code > 0x80);
  if (!valid) r.fail("reason code " + std::to_string(s.first_code) + " is not a SUBACK code");
  return s;
}

std::uint16_t parse_packet_id(const packet& p) {
  reader r(p.body, "acknowledgement");
  return r.u16("packet id");
}

ack parse_ack(const packet& p, protocol version) {
  reader r(p.body, "acknowledgement");
  ack a;
  a.packet_id = r.u16("packet id");
  if (a.packet_id == 0) r.fail("packet id 0");
  if (version == protocol::v311) {
    if (!r.at_end()) r.fail("bytes after the packet id");
    return a;
  }
  if (r.at_end()) return a;  // reason 0, no properties (MQTT 5.0 3.4.2.1)
  a.reason = r.u8("reason code");
  if (!r.at_end()) {
    for_each_property(r, ack_properties, [&](std::uint8_t id, reader& props) {
      if (id != 0x1F) return false;
      a.reason_string = std::string(props.string("reason string"));
      return true;
    });
  }
  if (!r.at_end()) r.fail("bytes after the properties");
  return a;
}

int parse_disconnect_reason(const packet& p) {
  if (p.body.empty()) return 0;
  return static_cast<std::uint8_t>(p.body[0]);
}

ack parse_disconnect(const packet& p, protocol version) {
  reader r(p.body, "DISCONNECT");
  ack a;
  if (version == protocol::v311) {
    if (!r.at_end()) r.fail("v3.1.1 DISCONNECT has no body");
    return a;
  }
  if (r.at_end()) return a;
  a.reason = r.u8("reason code");
  if (!r.at_end()) {
    for_each_property(r, disconnect_properties, [&](std::uint8_t id, reader& props) {
      if (id != 0x1F) return false;
      a.reason_string = std::string(props.string("reason string"));
      return true;
    });
  }
  if (!r.at_end()) r.fail("bytes after the properties");
  return a;
}

std::optional<std::string_view> find_user_property(std::string_view properties,
                                                   std::string_view name) {
  reader r(properties, "properties");
  while (!r.at_end()) {
    const auto id = r.varint("property id");
    switch (id) {
      case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
        r.u8("property");
        break;
      case 0x13: case 0x21: case 0x22: case 0x23:
        r.u16("property");
        break;
      case 0x02: case 0x11: case 0x18: case 0x27:
        r.u32("property");
        break;
      case 0x0B:
        r.varint("subscription identifier");
        break;
      case 0x26: {
        const auto key = r.string("user property name");
        const auto value = r.string("user property value");
        if (key == name) return value;
        break;
      }
      default:
        r.string("property");
        break;
    }
  }
  return std::nullopt;
}

std::string connack_reason_text(int reason, protocol version) {
  if (version == protocol::v311) {
    std::string text;
    switch (reason) {
      case 1: text = "unacceptable protocol version"; break;
      case 2: text = "client identifier rejected"; break;
      case 3: text = "server unavailable"; break;
      case 4: text = "bad user name or password"; break;
      case 5: text = "not authorized"; break;
      default: text = "refused"; break;
    }
    return text + " (" + std::to_string(reason) + ")";
  }
  if (reason == 1) {
    // Not a v5 code: a broker that only speaks MQTT 3.1.1 answered with its own CONNACK.
    return "the broker does not speak MQTT 5: it answered in MQTT 3.1.1, 'unacceptable "
           "protocol version' (1); use MQTT 3.1.1 (--mqtt-version 3.1.1, or mqtt.version: "
           "3.1.1 in a scenario)";
  }
  return reason_code_text(reason);
}

std::string reason_code_text(int reason) {
  std::string text;
  switch (reason) {
    case 0x00: text = "success"; break;
    case 0x10: text = "no matching subscribers"; break;
    case 0x80: text = "unspecified error"; break;
    case 0x81: text = "malformed packet"; break;
    case 0x82: text = "protocol error"; break;
    case 0x83: text = "implementation specific error"; break;
    case 0x84: text = "unsupported protocol version"; break;
    case 0x85: text = "client identifier not valid"; break;
    case 0x86: text = "bad user name or password"; break;
    case 0x87: text = "not authorized"; break;
    case 0x88: text = "server unavailable"; break;
    case 0x89: text = "server busy"; break;
    case 0x8A: text = "banned"; break;
    case 0x8B: text = "server shutting down"; break;
    case 0x8C: text = "bad authentication method"; break;
    case 0x8D: text = "keep alive timeout"; break;
    case 0x8E: text = "session taken over"; break;
    case 0x8F: text = "topic filter invalid"; break;
    case 0x90: text = "topic name invalid"; break;
    case 0x91: text = "packet identifier in use"; break;
    case 0x93: text = "receive maximum exceeded"; break;
    case 0x94: text = "topic alias invalid"; break;
    case 0x95: text = "packet too large"; break;
    case 0x96: text = "message rate too high"; break;
    case 0x97: text = "quota exceeded"; break;
    case 0x98: text = "administrative action"; break;
    case 0x99: text = "payload format invalid"; break;
    case 0x9A: text = "retain not supported"; break;
    case 0x9B: text = "qos not supported"; break;
    case 0x9C: text = "use another server"; break;
    case 0x9D: text = "server moved"; break;
    case 0x9E: text = "shared subscriptions not supported"; break;
    case 0x9F: text = "connection rate exceeded"; break;
    case 0xA0: text = "maximum connect time"; break;
    case 0xA1: text = "subscription identifiers not supported"; break;
    case 0xA2: text = "wildcard subscriptions not supported"; break;
    default: text = "refused"; break;
  }
  return with_hex(std::move(text), reason);
}

bool connack_refusal_is_permanent(int reason, protocol version) noexcept {
  if (version == protocol::v311) return reason == 1 || reason == 2 || reason == 4 || reason == 5;
  switch (reason) {
    case 0x01:  // a v3.1.1 broker's "unacceptable protocol version"
    case 0x84: case 0x85: case 0x86: case 0x87: case 0x8A: case 0x8C:
      return true;
    default:
      return false;
  }
}

}  // namespace factorysim::mqtt
