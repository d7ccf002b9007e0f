// Issue 9: what the ingestor's measurement costs per message, without sockets: the seq
// accounting of a plant's streams (machines x streams, in order, as the simulator sends
// them) and one histogram record; the ratio to the end-to-end budget per message is in
// bench/stamp_overhead.sh's report.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "ingest/latency_histogram.hpp"
#include "ingest/stream_accounting.hpp"

namespace {

using namespace factorysim::ingest;

void accounting_per_message(benchmark::State& state) {
  const auto machines = static_cast<std::size_t>(state.range(0));
  std::vector<uuid_bytes> ids(machines);
  for (std::size_t i = 0; i < machines; ++i) {
    ids[i].fill(0);
    for (int b = 0; b < 8; ++b)
      ids[i][static_cast<std::size_t>(8 + b)] =
          static_cast<std::uint8_t>((i * 2654435761u) >> (b * 4));
    ids[i][0] = static_cast<std::uint8_t>(i);
  }
  stream_accounting a;
  std::int64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    for (std::size_t i = 0; i < machines; ++i)
      for (const stream s : {stream::energy, stream::production, stream::environmental})
        a.observe(ids[i], s, seq);
  }
  benchmark::DoNotOptimize(a.totals().lost);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(machines) * 3);
}
BENCHMARK(accounting_per_message)->Arg(10)->Arg(2000);

void histogram_record(benchmark::State& state) {
  latency_histogram h;
  std::int64_t v = 1;
  for (auto _ : state) {
    v = (v * 1103515245 + 12345) & 0x3fffffff;  // spread over 0 .. 1 073 s
    h.record(v);
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(histogram_record);

}  // namespace

BENCHMARK_MAIN();
