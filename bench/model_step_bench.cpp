// Readings generated per second per core by machine::step, per machine type (goal: >= 5
// million/s), with and without the calendar and climate the engine evaluates per step, and
// the memory of one machine (goal: < 2 KiB per simulated machine).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <vector>

#include "machines/calendar.hpp"
#include "machines/climate.hpp"
#include "machines/fault_book.hpp"
#include "machines/grid.hpp"
#include "machines/machine.hpp"

namespace fm = factorysim::machines;

namespace {

constexpr fm::machine_type types[] = {fm::machine_type::compressor, fm::machine_type::hvac,
                                      fm::machine_type::motor, fm::machine_type::pump,
                                      fm::machine_type::injection_molding};

fm::machine_config config_of(fm::machine_type t) {
  static constexpr double rated_kw[] = {55, 150, 22, 45, 120};
  static constexpr int interval_ms[] = {1000, 10000, 10000, 30000, 30000};
  fm::machine_config c;
  c.id = "c0000000-0000-0000-0000-00000000000" + std::to_string(static_cast<int>(t) + 1);
  c.type = t;
  c.rated_power_kw = rated_kw[static_cast<int>(t)];
  c.interval = fm::milliseconds{interval_ms[static_cast<int>(t)]};
  c.params = fm::default_params(t, c.rated_power_kw);
  return c;
}

fm::calendar three_shifts() {
  fm::calendar c;
  c.shifts = {{"early", 360, 840, 1.0}, {"late", 840, 1320, 0.9}, {"night", 1320, 360, 0.6}};
  c.breaks = {{720, 30, 0.2}, {1080, 30, 0.2}};
  return c;
}

fm::local_time utc_local(fm::sim_time t) {
  const std::int64_t ms = t.time_since_epoch().count();
  const std::int64_t days = ms / 86'400'000;
  const fm::civil_date d = fm::civil_from_days(static_cast<int>(days));
  fm::local_time l;
  l.year = d.year;
  l.month = d.month;
  l.day = d.day;
  l.weekday = static_cast<int>((days + 4) % 7);
  l.day_of_year = static_cast<int>(days) - fm::days_from_civil(d.year, 1, 1);
  l.minute_of_day = static_cast<double>(ms - days * 86'400'000) / 60'000.0;
  return l;
}

/// A ring of step inputs spread over a working week (so every load level occurs),
/// small enough to stay in cache: the benchmark measures the model, not memory.
std::vector<fm::step_input> inputs_for(const fm::machine_config& c) {
  constexpr std::size_t n = 4096;
  const fm::calendar cal = three_shifts();
  const fm::climate clim{};
  std::vector<fm::step_input> out(n);
  const fm::sim_time t0{fm::milliseconds{1'721'001'600'000LL}};  // Monday 2024-07-15 00:00 UTC
  const auto spacing = std::chrono::duration_cast<fm::milliseconds>(std::chrono::hours(7 * 24)) / n;
  for (std::size_t i = 0; i < n; ++i) {
    auto& in = out[i];
    in.time = t0 + spacing * static_cast<std::int64_t>(i);
    in.dt_s = static_cast<double>(c.interval.count()) / 1000.0;
    in.local = utc_local(in.time);
    in.schedule = fm::schedule_at(cal, in.local);
    in.outdoor = fm::weather_at(clim, 7, in.time, in.local);
    in.grid = fm::grid_at(8, 9, in.time, in.local);
  }
  return out;
}

void bm_machine_step(benchmark::State& state) {
  const auto t = types[state.range(0)];
  const fm::machine_config c = config_of(t);
  fm::machine m(c, 42);
  const auto inputs = inputs_for(c);
  std::size_t i = 0;
  for (auto _ : state) {
    fm::reading r = m.step(inputs[i]);
    benchmark::DoNotOptimize(r);
    i = (i + 1) & (inputs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string(fm::to_string(t)));
}
BENCHMARK(bm_machine_step)->DenseRange(0, 4);

/// What the engine pays per reading: calendar, climate, fault book and the model.
void bm_step_with_calendar_climate_faults(benchmark::State& state) {
  const auto t = types[state.range(0)];
  const fm::machine_config c = config_of(t);
  fm::machine m(c, 42);
  fm::fault_book book(t, 43);
  const fm::calendar cal = three_shifts();
  const fm::climate clim{};
  std::vector<fm::fault_event> events;
  fm::sim_time now{fm::milliseconds{1'721'001'600'000LL}};
  const double dt_s = static_cast<double>(c.interval.count()) / 1000.0;
  for (auto _ : state) {
    now += c.interval;
    fm::step_input in;
    in.time = now;
    in.dt_s = dt_s;
    in.local = utc_local(now);
    in.schedule = fm::schedule_at(cal, in.local);
    in.outdoor = fm::weather_at(clim, 7, now, in.local);
    in.grid = fm::grid_at(8, 9, now, in.local);
    events.clear();
    book.advance(now, dt_s, events);
    in.faults = book.active();
    fm::reading r = m.step(in);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string(fm::to_string(t)));
}
BENCHMARK(bm_step_with_calendar_climate_faults)->DenseRange(0, 4);

/// A machine with an active sensor fault and a physics fault: the slow path.
void bm_machine_step_with_faults(benchmark::State& state) {
  const auto t = types[state.range(0)];
  const fm::machine_config c = config_of(t);
  fm::machine m(c, 42);
  auto inputs = inputs_for(c);
  std::array<fm::fault, 2> faults{};
  faults[0].id = 1;
  faults[0].type = fm::fault_type::noise_burst;
  faults[0].signal = "machine_temp_c";
  faults[1].id = 2;
  faults[1].type =
      t == fm::machine_type::pump ? fm::fault_type::cavitation : fm::fault_type::bearing_wear;
  for (auto& in : inputs) in.faults = faults;
  std::size_t i = 0;
  for (auto _ : state) {
    fm::reading r = m.step(inputs[i]);
    benchmark::DoNotOptimize(r);
    i = (i + 1) & (inputs.size() - 1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string(fm::to_string(t)));
}
BENCHMARK(bm_machine_step_with_faults)->DenseRange(0, 4);

}  // namespace

int main(int argc, char** argv) {
  // Memory per simulated machine: the object plus its id, name and topic strings (short
  // strings live inside the object; a 36-character uuid does not).
  std::printf(
      "sizeof(machine) = %zu bytes, sizeof(fault_book) = %zu bytes, "
      "sizeof(machine_config) = %zu bytes, sizeof(reading) = %zu bytes\n",
      sizeof(fm::machine), sizeof(fm::fault_book), sizeof(fm::machine_config), sizeof(fm::reading));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
