#pragma once
// A real engine on a memory sink, stepped by hand (advance_to, no timers, no sleeping), with
// the control router in front of it: what the router tests (issue 4) drive.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/router.hpp"
#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/memory_sink.hpp"

namespace factorysim::test {

using namespace std::chrono_literals;

// 2025-03-03T14:00:00Z, a Monday afternoon.
inline const machines::sim_time control_t0 = machines::sim_time{1'741'010'400'000ms};

inline constexpr const char* compressor_id = "c3000000-0000-0000-0000-000000000001";
inline constexpr const char* pump_id = "c3000000-0000-0000-0000-000000000002";
inline constexpr const char* hvac_id = "c3000000-0000-0000-0000-000000000003";
inline constexpr const char* factory_a = "55555555-5555-5555-5555-555555555555";
inline constexpr const char* factory_b = "66666666-6666-6666-6666-666666666666";

/// Two factories: a compressor (1 s) and a pump (10 s) in A, an HVAC (10 s) in B. The
/// compressor's name needs escaping in Prometheus labels and JSON.
inline scenarios::scenario control_scenario(scenarios::time_mode mode) {
  const std::string yaml = R"(
name: control-test
seed: 3
time:
  mode: backfill
  from: 2025-03-03T14:00:00Z
  to: 2025-03-03T14:10:00Z
factories:
  - id: 55555555-5555-5555-5555-555555555555
    name: Shop A
    timezone: UTC
  - id: 66666666-6666-6666-6666-666666666666
    name: Shop B
    timezone: Europe/Berlin
machines:
  - id: c3000000-0000-0000-0000-000000000001
    factory: 55555555-5555-5555-5555-555555555555
    name: "Comp \"A\" \\ 1"
    type: compressor
    rated_power_kw: 30
    interval: 1s
    topic: factory/ctl/compressor-1
  - id: c3000000-0000-0000-0000-000000000002
    factory: 55555555-5555-5555-5555-555555555555
    name: Pump-1
    type: pump
    rated_power_kw: 15
    interval: 10s
    topic: factory/ctl/pump-1
  - id: c3000000-0000-0000-0000-000000000003
    factory: 66666666-6666-6666-6666-666666666666
    name: HVAC-B
    type: hvac
    rated_power_kw: 100
    interval: 10s
    topic: factory/ctl/hvac-b
)";
  scenarios::scenario s = scenarios::parse_scenario(yaml, "control-test.yaml");
  s.mode = mode;
  if (mode != scenarios::time_mode::backfill) s.to.reset();
  return s;
}

inline sim::engine_options control_clocks() {
  sim::engine_options o;
  o.utc_now = [] { return control_t0; };
  o.wall_now = [] { return sim::pacer::wall_time{} + 1000s; };
  o.report = [](std::string_view what) { ADD_FAILURE() << "engine reported: " << what; };
  return o;
}

/// Engine + router; requests are answered synchronously.
class control_fixture : public ::testing::Test {
 protected:
  void make(scenarios::time_mode mode = scenarios::time_mode::accelerated,
            control::control_router_options options = {}) {
    router.reset();
    engine.reset();
    engine = std::make_unique<sim::engine>(io, control_scenario(mode), sink, control_clocks());
    router = std::make_unique<control::control_router>(*engine, std::move(options));
    if (mode != scenarios::time_mode::backfill) engine->start();
  }

  /// Sends one request as curl would (Host 127.0.0.1:8089, JSON Content-Type on changes);
  /// checks the error body shape of every 4xx/5xx.
  control::control_response call(const std::string& method, const std::string& target,
                                 const std::string& body = {},
                                 const std::string& authorization = {}) {
    control::control_request request;
    request.method = method;
    request.target = target;
    request.authorization = authorization;
    request.body = body;
    request.host = "127.0.0.1:8089";
    if (method != "GET") request.content_type = "application/json";
    return send(request);
  }
  /// Sends a request exactly as given.
  control::control_response send(const control::control_request& request) {
    const control::control_response r = router->handle(request);
    const std::string& method = request.method;
    const std::string& target = request.target;
    if (r.status >= 400) {
      const auto j = nlohmann::json::parse(r.body);
      EXPECT_TRUE(j.is_object() && j.contains("error") && j.contains("detail") &&
                  j["error"].is_string() && j["detail"].is_string())
          << method << ' ' << target << ": " << r.body;
      EXPECT_EQ(r.content_type, "application/json");
    }
    return r;
  }
  nlohmann::json json_of(const control::control_response& r) {
    return nlohmann::json::parse(r.body);
  }

  /// Messages on topics starting with `prefix` since index `from` of the sink.
  std::vector<nlohmann::json> on(const std::string& topic, std::size_t from = 0) {
    std::vector<nlohmann::json> out;
    for (std::size_t k = from; k < sink.messages().size(); ++k)
      if (sink.messages()[k].topic == topic)
        out.push_back(nlohmann::json::parse(sink.messages()[k].payload));
    return out;
  }

  boost::asio::io_context io;
  sim::memory_sink sink;
  std::unique_ptr<sim::engine> engine;
  std::unique_ptr<control::control_router> router;
};

}  // namespace factorysim::test
