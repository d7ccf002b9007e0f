// Decoder speed on the ingest hot path: our scanner-based decode_message against a DOM parse
// with nlohmann::json of the same payload (what the decoder would cost with the easy choice).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "ingest/wire_decoder.hpp"

namespace {

const std::string topic = "factory/demo/compressor-1/energy";
const std::string payload =
    R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
    R"("seq":1,"power_kw":41.512,"energy_kwh":0.011531,"energy_total_kwh":1234.567,)"
    R"("voltage_v":399.8,"current_a":70.12,"power_factor":0.855,"frequency_hz":50.012})";

void decode_message_energy(benchmark::State& state) {
  factorysim::ingest::decode_options o;
  o.now_us = 1717200000LL * 1000000;
  for (auto _ : state) {
    auto r = factorysim::ingest::decode_message(topic, payload, o);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(decode_message_energy);

void nlohmann_parse_energy(benchmark::State& state) {
  for (auto _ : state) {
    auto j = nlohmann::json::parse(payload);
    double p = j.at("power_kw").get<double>();
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(nlohmann_parse_energy);

}  // namespace

BENCHMARK_MAIN();
