// Memory per simulated machine (issue 2, "Performance"): loads a scenario with many replicated
// machines (default scenarios/load-test.yaml, 10,000 compressors), builds the engine, steps
// every machine once (so every per-machine buffer has its working size), and prints the
// resident set growth divided by the number of machines. Goal: under 2 KiB per machine.
//
//   memory_bench [SCENARIO]
//
// A plain main, not Google Benchmark: RSS is a property of the process, not of a loop.
// Messages go to /dev/null through the file sink, so no broker is needed.

#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/file_sink.hpp"

namespace {

/// A field of /proc/self/status in KiB (VmRSS, VmHWM).
long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string file =
      argc > 1 ? argv[1] : std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/load-test.yaml";
  try {
    malloc_trim(0);
    const long before_kib = status_kib("VmRSS");
    factorysim::scenarios::scenario s = factorysim::scenarios::load_scenario(file);
    const std::size_t machines = s.machines.size();
    // One step of every machine: backfill over the longest interval.
    std::chrono::milliseconds longest{0};
    for (const auto& m : s.machines) longest = std::max(longest, m.interval);
    s.mode = factorysim::scenarios::time_mode::backfill;
    if (!s.from) s.from = factorysim::machines::sim_time{std::chrono::hours(480'000)};
    s.to = *s.from + longest;

    boost::asio::io_context io;
    factorysim::sim::file_sink sink("/dev/null");
    factorysim::sim::engine_options options;
    options.shutdown_timeout = std::chrono::seconds(1);
    factorysim::sim::engine engine(io, std::move(s), sink, options);
    const long built_kib = status_kib("VmRSS");
    engine.start();
    io.run();
    // What the loader and the expansion of replicas freed is not the simulator's: give it back
    // to the system before measuring the steady state (a long run reaches the same state).
    const long raw_kib = status_kib("VmRSS");
    malloc_trim(0);
    const long after_kib = status_kib("VmRSS");
    const auto st = engine.status();
    const double per_machine = static_cast<double>(after_kib - before_kib) * 1024.0 /
                               static_cast<double>(machines);
    std::printf("memory_bench: %s\n", file.c_str());
    std::printf("  machines              %zu\n", machines);
    std::printf("  steps                 %llu\n", static_cast<unsigned long long>(st.steps));
    std::printf("  RSS before load       %ld KiB\n", before_kib);
    std::printf("  RSS engine built      %ld KiB\n", built_kib);
    std::printf("  RSS after one step    %ld KiB (before malloc_trim: %ld KiB)\n", after_kib,
                raw_kib);
    std::printf("  peak RSS (VmHWM)      %ld KiB\n", status_kib("VmHWM"));
    std::printf("  RSS per machine       %.0f bytes (goal < 2048)\n", per_machine);
    return per_machine < 2048 ? 0 : 1;
  } catch (const factorysim::scenarios::scenario_error& e) {
    for (const auto& p : e.problems()) std::cerr << p.to_string() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "memory_bench: " << e.what() << '\n';
    return 1;
  }
}
