// --control ADDR:PORT parsing and the loopback rule (issue 4), without sockets.
#include "control/endpoint.hpp"

#include <gtest/gtest.h>

namespace {

using factorysim::control::is_loopback_address;
using factorysim::control::parse_control_listen;

TEST(control_listen, parses_addresses_ports_and_off) {
  auto a = parse_control_listen("127.0.0.1:8089");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8089);
  a = parse_control_listen("[::1]:9000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 9000);
  a = parse_control_listen("localhost:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  EXPECT_FALSE(parse_control_listen("off"));
  EXPECT_EQ(parse_control_listen(factorysim::control::default_control_listen)->port, 8089);
}

TEST(control_listen, refuses_malformed_values_with_a_message) {
  for (const char* bad : {"", "8089", "127.0.0.1", "127.0.0.1:", ":8089", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:80x", "example.com:80", "1.2.3:80", "OFF"}) {
    try {
      (void)parse_control_listen(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--control"), std::string::npos) << e.what();
    }
  }
}

TEST(control_listen, only_loopback_counts_as_loopback) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.1.2.3"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0"));
  EXPECT_FALSE(is_loopback_address("::"));
  EXPECT_FALSE(is_loopback_address("192.168.1.10"));
  EXPECT_FALSE(is_loopback_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("not an address"));
}

}  // namespace
