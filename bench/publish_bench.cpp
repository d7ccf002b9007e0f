// Publish-rate driver for bench/publish_bench.sh: publishes N messages of S bytes through
// the simulator's publishing client (our own mqtt::publisher, or libmosquitto with --client
// libmosquitto) as fast as its in-flight window allows, waits until every message is
// acknowledged (QoS 1) or written (QoS 0), and prints one line:
//   publish_bench client=C version=V qos=Q count=N size=S seconds=T msgs_per_s=R acknowledged=A dropped=D
// Usage: publish_bench --port P [--host H] [--count N] [--size S] [--qos Q] [--window W]
//                      [--topic T] [--client native|libmosquitto] [--mqtt-version 5|3.1.1]
// Exit codes: 0 ok, 1 runtime failure (not everything acknowledged), 2 bad usage.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "sim/publish_client.hpp"

namespace {

struct bench_args {
  std::string host = "127.0.0.1";
  int port = 0;
  std::size_t count = 100000;
  std::size_t size = 200;
  int qos = 1;
  std::size_t window = 1000;
  std::string topic = "bench/mqtt_client";
  std::string client = "native";
  std::string version = "5";
};

bool parse(int argc, char** argv, bench_args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string_view k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    try {
      if (k == "--host")
        a.host = v;
      else if (k == "--port")
        a.port = std::stoi(v);
      else if (k == "--count")
        a.count = std::stoul(v);
      else if (k == "--size")
        a.size = std::stoul(v);
      else if (k == "--qos")
        a.qos = std::stoi(v);
      else if (k == "--window")
        a.window = std::stoul(v);
      else if (k == "--topic")
        a.topic = v;
      else if (k == "--client")
        a.client = v;
      else if (k == "--mqtt-version")
        a.version = v;
      else
        return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return a.port > 0 && a.qos >= 0 && a.qos <= 2 && a.size > 0 &&
         (a.client == "native" || a.client == "libmosquitto") &&
         (a.version == "5" || a.version == "3.1.1");
}

/// The same line publish_bench.sh feeds to `mosquitto_pub -l`: seq, then padding to `size`.
std::string payload_for(std::size_t seq, std::size_t size) {
  std::string p = std::to_string(seq) + ' ';
  p.resize(std::max(size, p.size()), 'x');
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  bench_args a;
  if (!parse(argc, argv, a)) {
    std::cerr << "usage: publish_bench --port P [--host H] [--count N] [--size S] [--qos 0|1|2] "
                 "[--window W] [--topic T] [--client native|libmosquitto] "
                 "[--mqtt-version 5|3.1.1]\n";
    return 2;
  }
  boost::asio::io_context io;
  factorysim::mqtt::publisher_options o;
  o.host = a.host;
  o.port = a.port;
  o.client_id = "publish-bench";
  o.clean_start = true;
  o.max_inflight = a.window;
  o.version = a.version == "5" ? factorysim::mqtt::protocol::v5 : factorysim::mqtt::protocol::v311;
  const auto kind = a.client == "native" ? factorysim::scenarios::mqtt_client_kind::native
                                         : factorysim::scenarios::mqtt_client_kind::libmosquitto;
  const auto owned = factorysim::sim::make_publish_client(io, kind, o);
  auto& client = *owned;

  std::size_t next = 0;
  std::string payload;
  auto pump = [&] {
    while (next < a.count) {
      payload = payload_for(next, a.size);
      if (!client.publish(a.topic, payload, a.qos, false)) return;
      ++next;
    }
  };
  client.on_ready(pump);
  client.start();
  // Connecting is not part of the measured rate (mosquitto_pub's figure includes its connect,
  // which is well under a millisecond on loopback).
  while (!client.connected()) io.run_one_for(std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  pump();
  const auto deadline = t0 + std::chrono::minutes(10);
  while (client.counters().acknowledged + client.counters().dropped < a.count &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::seconds(1));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bool done = false;
  client.async_shutdown(std::chrono::seconds(5), [&](bool) { done = true; });
  while (!done) io.run_one_for(std::chrono::seconds(1));

  const auto& c = client.counters();
  std::printf(
      "publish_bench client=%s version=%s qos=%d count=%zu size=%zu seconds=%.3f "
      "msgs_per_s=%.0f acknowledged=%llu dropped=%llu\n",
      a.client.c_str(), a.version.c_str(), a.qos, a.count, a.size, seconds, static_cast<double>(a.count) / seconds,
      static_cast<unsigned long long>(c.acknowledged), static_cast<unsigned long long>(c.dropped));
  return c.acknowledged == a.count ? 0 : 1;
}
