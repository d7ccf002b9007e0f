// Unit tests of the MQTT 3.1.1 / 5.0 codec shared by the simulator's publisher and the
// ingestor's subscriber: the encoders' exact bytes, the incremental
// packet cutter (every remaining-length width, every prefix, limits) and the body parsers.
// Expected and input bytes are written out by hand from the MQTT specifications, never
// produced by the encoder under test.
#include "mqtt/codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <vector>

namespace factorysim::mqtt {
namespace {

/// Bytes from a list of values 0..255.
std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s.push_back(static_cast<char>(static_cast<unsigned char>(v)));
  return s;
}

/// Printable hex for failure messages.
std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (!out.empty()) out += ' ';
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

packet make_packet(packet_type type, std::uint8_t flags, std::string_view body) {
  packet p;
  p.type = type;
  p.flags = flags;
  p.body = body;
  return p;
}

#define EXPECT_BYTES(expected, got) EXPECT_EQ(hex(expected), hex(got))

// ---- encoders -------------------------------------------------------------------------

TEST(mqtt_encode_connect, v311_without_login_keeps_the_session) {
  connect_options o;
  o.version = protocol::v311;
  o.client_id = "c1";
  o.clean_start = false;
  o.keepalive_s = 30;
  std::string out;
  encode_connect(out, o);
  // 3.1.1 section 3.1: "MQTT", level 4, flags 0 (clean session off), keepalive, client id.
  EXPECT_BYTES(bytes({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x1E, 0x00,
                      0x02, 'c', '1'}),
               out);
}

TEST(mqtt_encode_connect, v311_with_user_name_and_password) {
  connect_options o;
  o.version = protocol::v311;
  o.client_id = "c1";
  o.clean_start = true;
  o.keepalive_s = 300;
  o.username = "u";
  o.password = "pw";
  std::string out;
  encode_connect(out, o);
  // Flags: user name 0x80 | password 0x40 | clean session 0x02. Keepalive 300 = 01 2C.
  EXPECT_BYTES(bytes({0x10, 0x15, 0x00, 0x04, 'M',  'Q',  'T', 'T',  0x04, 0xC2, 0x01, 0x2C,
                      0x00, 0x02, 'c',  '1',  0x00, 0x01, 'u', 0x00, 0x02, 'p',  'w'}),
               out);
}

TEST(mqtt_encode_connect, v311_user_name_without_password) {
  connect_options o;
  o.client_id = "c1";
  o.keepalive_s = 30;
  o.username = "u";
  std::string out;
  encode_connect(out, o);
  EXPECT_BYTES(bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x80, 0x00, 0x1E, 0x00,
                      0x02, 'c', '1', 0x00, 0x01, 'u'}),
               out);
}

TEST(mqtt_encode_connect, appends_to_what_is_already_there) {
  connect_options o;
  o.client_id = "c1";
  std::string out = "xy";
  encode_connect(out, o);
  ASSERT_GE(out.size(), 3u);
  EXPECT_EQ("xy", out.substr(0, 2));
  EXPECT_EQ(0x10, static_cast<unsigned char>(out[2]));
}

TEST(mqtt_encode_connect, v5_with_session_expiry) {
  connect_options o;
  o.version = protocol::v5;
  o.client_id = "c1";
  o.clean_start = false;
  o.keepalive_s = 60;
  o.session_expiry_s = 3600;
  std::string out;
  encode_connect(out, o);
  // 5.0 section 3.1.2: level 5, flags 0, keepalive 60, properties length 5:
  // session expiry interval (0x11) as a four-byte integer 0x00000E10; then the client id.
  EXPECT_BYTES(bytes({0x10, 0x14, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x00, 0x00,
                      0x3C, 0x05, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x02, 'c',  '1'}),
               out);
}

TEST(mqtt_encode_connect, v5_with_login_and_week_long_session) {
  connect_options o;
  o.version = protocol::v5;
  o.client_id = "ingest";
  o.keepalive_s = 30;
  o.username = "u";
  o.password = "p";
  o.session_expiry_s = 7 * 24 * 3600;  // 604800 = 0x00093A80
  std::string out;
  encode_connect(out, o);
  EXPECT_BYTES(bytes({0x10, 0x1E, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0xC0, 0x00,
                      0x1E, 0x05, 0x11, 0x00, 0x09, 0x3A, 0x80, 0x00, 0x06, 'i',  'n',
                      'g',  'e',  's',  't',  0x00, 0x01, 'u',  0x00, 0x01, 'p'}),
               out);
}

TEST(mqtt_encode_connect, v5_with_session_expiry_and_receive_maximum) {
  connect_options o;
  o.version = protocol::v5;
  o.client_id = "c1";
  o.keepalive_s = 60;
  o.session_expiry_s = 3600;
  o.receive_maximum = 65535;
  std::string out;
  encode_connect(out, o);
  // Properties length 8: session expiry (0x11) 00000E10, receive maximum (0x21) FFFF.
  EXPECT_BYTES(bytes({0x10, 0x17, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x00, 0x00, 0x3C,
                      0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0xFF, 0xFF, 0x00, 0x02, 'c',
                      '1'}),
               out);
}

TEST(mqtt_encode_connect, v311_never_carries_a_receive_maximum) {
  connect_options o;
  o.client_id = "c1";
  o.keepalive_s = 30;
  o.receive_maximum = 100;  // a v5 property: ignored for 3.1.1
  std::string out;
  encode_connect(out, o);
  EXPECT_BYTES(bytes({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x1E, 0x00,
                      0x02, 'c', '1'}),
               out);
}

TEST(mqtt_encode_connect, long_client_id_uses_a_two_byte_remaining_length) {
  connect_options o;
  o.client_id = std::string(200, 'x');
  o.keepalive_s = 30;
  std::string out;
  encode_connect(out, o);
  // Body: 10 bytes of variable header + 2 + 200 = 212 = 0xD4 -> remaining length D4 01.
  ASSERT_EQ(3u + 212u, out.size());
  EXPECT_BYTES(bytes({0x10, 0xD4, 0x01, 0x00, 0x04}), out.substr(0, 5));
  EXPECT_BYTES(bytes({0x00, 0xC8}), out.substr(13, 2));
  EXPECT_EQ(std::string(200, 'x'), out.substr(15));
}

TEST(mqtt_encode_connect, v311_last_will_qos1_retained) {
  connect_options o;
  o.client_id = "m";
  o.keepalive_s = 30;
  o.will_topic = "a/s";
  o.will_payload = "off";
  o.will_qos = 1;
  o.will_retain = true;
  std::string out;
  encode_connect(out, o);
  // Flags: will retain 0x20 | will QoS 1 << 3 = 0x08 | will flag 0x04 = 0x2C. The payload
  // holds client id, will topic, will message (each with a two-byte length).
  EXPECT_BYTES(bytes({0x10, 0x17, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x2C, 0x00, 0x1E,
                      0x00, 0x01, 'm', 0x00, 0x03, 'a', '/', 's', 0x00, 0x03, 'o', 'f', 'f'}),
               out);
}

TEST(mqtt_encode_connect, v311_will_comes_before_the_login) {
  connect_options o;
  o.client_id = "m";
  o.clean_start = true;
  o.keepalive_s = 10;
  o.will_topic = "w";
  o.will_payload = "";
  o.will_qos = 2;
  o.will_retain = false;
  o.username = "u";
  o.password = "p";
  std::string out;
  encode_connect(out, o);
  // Flags: user 0x80 | password 0x40 | will QoS 2 << 3 = 0x10 | will 0x04 | clean 0x02.
  EXPECT_BYTES(bytes({0x10, 0x18, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xD6, 0x00, 0x0A,
                      0x00, 0x01, 'm', 0x00, 0x01, 'w', 0x00, 0x00, 0x00, 0x01, 'u', 0x00,
                      0x01, 'p'}),
               out);
}

TEST(mqtt_encode_connect, v5_will_has_an_empty_property_list) {
  connect_options o;
  o.version = protocol::v5;
  o.client_id = "m";
  o.keepalive_s = 30;
  o.will_topic = "w";
  o.will_payload = "x";
  o.will_qos = 0;
  std::string out;
  encode_connect(out, o);
  // Connect properties length 0, then client id, will properties length 0, will topic/payload.
  EXPECT_BYTES(bytes({0x10, 0x15, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x04, 0x00, 0x1E, 0x00,
                      0x00, 0x01, 'm', 0x00, 0x00, 0x01, 'w', 0x00, 0x01, 'x'}),
               out);
}

TEST(mqtt_encode_publish, qos0_has_no_packet_id) {
  std::string out = "ab";
  const auto at = encode_publish(out, protocol::v311, "t/1", "hi", 0, false, 77);
  EXPECT_EQ(at, 2u);
  EXPECT_BYTES(bytes({'a', 'b', 0x30, 0x07, 0x00, 0x03, 't', '/', '1', 'h', 'i'}), out);
}

TEST(mqtt_encode_publish, qos1_retained_with_packet_id) {
  std::string out;
  encode_publish(out, protocol::v311, "t", "{}", 1, true, 0x1234);
  // 0x30 | QoS 1 << 1 | retain 1 = 0x33; topic, packet id 12 34, payload.
  EXPECT_BYTES(bytes({0x33, 0x07, 0x00, 0x01, 't', 0x12, 0x34, '{', '}'}), out);
}

TEST(mqtt_encode_publish, qos2) {
  std::string out;
  encode_publish(out, protocol::v311, "t", "", 2, false, 1);
  EXPECT_BYTES(bytes({0x34, 0x05, 0x00, 0x01, 't', 0x00, 0x01}), out);
}

TEST(mqtt_encode_publish, v5_has_an_empty_property_list) {
  std::string out;
  encode_publish(out, protocol::v5, "t", "p", 1, false, 2);
  EXPECT_BYTES(bytes({0x32, 0x07, 0x00, 0x01, 't', 0x00, 0x02, 0x00, 'p'}), out);
}

TEST(mqtt_encode_publish, payload_of_200_bytes_takes_a_two_byte_length) {
  std::string out;
  const std::string payload(200, 'x');
  encode_publish(out, protocol::v311, "ab", payload, 1, false, 9);
  // Remaining length 2 + 2 + 2 + 200 = 206 = 0xCE 0x01.
  ASSERT_EQ(out.size(), 3u + 206u);
  EXPECT_BYTES(bytes({0x32, 0xCE, 0x01, 0x00, 0x02, 'a', 'b', 0x00, 0x09}), out.substr(0, 9));
  EXPECT_EQ(out.substr(9), payload);
}

TEST(mqtt_encode_publish, parses_back) {
  std::string out;
  encode_publish(out, protocol::v311, "factory/a/energy", "{\"seq\":1}", 1, false, 513);
  std::size_t used = 0;
  const auto p = next_packet(out, used);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(used, out.size());
  const auto m = parse_publish(*p, protocol::v311);
  EXPECT_EQ(m.topic, "factory/a/energy");
  EXPECT_EQ(m.payload, "{\"seq\":1}");
  EXPECT_EQ(m.qos, 1);
  EXPECT_EQ(m.packet_id, 513);
  EXPECT_FALSE(m.dup);
}

TEST(mqtt_encode_publish, set_dup_marks_a_resend) {
  std::string out;
  encode_publish(out, protocol::v311, "t", "p", 1, true, 1);
  set_dup(out[0]);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x3B);
  std::size_t used = 0;
  const auto m = parse_publish(*next_packet(out, used), protocol::v311);
  EXPECT_TRUE(m.dup);
  EXPECT_TRUE(m.retain);
}

TEST(mqtt_encode_publish, bad_qos_and_oversized_topic_are_refused) {
  std::string out;
  EXPECT_THROW(encode_publish(out, protocol::v311, "t", "p", 3, false, 1), std::invalid_argument);
  EXPECT_THROW(encode_publish(out, protocol::v311, "t", "p", -1, false, 1),
               std::invalid_argument);
  EXPECT_THROW(encode_publish(out, protocol::v311, std::string(65536, 'a'), "p", 0, false, 0),
               std::invalid_argument);
  EXPECT_TRUE(out.empty());
}

TEST(mqtt_publish_topic_error, ordinary_topics_pass) {
  EXPECT_EQ(publish_topic_error("factory/berlin/compressor-1/energy"), "");
  EXPECT_EQ(publish_topic_error("/"), "");
  EXPECT_EQ(publish_topic_error("a b/\xC3\xA4/\xE2\x82\xAC/\xF0\x9F\x8F\xAD"), "");  // ä € 🏭
  EXPECT_EQ(publish_topic_error(std::string(65535, 'a')), "");
}

TEST(mqtt_publish_topic_error, what_a_broker_refuses_is_named) {
  EXPECT_EQ(publish_topic_error(""), "empty topic");
  EXPECT_EQ(publish_topic_error(std::string(65536, 'a')), "topic longer than 65535 bytes");
  EXPECT_EQ(publish_topic_error("a/+/b"), "wildcard in a topic to publish to");
  EXPECT_EQ(publish_topic_error("a/#"), "wildcard in a topic to publish to");
  EXPECT_EQ(publish_topic_error(std::string("a\0b", 3)), "NUL in topic");
  EXPECT_EQ(publish_topic_error("a\tb"), "control character in topic");
  EXPECT_EQ(publish_topic_error("a\x7F"), "control character in topic");
  EXPECT_EQ(publish_topic_error("a\xC2\x85"), "control character in topic");  // U+0085
  EXPECT_EQ(publish_topic_error("\xEF\xBF\xBF"), "non-character in topic");   // U+FFFF
  EXPECT_EQ(publish_topic_error("\xEF\xB7\x90"), "non-character in topic");   // U+FDD0
}

TEST(mqtt_publish_topic_error, malformed_utf8_is_refused) {
  for (const char* bad : {"\x80", "\xC3", "\xC0\xAF" /* overlong '/' */,
                          "\xE0\x80\xAF" /* overlong */, "\xED\xA0\x80" /* surrogate */,
                          "\xF4\x90\x80\x80" /* above U+10FFFF */, "\xF8\x88\x80\x80\x80",
                          "a\xE2\x82" /* truncated */, "\xC3\x28"}) {
    EXPECT_EQ(publish_topic_error(bad), "topic is not UTF-8") << hex(bad);
  }
}

TEST(mqtt_encode_subscribe, v311) {
  std::string out;
  encode_subscribe(out, protocol::v311, 1, "factory/#", 1);
  // Fixed header 0x82 (SUBSCRIBE with the mandatory flags 0b0010), packet id, filter, QoS.
  EXPECT_BYTES(bytes({0x82, 0x0E, 0x00, 0x01, 0x00, 0x09, 'f', 'a', 'c', 't', 'o', 'r', 'y', '/',
                      '#', 0x01}),
               out);
}

TEST(mqtt_encode_subscribe, v5_has_an_empty_property_list_and_an_options_byte) {
  std::string out;
  encode_subscribe(out, protocol::v5, 0x1234, "$share/g/t/#", 1);
  // Options: QoS 1, no local 0, retain as published 0, retain handling 0.
  EXPECT_BYTES(bytes({0x82, 0x12, 0x12, 0x34, 0x00, 0x00, 0x0C, '$', 's', 'h',
                      'a',  'r',  'e',  '/',  'g',  '/',  't',  '/', '#', 0x01}),
               out);
}

TEST(mqtt_encode_subscribe, qos_0) {
  std::string out;
  encode_subscribe(out, protocol::v311, 7, "a", 0);
  EXPECT_BYTES(bytes({0x82, 0x06, 0x00, 0x07, 0x00, 0x01, 'a', 0x00}), out);
}

TEST(mqtt_encode_ack, puback_pubrec_pubcomp) {
  std::string out;
  encode_ack(out, packet_type::puback, 0x1234);
  encode_ack(out, packet_type::pubrec, 1);
  encode_ack(out, packet_type::pubcomp, 0xFFFF);
  EXPECT_BYTES(bytes({0x40, 0x02, 0x12, 0x34, 0x50, 0x02, 0x00, 0x01, 0x70, 0x02, 0xFF, 0xFF}),
               out);
}

TEST(mqtt_encode_ack, many_acks_append_back_to_back) {
  std::string out;
  for (int id = 1; id <= 300; ++id)
    encode_ack(out, packet_type::puback, static_cast<std::uint16_t>(id));
  ASSERT_EQ(1200u, out.size());
  EXPECT_BYTES(bytes({0x40, 0x02, 0x01, 0x2C}), out.substr(1196));
}

TEST(mqtt_encode, pingreq) {
  std::string out;
  encode_pingreq(out);
  EXPECT_BYTES(bytes({0xC0, 0x00}), out);
}

TEST(mqtt_encode, disconnect_v311) {
  std::string out;
  encode_disconnect(out, protocol::v311);
  EXPECT_BYTES(bytes({0xE0, 0x00}), out);
}

TEST(mqtt_encode, disconnect_v5_is_a_normal_disconnection) {
  std::string out;
  encode_disconnect(out, protocol::v5);
  // 5.0 section 3.14.2: the reason code and the property length may be left out when they
  // are 0 (remaining length 0 or 1), or spelled out (remaining length 2). All mean "normal".
  ASSERT_GE(out.size(), 2u) << hex(out);
  EXPECT_EQ(0xE0, static_cast<unsigned char>(out[0])) << hex(out);
  const auto length = static_cast<unsigned char>(out[1]);
  ASSERT_LE(length, 2) << hex(out);
  ASSERT_EQ(2u + length, out.size()) << hex(out);
  if (length >= 1) {
    EXPECT_EQ(0x00, static_cast<unsigned char>(out[2])) << "reason " << hex(out);
  }
  if (length == 2) {
    EXPECT_EQ(0x00, static_cast<unsigned char>(out[3])) << "props " << hex(out);
  }
}

// ---- next_packet ----------------------------------------------------------------------

/// A PUBLISH QoS 0 of exactly `remaining` body bytes (topic "t", payload filler).
std::string publish_with_remaining_length(std::size_t remaining, std::string_view length_bytes) {
  std::string s;
  s.push_back(0x30);
  s.append(length_bytes);
  std::string body = bytes({0x00, 0x01, 't'});
  body.resize(remaining, 'p');
  s += body;
  return s;
}

struct length_case {
  std::size_t remaining;
  std::string encoded;
};

TEST(mqtt_next_packet, remaining_length_of_one_to_four_bytes) {
  const std::vector<length_case> cases = {
      {3, bytes({0x03})},
      {127, bytes({0x7F})},
      {128, bytes({0x80, 0x01})},
      {16383, bytes({0xFF, 0x7F})},
      {16384, bytes({0x80, 0x80, 0x01})},
      {2097151, bytes({0xFF, 0xFF, 0x7F})},
      {2097152, bytes({0x80, 0x80, 0x80, 0x01})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("remaining length " + std::to_string(c.remaining));
    const std::string wire = publish_with_remaining_length(c.remaining, c.encoded);
    std::size_t used = 0;
    const auto p = next_packet(wire, used);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(packet_type::publish, p->type);
    EXPECT_EQ(0, p->flags);
    EXPECT_EQ(wire.size(), used);
    EXPECT_EQ(c.remaining, p->body.size());
    // The body is a view into the input, right after the fixed header.
    EXPECT_EQ(wire.data() + 1 + c.encoded.size(), p->body.data());
  }
}

TEST(mqtt_next_packet, zero_remaining_length) {
  const std::string wire = bytes({0xD0, 0x00});  // PINGRESP
  std::size_t used = 0;
  const auto p = next_packet(wire, used);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(packet_type::pingresp, p->type);
  EXPECT_EQ(0, p->flags);
  EXPECT_TRUE(p->body.empty());
  EXPECT_EQ(2u, used);
}

TEST(mqtt_next_packet, non_minimal_length_encoding_still_frames_the_packet) {
  // 0x80 0x00 is a (non-minimal) zero; we only need the framing right.
  const std::string wire = bytes({0xD0, 0x80, 0x00, 0xC0, 0x00});
  std::size_t used = 0;
  const auto p = next_packet(wire, used);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(packet_type::pingresp, p->type);
  EXPECT_EQ(3u, used);
}

TEST(mqtt_next_packet, flags_are_the_low_nibble) {
  const std::string wire = bytes({0x3B, 0x05, 0x00, 0x01, 't', 0x00, 0x09});
  std::size_t used = 0;
  const auto p = next_packet(wire, used);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(packet_type::publish, p->type);
  EXPECT_EQ(0x0B, p->flags);
  EXPECT_EQ(7u, used);
}

TEST(mqtt_next_packet, every_prefix_of_a_packet_is_incomplete) {
  const std::vector<std::string> packets = {
      bytes({0xD0, 0x00}),
      bytes({0x40, 0x02, 0x00, 0x01}),
      bytes({0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x2A, 'x'}),
      publish_with_remaining_length(200, bytes({0xC8, 0x01})),
      publish_with_remaining_length(16384, bytes({0x80, 0x80, 0x01})),
      publish_with_remaining_length(2097152, bytes({0x80, 0x80, 0x80, 0x01})),
  };
  for (const auto& wire : packets) {
    SCOPED_TRACE("packet of " + std::to_string(wire.size()) + " bytes");
    // Every prefix for the short ones; for the long ones the header area densely and the
    // body sparsely (each call is O(1) in the body size anyway).
    for (std::size_t n = 0; n < wire.size(); n = n < 300 ? n + 1 : n + 997) {
      std::size_t used = 12345;
      const auto p = next_packet(std::string_view(wire).substr(0, n), used);
      ASSERT_FALSE(p.has_value()) << "prefix of " << n << " bytes gave a packet";
    }
    std::size_t used = 0;
    std::string_view last(wire.data(), wire.size() - 1);
    ASSERT_FALSE(next_packet(last, used).has_value());
    ASSERT_TRUE(next_packet(wire, used).has_value());
    EXPECT_EQ(wire.size(), used);
  }
}

TEST(mqtt_next_packet, largest_four_byte_length_header_alone_is_incomplete) {
  // 268,435,455 is the largest remaining length MQTT can express; under the default limit.
  const std::string header = bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F});
  std::size_t used = 0;
  EXPECT_FALSE(next_packet(header, used).has_value());
}

TEST(mqtt_next_packet, several_packets_back_to_back) {
  std::string wire;
  wire += bytes({0x90, 0x03, 0x00, 0x01, 0x01});                       // SUBACK
  wire += bytes({0x32, 0x07, 0x00, 0x01, 'a', 0x00, 0x05, 'h', 'i'});  // PUBLISH q1
  wire += bytes({0xD0, 0x00});                                         // PINGRESP
  wire += bytes({0x30, 0x04, 0x00, 0x01, 'b', 'z'});                   // PUBLISH q0
  wire += bytes({0x62, 0x02, 0x00, 0x09});                             // PUBREL
  wire += bytes({0xE0, 0x01, 0x8E});                                   // DISCONNECT
  wire += bytes({0x30, 0x04, 0x00});                                   // partial

  const std::vector<std::pair<packet_type, std::size_t>> expected = {
      {packet_type::suback, 5},  {packet_type::publish, 9}, {packet_type::pingresp, 2},
      {packet_type::publish, 6}, {packet_type::pubrel, 4},  {packet_type::disconnect, 3},
  };
  std::string_view rest = wire;
  for (const auto& [type, size] : expected) {
    std::size_t used = 0;
    const auto p = next_packet(rest, used);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(type, p->type);
    EXPECT_EQ(size, used);
    rest.remove_prefix(used);
  }
  std::size_t used = 0;
  EXPECT_FALSE(next_packet(rest, used).has_value());
  EXPECT_EQ(3u, rest.size());
}

TEST(mqtt_next_packet, five_byte_remaining_length_is_a_protocol_error) {
  std::size_t used = 0;
  EXPECT_THROW(next_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), used), protocol_error);
  EXPECT_THROW(next_packet(bytes({0x30, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00}), used),
               protocol_error);
  // Four continuation bytes already prove the length is malformed.
  EXPECT_THROW(next_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF}), used), protocol_error);
}

TEST(mqtt_next_packet, length_above_the_limit_is_a_protocol_error) {
  std::size_t used = 0;
  // 1000 = E8 07. The limit must be enforced on the header alone: a body that will never fit
  // must not be waited for. It counts the whole packet, fixed header included, as MQTT 5's
  // Maximum Packet Size does: 3 + 1000 bytes.
  const std::string header = bytes({0x30, 0xE8, 0x07});
  EXPECT_THROW(next_packet(header, used, 1002), protocol_error);
  std::string whole = publish_with_remaining_length(1000, bytes({0xE8, 0x07}));
  EXPECT_THROW(next_packet(whole, used, 1002), protocol_error);
  // At the limit is fine.
  const auto p = next_packet(whole, used, 1003);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(whole.size(), used);
}

TEST(mqtt_next_packet, default_limit_admits_the_largest_packet_mqtt_can_express) {
  std::size_t used = 0;
  // 268,435,455 (the MQTT maximum) + 5 header bytes: accepted, the body is awaited.
  EXPECT_FALSE(next_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), used).has_value());
  // A lower explicit limit refuses the same header.
  EXPECT_THROW(next_packet(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), used, 1 << 20), protocol_error);
}

// ---- parse_publish --------------------------------------------------------------------

TEST(mqtt_parse_publish, qos0_has_no_packet_id) {
  const std::string body = bytes({0x00, 0x03, 'a', '/', 'b', 'h', 'i'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x00, body), protocol::v311);
  EXPECT_EQ("a/b", m.topic);
  EXPECT_EQ("hi", m.payload);
  EXPECT_EQ(0, m.qos);
  EXPECT_EQ(0, m.packet_id);
  EXPECT_FALSE(m.retain);
  EXPECT_FALSE(m.dup);
  EXPECT_EQ(body.data() + 2, m.topic.data());
}

TEST(mqtt_parse_publish, qos1_has_a_packet_id) {
  const std::string body = bytes({0x00, 0x03, 'a', '/', 'b', 0x12, 0x34, '{', '}'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v311);
  EXPECT_EQ("a/b", m.topic);
  EXPECT_EQ("{}", m.payload);
  EXPECT_EQ(1, m.qos);
  EXPECT_EQ(0x1234, m.packet_id);
  EXPECT_FALSE(m.retain);
  EXPECT_FALSE(m.dup);
}

TEST(mqtt_parse_publish, dup_and_retain_flags) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x07, 'x'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x0B, body), protocol::v311);
  EXPECT_TRUE(m.dup);
  EXPECT_TRUE(m.retain);
  EXPECT_EQ(1, m.qos);
  EXPECT_EQ(7, m.packet_id);
  const auto r = parse_publish(make_packet(packet_type::publish, 0x01, bytes({0x00, 0x01, 't'})),
                               protocol::v311);
  EXPECT_TRUE(r.retain);
  EXPECT_FALSE(r.dup);
  EXPECT_EQ(0, r.qos);
}

TEST(mqtt_parse_publish, qos2) {
  const std::string body = bytes({0x00, 0x01, 't', 0xAB, 0xCD, 'z'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x04, body), protocol::v311);
  EXPECT_EQ(2, m.qos);
  EXPECT_EQ(0xABCD, m.packet_id);
  EXPECT_EQ("z", m.payload);
}

TEST(mqtt_parse_publish, binary_payload_with_nul_bytes) {
  const std::string payload("\0a\0\xff\0", 5);
  std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01});
  body += payload;
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v311);
  EXPECT_EQ(payload, m.payload);
}

TEST(mqtt_parse_publish, empty_payload) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v311);
  EXPECT_EQ("t", m.topic);
  EXPECT_TRUE(m.payload.empty());
  const auto v5 = parse_publish(
      make_packet(packet_type::publish, 0x02, bytes({0x00, 0x01, 't', 0x00, 0x01, 0x00})),
      protocol::v5);
  EXPECT_TRUE(v5.payload.empty());
}

TEST(mqtt_parse_publish, v5_without_properties) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x02, 0x00, 'o', 'k'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5);
  EXPECT_EQ("t", m.topic);
  EXPECT_EQ(2, m.packet_id);
  EXPECT_EQ("ok", m.payload);
}

TEST(mqtt_parse_publish, v5_properties_are_skipped) {
  // Payload format indicator (0x01, byte), user property (0x26, two strings), message expiry
  // (0x02, four bytes), content type (0x03, string), subscription identifier (0x0B, a
  // two-byte variable integer 200 = C8 01), correlation data (0x09, binary), response topic
  // (0x08, string).
  const std::string props = bytes({0x01, 0x01,                                    // 2
                                   0x26, 0x00, 0x01, 'k',  0x00, 0x02, 'v', 'v',  // 8
                                   0x02, 0x00, 0x00, 0x0E, 0x10,                  // 5
                                   0x03, 0x00, 0x04, 'j',  's',  'o',  'n',       // 7
                                   0x0B, 0xC8, 0x01,                              // 3
                                   0x09, 0x00, 0x02, 0x00, 0xFF,                  // 5
                                   0x08, 0x00, 0x01, 'r'});                       // 4
  ASSERT_EQ(34u, props.size());
  std::string body = bytes({0x00, 0x03, 'a', '/', 'b', 0x01, 0x00, 34});
  body += props;
  body += "{\"v\":1}";
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5);
  EXPECT_EQ("a/b", m.topic);
  EXPECT_EQ(0x0100, m.packet_id);
  EXPECT_EQ("{\"v\":1}", m.payload);
}

TEST(mqtt_parse_publish, v5_qos0_properties_follow_the_topic) {
  const std::string body = bytes({0x00, 0x01, 't', 0x02, 0x01, 0x00, 'x'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x00, body), protocol::v5);
  EXPECT_EQ("t", m.topic);
  EXPECT_EQ("x", m.payload);
  EXPECT_EQ(0, m.packet_id);
}

TEST(mqtt_parse_publish, v5_long_property_length) {
  // 130 bytes of properties: a user property with a 124-byte value; length varint 82 01.
  std::string props = bytes({0x26, 0x00, 0x01, 'k', 0x00, 124});
  props += std::string(124, 'v');
  ASSERT_EQ(130u, props.size());
  std::string body = bytes({0x00, 0x01, 't', 0x00, 0x05, 0x82, 0x01});
  body += props;
  body += "pay";
  const auto m = parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5);
  EXPECT_EQ("pay", m.payload);
}

TEST(mqtt_parse_publish, v5_topic_alias_is_a_protocol_error) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01, 0x03, 0x23, 0x00, 0x01, 'x'});
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_publish, v5_property_length_past_the_body_is_a_protocol_error) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01, 0x10, 0x01, 0x01});
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_publish, v5_truncated_property_is_a_protocol_error) {
  // Property length 3, but a user property needs at least 5 bytes.
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01, 0x03, 0x26, 0x00, 0x05, 'x'});
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_publish, v5_unknown_property_is_a_protocol_error) {
  // Its length cannot be known, so nothing after it can be read.
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01, 0x02, 0x7F, 0x00, 'x'});
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02, body), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_publish, qos3_is_a_protocol_error) {
  const std::string body = bytes({0x00, 0x01, 't', 0x00, 0x01, 'x'});
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x06, body), protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x06, body), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_publish, truncated_topic_is_a_protocol_error) {
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00, bytes({0x00, 0x10, 'a', 'b'})),
                             protocol::v311),
               protocol_error);
  EXPECT_THROW(
      parse_publish(make_packet(packet_type::publish, 0x00, bytes({0x00})), protocol::v311),
      protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00, ""), protocol::v311),
               protocol_error);
}

TEST(mqtt_parse_publish, truncated_packet_id_is_a_protocol_error) {
  EXPECT_THROW(
      parse_publish(make_packet(packet_type::publish, 0x02, bytes({0x00, 0x01, 't', 0x00})),
                    protocol::v311),
      protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02, bytes({0x00, 0x01, 't'})),
                             protocol::v311),
               protocol_error);
}

TEST(mqtt_parse_publish, v5_missing_property_length_is_a_protocol_error) {
  EXPECT_THROW(
      parse_publish(make_packet(packet_type::publish, 0x02, bytes({0x00, 0x01, 't', 0x00, 0x01})),
                    protocol::v5),
      protocol_error);
}

// ---- parse_connack --------------------------------------------------------------------

TEST(mqtt_parse_connack, v311_accepted) {
  auto c = parse_connack(make_packet(packet_type::connack, 0, bytes({0x00, 0x00})), protocol::v311);
  EXPECT_FALSE(c.session_present);
  EXPECT_EQ(0, c.reason);
  EXPECT_FALSE(c.server_keepalive_s.has_value());
  EXPECT_FALSE(c.receive_maximum.has_value());
  EXPECT_TRUE(c.reason_string.empty());
  c = parse_connack(make_packet(packet_type::connack, 0, bytes({0x01, 0x00})), protocol::v311);
  EXPECT_TRUE(c.session_present);
  EXPECT_EQ(0, c.reason);
}

TEST(mqtt_parse_connack, v311_refused) {
  const auto c =
      parse_connack(make_packet(packet_type::connack, 0, bytes({0x00, 0x05})), protocol::v311);
  EXPECT_FALSE(c.session_present);
  EXPECT_EQ(5, c.reason);
}

TEST(mqtt_parse_connack, truncated_is_a_protocol_error) {
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0, bytes({0x00})), protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0, ""), protocol::v5),
               protocol_error);
}

TEST(mqtt_parse_connack, v5_properties) {
  const std::string props = bytes({0x13, 0x00, 0x0A,                   // server keep alive 10
                                   0x21, 0x00, 0x14,                   // receive maximum 20
                                   0x22, 0x00, 0x0A,                   // topic alias max
                                   0x27, 0x00, 0x10, 0x00, 0x00,       // maximum packet size
                                   0x12, 0x00, 0x03, 'i',  'd',  'x',  // assigned client id
                                   0x24, 0x01,                         // maximum QoS
                                   0x2A, 0x01,                         // shared subs available
                                   0x1F, 0x00, 0x02, 'o',  'k',        // reason string
                                   0x26, 0x00, 0x01, 'a',  0x00, 0x01, 'b'});  // user property
  ASSERT_EQ(36u, props.size());
  std::string body = bytes({0x01, 0x00, 36});
  body += props;
  const auto c = parse_connack(make_packet(packet_type::connack, 0, body), protocol::v5);
  EXPECT_TRUE(c.session_present);
  EXPECT_EQ(0, c.reason);
  ASSERT_TRUE(c.server_keepalive_s.has_value());
  EXPECT_EQ(10, *c.server_keepalive_s);
  ASSERT_TRUE(c.receive_maximum.has_value());
  EXPECT_EQ(20, *c.receive_maximum);
  EXPECT_EQ("ok", c.reason_string);
}

TEST(mqtt_parse_connack, v5_without_properties) {
  const auto c =
      parse_connack(make_packet(packet_type::connack, 0, bytes({0x00, 0x00, 0x00})), protocol::v5);
  EXPECT_EQ(0, c.reason);
  EXPECT_FALSE(c.server_keepalive_s.has_value());
  EXPECT_FALSE(c.receive_maximum.has_value());
}

TEST(mqtt_parse_connack, v5_refused_with_reason_string) {
  std::string body = bytes({0x00, 0x86, 0x08, 0x1F, 0x00, 0x05});
  body += "nope!";
  const auto c = parse_connack(make_packet(packet_type::connack, 0, body), protocol::v5);
  EXPECT_EQ(0x86, c.reason);
  EXPECT_EQ("nope!", c.reason_string);
}

TEST(mqtt_parse_connack, v5_truncated_property_is_a_protocol_error) {
  // Server keep alive needs two bytes; the property list holds one.
  EXPECT_THROW(
      parse_connack(make_packet(packet_type::connack, 0, bytes({0x00, 0x00, 0x02, 0x13, 0x00})),
                    protocol::v5),
      protocol_error);
  // Property length says 9, only 3 follow.
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0,
                                         bytes({0x00, 0x00, 0x09, 0x21, 0x00, 0x01})),
                             protocol::v5),
               protocol_error);
}

// ---- parse_suback, parse_packet_id, parse_disconnect_reason ----------------------------

TEST(mqtt_parse_suback, v311_granted_and_refused) {
  auto s =
      parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01, 0x01})), protocol::v311);
  EXPECT_EQ(1, s.packet_id);
  EXPECT_EQ(1, s.first_code);
  s = parse_suback(make_packet(packet_type::suback, 0, bytes({0x12, 0x34, 0x80})), protocol::v311);
  EXPECT_EQ(0x1234, s.packet_id);
  EXPECT_EQ(0x80, s.first_code);
}

TEST(mqtt_parse_suback, v5_with_and_without_properties) {
  auto s = parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01, 0x00, 0x01})),
                        protocol::v5);
  EXPECT_EQ(1, s.packet_id);
  EXPECT_EQ(1, s.first_code);
  s = parse_suback(make_packet(packet_type::suback, 0,
                               bytes({0x00, 0x02, 0x0B, 0x1F, 0x00, 0x02, 'n', 'o', 0x26, 0x00,
                                      0x01, 'k', 0x00, 0x00, 0x87})),
                   protocol::v5);
  EXPECT_EQ(2, s.packet_id);
  EXPECT_EQ(0x87, s.first_code);
  s = parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x03, 0x00, 0x80})),
                   protocol::v5);
  EXPECT_EQ(0x80, s.first_code);
}

TEST(mqtt_parse_suback, truncated_is_a_protocol_error) {
  EXPECT_THROW(
      parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01})), protocol::v311),
      protocol_error);
  EXPECT_THROW(parse_suback(make_packet(packet_type::suback, 0, bytes({0x00})), protocol::v311),
               protocol_error);
  EXPECT_THROW(
      parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01, 0x00})), protocol::v5),
      protocol_error);
}

TEST(mqtt_parse_packet_id, reads_two_bytes_big_endian) {
  EXPECT_EQ(0x1234, parse_packet_id(make_packet(packet_type::puback, 0, bytes({0x12, 0x34}))));
  EXPECT_EQ(0xFFFF, parse_packet_id(make_packet(packet_type::pubrel, 2, bytes({0xFF, 0xFF}))));
  // v5 acknowledgements may carry a reason code and properties after the id.
  EXPECT_EQ(9,
            parse_packet_id(make_packet(packet_type::pubrel, 2, bytes({0x00, 0x09, 0x92, 0x00}))));
}

TEST(mqtt_parse_packet_id, too_short_is_a_protocol_error) {
  EXPECT_THROW(parse_packet_id(make_packet(packet_type::puback, 0, bytes({0x12}))), protocol_error);
  EXPECT_THROW(parse_packet_id(make_packet(packet_type::puback, 0, "")), protocol_error);
}

TEST(mqtt_parse_disconnect_reason, empty_body_is_normal) {
  EXPECT_EQ(0, parse_disconnect_reason(make_packet(packet_type::disconnect, 0, "")));
}

TEST(mqtt_parse_disconnect_reason, reason_code_with_and_without_properties) {
  EXPECT_EQ(0x8E, parse_disconnect_reason(make_packet(packet_type::disconnect, 0, bytes({0x8E}))));
  EXPECT_EQ(0x8B,
            parse_disconnect_reason(make_packet(packet_type::disconnect, 0, bytes({0x8B, 0x00}))));
  EXPECT_EQ(0x9C, parse_disconnect_reason(
                      make_packet(packet_type::disconnect, 0,
                                  bytes({0x9C, 0x07, 0x1C, 0x00, 0x04, 'h', 'o', 's', 't'}))));
}

// ---- connack_reason_text --------------------------------------------------------------

TEST(mqtt_connack_reason_text, v311_not_authorized) {
  const auto text = lower(connack_reason_text(5, protocol::v311));
  EXPECT_NE(std::string::npos, text.find("authori")) << text;
  EXPECT_NE(std::string::npos, text.find('5')) << text;
}

TEST(mqtt_connack_reason_text, v311_bad_login) {
  const auto text = lower(connack_reason_text(4, protocol::v311));
  EXPECT_NE(std::string::npos, text.find("password")) << text;
}

TEST(mqtt_connack_reason_text, v5_bad_login_and_not_authorized) {
  const auto bad_login = lower(connack_reason_text(0x86, protocol::v5));
  EXPECT_NE(std::string::npos, bad_login.find("password")) << bad_login;
  EXPECT_NE(std::string::npos, bad_login.find("86")) << bad_login;
  const auto not_authorized = lower(connack_reason_text(0x87, protocol::v5));
  EXPECT_NE(std::string::npos, not_authorized.find("authori")) << not_authorized;
  EXPECT_NE(std::string::npos, not_authorized.find("87")) << not_authorized;
}

TEST(mqtt_connack_reason_text, unknown_codes_still_name_the_number) {
  EXPECT_NE(std::string::npos, connack_reason_text(77, protocol::v311).find("77"));
  EXPECT_FALSE(connack_reason_text(0xF0, protocol::v5).empty());
}


// ---- strict decoding (issue 12) ---------------------------------------------------------

TEST(mqtt_strict, fixed_header_flags_must_be_the_ones_the_type_requires) {
  std::size_t used = 0;
  // PUBACK with flags 1, PUBREL without its 0b0010, SUBSCRIBE with 0, CONNACK with 1.
  EXPECT_THROW(next_packet(bytes({0x41, 0x02, 0x00, 0x01}), used), protocol_error);
  EXPECT_THROW(next_packet(bytes({0x60, 0x02, 0x00, 0x01}), used), protocol_error);
  EXPECT_THROW(next_packet(bytes({0x80, 0x02, 0x00, 0x01}), used), protocol_error);
  EXPECT_THROW(next_packet(bytes({0x21, 0x02, 0x00, 0x00}), used), protocol_error);
  // The header alone is enough to refuse: no body is waited for.
  EXPECT_THROW(next_packet(bytes({0xD1}), used), protocol_error);
  // The right flags pass.
  EXPECT_TRUE(next_packet(bytes({0x62, 0x02, 0x00, 0x01}), used).has_value());
  EXPECT_TRUE(next_packet(bytes({0x40, 0x02, 0x00, 0x01}), used).has_value());
  // PUBLISH: QoS 3 is refused by the header already.
  EXPECT_THROW(next_packet(bytes({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}), used),
               protocol_error);
}

TEST(mqtt_strict, parse_fixed_header_reports_length_and_header_size_before_the_body) {
  const auto h = parse_fixed_header(bytes({0x30, 0x80, 0x80, 0x01}));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(packet_type::publish, h->type);
  EXPECT_EQ(16384u, h->remaining_length);
  EXPECT_EQ(4u, h->header_bytes);
  EXPECT_FALSE(parse_fixed_header(bytes({0x30, 0x80})).has_value());
}

TEST(mqtt_strict, publish_with_packet_id_0_dup_at_qos0_or_a_wildcard_topic_is_refused) {
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x02,
                                         bytes({0x00, 0x01, 't', 0x00, 0x00, 'x'})),
                             protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x08, bytes({0x00, 0x01, 't', 'x'})),
                             protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00,
                                         bytes({0x00, 0x03, 'a', '/', '#', 'x'})),
                             protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00,
                                         bytes({0x00, 0x03, 'a', '/', '+', 'x'})),
                             protocol::v311),
               protocol_error);
}

TEST(mqtt_strict, a_property_the_packet_may_not_carry_or_a_repeated_one_is_refused) {
  // PUBLISH with Session Expiry Interval (0x11): a CONNECT/CONNACK/DISCONNECT property.
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00,
                                         bytes({0x00, 0x01, 't', 0x05, 0x11, 0, 0, 0, 1, 'x'})),
                             protocol::v5),
               protocol_error);
  // Payload Format Indicator twice.
  EXPECT_THROW(parse_publish(make_packet(packet_type::publish, 0x00,
                                         bytes({0x00, 0x01, 't', 0x04, 0x01, 0x00, 0x01, 0x00, 'x'})),
                             protocol::v5),
               protocol_error);
  // User Property twice is allowed.
  const std::string body = bytes(
      {0x00, 0x01, 't', 0x0E, 0x26, 0, 1, 'a', 0, 1, '1', 0x26, 0, 1, 'b', 0, 1, '2', 'x'});
  const auto m = parse_publish(make_packet(packet_type::publish, 0x00, body), protocol::v5);
  EXPECT_EQ("x", m.payload);
  EXPECT_EQ(std::optional<std::string_view>("2"), find_user_property(m.properties, "b"));
  EXPECT_EQ(std::optional<std::string_view>("1"), find_user_property(m.properties, "a"));
  EXPECT_FALSE(find_user_property(m.properties, "c").has_value());
  // CONNACK with a PUBLISH-only property (Topic Alias 0x23).
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0,
                                         bytes({0x00, 0x00, 0x03, 0x23, 0x00, 0x01})),
                             protocol::v5),
               protocol_error);
}

TEST(mqtt_strict, connack_checks_its_flags_and_limits) {
  // Reserved acknowledge flags; session present on a refusal.
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0, bytes({0x02, 0x00})),
                             protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0, bytes({0x01, 0x05})),
                             protocol::v311),
               protocol_error);
  // Receive Maximum 0 and Maximum Packet Size 0 are protocol errors (MQTT 5.0 3.2.2.3).
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0,
                                         bytes({0x00, 0x00, 0x03, 0x21, 0x00, 0x00})),
                             protocol::v5),
               protocol_error);
  EXPECT_THROW(parse_connack(make_packet(packet_type::connack, 0,
                                         bytes({0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0})),
                             protocol::v5),
               protocol_error);
  const auto c = parse_connack(
      make_packet(packet_type::connack, 0,
                  bytes({0x00, 0x00, 0x09, 0x27, 0x00, 0x01, 0x00, 0x00, 0x24, 0x01, 0x25, 0x00})),
      protocol::v5);
  EXPECT_EQ(std::optional<std::uint32_t>(65536), c.maximum_packet_size);
  EXPECT_EQ(std::optional<std::uint8_t>(1), c.maximum_qos);
  EXPECT_EQ(std::optional<bool>(false), c.retain_available);
  // A v3.1.1 broker's answer to a v5 CONNECT parses, and names the protocol.
  const auto old = parse_connack(make_packet(packet_type::connack, 0, bytes({0x00, 0x01})),
                                 protocol::v5);
  EXPECT_EQ(1, old.reason);
  const auto text = connack_reason_text(old.reason, protocol::v5);
  EXPECT_NE(std::string::npos, text.find("3.1.1")) << text;
  EXPECT_TRUE(connack_refusal_is_permanent(old.reason, protocol::v5));
}

TEST(mqtt_strict, acknowledgements_carry_reason_codes_in_v5_and_never_packet_id_0) {
  const auto a = parse_ack(make_packet(packet_type::puback, 0,
                                       bytes({0x00, 0x07, 0x97, 0x04, 0x1F, 0x00, 0x01, 'q'})),
                           protocol::v5);
  EXPECT_EQ(7, a.packet_id);
  EXPECT_EQ(0x97, a.reason);
  EXPECT_EQ("q", a.reason_string);
  EXPECT_EQ(0, parse_ack(make_packet(packet_type::puback, 0, bytes({0x00, 0x07})), protocol::v5).reason);
  EXPECT_THROW(parse_ack(make_packet(packet_type::puback, 0, bytes({0x00, 0x00})), protocol::v5),
               protocol_error);
  EXPECT_THROW(parse_ack(make_packet(packet_type::puback, 0, bytes({0x00, 0x07, 0x00})),
                         protocol::v311),
               protocol_error);
  EXPECT_NE(std::string::npos, reason_code_text(0x95).find("packet too large"));
  EXPECT_NE(std::string::npos, reason_code_text(0x97).find("quota exceeded"));
}

TEST(mqtt_strict, suback_codes_outside_the_protocol_are_refused) {
  EXPECT_THROW(parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01, 0x05})),
                            protocol::v311),
               protocol_error);
  EXPECT_THROW(parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x00, 0x01})),
                            protocol::v311),
               protocol_error);
  EXPECT_EQ(0x87, parse_suback(make_packet(packet_type::suback, 0, bytes({0x00, 0x01, 0x00, 0x87})),
                               protocol::v5)
                      .first_code);
}

TEST(mqtt_strict, permanent_connack_refusals_are_told_apart_from_passing_ones) {
  EXPECT_TRUE(connack_refusal_is_permanent(4, protocol::v311));
  EXPECT_TRUE(connack_refusal_is_permanent(5, protocol::v311));
  EXPECT_FALSE(connack_refusal_is_permanent(3, protocol::v311));  // server unavailable
  EXPECT_TRUE(connack_refusal_is_permanent(0x86, protocol::v5));
  EXPECT_TRUE(connack_refusal_is_permanent(0x87, protocol::v5));
  EXPECT_FALSE(connack_refusal_is_permanent(0x89, protocol::v5));  // server busy
  EXPECT_FALSE(connack_refusal_is_permanent(0x97, protocol::v5));  // quota exceeded
}

TEST(mqtt_encode_publish, v5_user_properties_go_out_and_come_back) {
  std::string props;
  append_user_property(props, "ts", "1700000000000123");
  std::string out;
  encode_publish(out, protocol::v5, "a/b", "{}", 1, false, 9, props);
  EXPECT_EQ(out.size(), publish_packet_size(protocol::v5, "a/b", "{}", 1, props));
  EXPECT_EQ(out.size(), 2 + 2 + 3 + 2 + 1 + props.size() + 2);
  std::size_t used = 0;
  const auto p = next_packet(out, used);
  ASSERT_TRUE(p);
  const auto m = parse_publish(*p, protocol::v5);
  EXPECT_EQ("{}", m.payload);
  EXPECT_EQ(std::optional<std::string_view>("1700000000000123"),
            find_user_property(m.properties, "ts"));
  // v3.1.1 has no properties: the list is left out.
  std::string old;
  encode_publish(old, protocol::v311, "a/b", "{}", 0, false, 0, props);
  EXPECT_EQ(old.size(), publish_packet_size(protocol::v311, "a/b", "{}", 0, props));
  EXPECT_THROW(encode_publish(old, protocol::v311, "a/b", "{}", 1, false, 0), std::invalid_argument);
}

TEST(mqtt_encode_connect, v5_announces_a_maximum_packet_size_when_asked) {
  connect_options o;
  o.version = protocol::v5;
  o.client_id = "c";
  o.clean_start = true;
  o.maximum_packet_size = 0x00010000;
  std::string out;
  encode_connect(out, o);
  const auto at = out.find(std::string{'\x27', '\x00', '\x01', '\x00', '\x00'});
  EXPECT_NE(std::string::npos, at) << hex(out);
}
}  // namespace
}  // namespace factorysim::mqtt
