// Scenario loading and plant set-up cost: the 10,000-compressor load test must load in well
// under a second, and the local clock must cost next to nothing per step.
#include <benchmark/benchmark.h>

#include <vector>

#include "scenarios/local_clock.hpp"
#include "scenarios/plant.hpp"
#include "scenarios/scenario.hpp"

namespace fs = factorysim::scenarios;

static const std::string load_test = std::string{FACTORYSIM_SOURCE_DIR} + "/scenarios/load-test.yaml";

static void load_ten_thousand_replicas(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fs::load_scenario(load_test));
}
BENCHMARK(load_ten_thousand_replicas)->Unit(benchmark::kMillisecond);

static void load_demo_plant(benchmark::State& state) {
  const std::string demo = std::string{FACTORYSIM_SOURCE_DIR} + "/scenarios/demo-plant.yaml";
  for (auto _ : state) benchmark::DoNotOptimize(fs::load_scenario(demo));
}
BENCHMARK(load_demo_plant)->Unit(benchmark::kMicrosecond);

static void build_plant_of_ten_thousand(benchmark::State& state) {
  const fs::scenario s = fs::load_scenario(load_test);
  for (auto _ : state) {
    fs::plant p(s);
    benchmark::DoNotOptimize(p.size());
  }
}
BENCHMARK(build_plant_of_ten_thousand)->Unit(benchmark::kMillisecond);

static void local_clock_step(benchmark::State& state) {
  fs::local_clock clock("Europe/Berlin");
  auto t = factorysim::machines::sim_time{} + std::chrono::milliseconds{1'717'228'800'000};
  for (auto _ : state) {
    benchmark::DoNotOptimize(clock.at(t));
    t += std::chrono::seconds{1};
  }
}
BENCHMARK(local_clock_step);

static void plant_step_load_test(benchmark::State& state) {
  const fs::scenario s = fs::load_scenario(load_test);
  fs::plant p(s);
  std::vector<factorysim::machines::fault_event> events;
  auto t = *s.from;
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == p.size()) {
      i = 0;
      t += std::chrono::seconds{1};
    }
    benchmark::DoNotOptimize(p.step(i++, t, events));
    events.clear();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(plant_step_load_test);

BENCHMARK_MAIN();
