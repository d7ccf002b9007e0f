// libFuzzer target: the control router (control/router.hpp) with a real engine on a memory
// sink. The input is a request as lines: method, target, Host, Content-Type, Origin,
// Authorization, then the body. Every answer must be a status 100..599 and, when JSON, parse
// as JSON (a 500 is a bug too: the router maps every bad input to a 4xx). Issue 12.
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "control/router.hpp"
#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/memory_sink.hpp"

namespace {

using namespace factorysim;

constexpr const char* scenario_yaml = R"(
name: fuzz
seed: 3
time:
  mode: accelerated
  from: 2025-03-03T14:00:00Z
factories:
  - id: 55555555-5555-5555-5555-555555555555
    name: Shop A
    timezone: UTC
machines:
  - id: c3000000-0000-0000-0000-000000000001
    name: Comp-1
    type: compressor
    rated_power_kw: 30
    interval: 1s
    topic: factory/fuzz/compressor-1
  - id: c3000000-0000-0000-0000-000000000002
    name: Pump-1
    type: pump
    rated_power_kw: 15
    interval: 10s
    topic: factory/fuzz/pump-1
)";

struct world {
  boost::asio::io_context io;
  sim::memory_sink sink;
  std::unique_ptr<sim::engine> engine;
  std::unique_ptr<control::control_router> router;
  machines::sim_time now = machines::sim_time{std::chrono::milliseconds{1'741'010'400'000}};

  world() {
    sim::engine_options o;
    o.utc_now = [this] { return now; };
    o.wall_now = [] { return sim::pacer::wall_time{} + std::chrono::seconds(1000); };
    o.report = [](std::string_view) {};
    engine = std::make_unique<sim::engine>(
        io, scenarios::parse_scenario(scenario_yaml, "fuzz.yaml"), sink, o);
    control::control_router_options ro;
    ro.shutdown = [] {};  // keep the engine alive for the next input
    router = std::make_unique<control::control_router>(*engine, ro);
    engine->start();
  }
};

std::string_view next_line(std::string_view& in) {
  const auto nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static world w;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  control::control_request r;
  r.method = next_line(in);
  r.target = next_line(in);
  r.host = next_line(in);
  r.content_type = next_line(in);
  r.origin = next_line(in);
  r.authorization = next_line(in);
  r.body = in;
  // Step a little so that readings, faults and totals change between inputs.
  w.now += std::chrono::seconds(1);
  w.engine->advance_to(w.now);
  (void)w.sink.take();
  const control::control_response out = w.router->handle(r);
  if (out.status < 100 || out.status > 599 || out.status == 500) __builtin_trap();
  if (out.content_type == "application/json" && !nlohmann::json::accept(out.body)) __builtin_trap();
  return 0;
}
