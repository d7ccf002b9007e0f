#include "mqtt/codec.hpp"

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

/// Calls f(id, reader) for each v5 property after reading the property length; f reads the
/// value of the properties it wants and returns false for the others, which are skipped by
/// their type.
template <class F>
void for_each_property(reader& r, F&& f) {
  const std::size_t length = r.varint("property length");
  reader props(r.bytes(length, "properties"), "properties");
  while (!props.at_end()) {
    const auto id = static_cast<std::uint8_t>(props.varint("property id"));
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

std::size_t encode_publish(std::string& out, protocol version, std::string_view topic,
                           std::string_view payload, int qos, bool retain,
                           std::uint16_t packet_id) {
  if (qos < 0 || qos > 2) throw std::invalid_argument("QoS must be 0, 1 or 2");
  if (topic.size() > 0xffff) throw std::invalid_argument("MQTT topic longer than 65535 bytes");
  const bool v5 = version == protocol::v5;
  const std::size_t length = 2 + topic.size() + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.size();
  const std::size_t start = out.size();
  // Written in place (no temporary body): this runs once per published message.
  put_u8(out, static_cast<std::uint8_t>(0x30 | (qos << 1) | (retain ? 1 : 0)));
  put_varint(out, length);
  put_u16(out, static_cast<std::uint16_t>(topic.size()));
  out.append(topic);
  if (qos > 0) put_u16(out, packet_id);
  if (v5) put_u8(out, 0);  // no properties
  out.append(payload);
  return start;
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

std::optional<packet> next_packet(std::string_view in, std::size_t& used,
                                  std::size_t max_packet_bytes) {
  if (in.size() < 2) return std::nullopt;
  std::size_t length = 0;
  std::size_t i = 1;
  for (;; ++i) {
    if (i > 4) throw protocol_error("packet remaining length longer than 4 bytes");
    if (i >= in.size()) return std::nullopt;
    const auto b = static_cast<std::uint8_t>(in[i]);
    length |= static_cast<std::size_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) break;
  }
  const std::size_t header = i + 1;
  if (length > max_packet_bytes)
    throw protocol_error("packet of " + std::to_string(length) + " bytes exceeds the limit of " +
                         std::to_string(max_packet_bytes));
  if (in.size() - header < length) return std::nullopt;
  const auto first = static_cast<std::uint8_t>(in[0]);
  if ((first >> 4) == 0) throw protocol_error("packet type 0 is reserved");
  used = header + length;
  return packet{static_cast<packet_type>(first >> 4), static_cast<std::uint8_t>(first & 0x0f),
                in.substr(header, length)};
}

connack parse_connack(const packet& p, protocol version) {
  reader r(p.body, "CONNACK");
  connack c;
  c.session_present = (r.u8("acknowledge flags") & 0x01) != 0;
  c.reason = r.u8("reason code");
  if (version == protocol::v5 && !r.at_end()) {
    for_each_property(r, [&](std::uint8_t id, reader& props) {
      switch (id) {
        case 0x13: c.server_keepalive_s = props.u16("server keep alive"); return true;
        case 0x21: c.receive_maximum = props.u16("receive maximum"); return true;
        case 0x1F: c.reason_string = std::string(props.string("reason string")); return true;
        default: return false;
      }
    });
  }
  return c;
}

publish parse_publish(const packet& p, protocol version) {
  reader r(p.body, "PUBLISH");
  publish m;
  m.qos = (p.flags >> 1) & 0x03;
  m.retain = (p.flags & 0x01) != 0;
  m.dup = (p.flags & 0x08) != 0;
  if (m.qos == 3) r.fail("QoS 3 is not a QoS");
  m.topic = r.string("topic");
  if (m.qos > 0) m.packet_id = r.u16("packet id");
  if (version == protocol::v5) {
    for_each_property(r, [&](std::uint8_t id, reader& props) {
      // We announce no topic alias maximum, so a broker must not use aliases.
      if (id == 0x23) props.fail("topic alias used though none was allowed");
      return false;
    });
  }
  if (m.topic.empty()) r.fail("empty topic");
  m.payload = r.rest();
  return m;
}

suback parse_suback(const packet& p, protocol version) {
  reader r(p.body, "SUBACK");
  suback s;
  s.packet_id = r.u16("packet id");
  if (version == protocol::v5) for_each_property(r, [](std::uint8_t, reader&) { return false; });
  s.first_code = r.u8("reason code");
  return s;
}

std::uint16_t parse_packet_id(const packet& p) {
  reader r(p.body, "acknowledgement");
  return r.u16("packet id");
}

int parse_disconnect_reason(const packet& p) {
  if (p.body.empty()) return 0;
  return static_cast<std::uint8_t>(p.body[0]);
}

std::string connack_reason_text(int reason, protocol version) {
  std::string text;
  if (version == protocol::v311) {
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
  switch (reason) {
    case 0x80: text = "unspecified error"; break;
    case 0x81: text = "malformed packet"; break;
    case 0x82: text = "protocol error"; break;
    case 0x84: text = "unsupported protocol version"; break;
    case 0x85: text = "client identifier not valid"; break;
    case 0x86: text = "bad user name or password"; break;
    case 0x87: text = "not authorized"; break;
    case 0x88: text = "server unavailable"; break;
    case 0x89: text = "server busy"; break;
    case 0x8A: text = "banned"; break;
    case 0x8C: text = "bad authentication method"; break;
    case 0x95: text = "packet too large"; break;
    case 0x97: text = "quota exceeded"; break;
    case 0x9F: text = "connection rate exceeded"; break;
    default: text = "refused"; break;
  }
  static const char* hex = "0123456789abcdef";
  return text + " (0x" + hex[(reason >> 4) & 0xf] + hex[reason & 0xf] + ")";
}

}  // namespace factorysim::mqtt
