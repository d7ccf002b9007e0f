// libFuzzer target: the MQTT codec (mqtt/codec.hpp) on bytes from a hostile broker. The first
// byte picks the protocol version; the rest is a stream cut into packets by next_packet and
// handed to the parser of each packet's type, as the session does. A protocol_error is the
// expected answer to garbage; anything else (a crash, a sanitizer report, another exception)
// is a bug. Issue 12.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mqtt/codec.hpp"

namespace mqtt = factorysim::mqtt;

namespace {

void parse_one(const mqtt::packet& p, mqtt::protocol v) {
  switch (p.type) {
    case mqtt::packet_type::connack:
      (void)mqtt::parse_connack(p, v);
      break;
    case mqtt::packet_type::publish: {
      const mqtt::publish m = mqtt::parse_publish(p, v);
      if (v == mqtt::protocol::v5) (void)mqtt::find_user_property(m.properties, "fs-sched-us");
      // What the publisher would send back for it must encode without trouble.
      std::string out;
      if (mqtt::publish_topic_error(m.topic).empty())
        (void)mqtt::encode_publish(out, v, m.topic, m.payload, m.qos, m.retain,
                                   m.packet_id == 0 ? 1 : m.packet_id);
      break;
    }
    case mqtt::packet_type::suback:
      (void)mqtt::parse_suback(p, v);
      break;
    case mqtt::packet_type::puback:
    case mqtt::packet_type::pubrec:
    case mqtt::packet_type::pubrel:
    case mqtt::packet_type::pubcomp:
      (void)mqtt::parse_ack(p, v);
      (void)mqtt::parse_packet_id(p);
      break;
    case mqtt::packet_type::disconnect:
      (void)mqtt::parse_disconnect(p, v);
      (void)mqtt::parse_disconnect_reason(p);
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const mqtt::protocol v = (data[0] & 1) != 0 ? mqtt::protocol::v5 : mqtt::protocol::v311;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    while (!in.empty()) {
      std::size_t used = 0;
      const auto p = mqtt::next_packet(in, used, 1 << 20);
      if (!p) break;
      if (used == 0 || used > in.size()) __builtin_trap();  // would loop or overrun
      try {
        parse_one(*p, v);
      } catch (const mqtt::protocol_error&) {
        // a malformed packet: the session drops the connection; go on with the next
      }
      in.remove_prefix(used);
    }
  } catch (const mqtt::protocol_error&) {
    // a malformed fixed header or an oversized packet: the connection ends here
  }
  return 0;
}
