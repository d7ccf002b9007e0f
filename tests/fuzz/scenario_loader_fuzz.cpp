// libFuzzer target: the scenario loader (scenarios/scenario.hpp) on any text. A bad file must
// end in scenario_error (every problem with a position), never in a crash, a sanitizer report
// or another exception. The machine limit is lowered so that the fuzzer explores the checks,
// not the expansion of large replica counts. Issue 12.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scenarios/scenario.hpp"

namespace scenarios = factorysim::scenarios;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  scenarios::load_options o;
  o.max_machines = 2000;
  try {
    const scenarios::scenario s = scenarios::parse_scenario(text, "fuzz.yaml", o);
    if (s.machines.size() > o.max_machines) __builtin_trap();
  } catch (const scenarios::scenario_error& e) {
    if (e.problems().empty()) __builtin_trap();  // an error must say what is wrong
    for (const auto& p : e.problems()) (void)p.to_string();
  }
  return 0;
}
