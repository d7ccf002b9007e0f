#pragma once
/// One `factorysim bench` run, start to end (docs/bench.md): services, `db init`, ingestors
/// (or the broker-only reference subscriber), the simulator paced open-loop by `PUT /speed`,
/// the per-second timeline, the drain, the SQL check, the report. The report is a JSON value
/// (docs/bench.md has its schema); the console line, the HTML page and `bench compare` are
/// views of it.

#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "benchrun/options.hpp"

namespace factorysim::benchrun {

/// Bad usage or bad input (exit 2), with a message a person can act on.
struct bench_usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Set by the command's SIGINT handler: 1 = end the load and report (incomplete), 2 = skip
/// the drain and the SQL check as well.
extern std::atomic<int> bench_interrupts;

/// Runs the bench and returns the report; writes --json/--html when given. Throws
/// bench_usage_error (exit 2) or std::runtime_error (exit 1, e.g. unreachable broker/DB).
nlohmann::json run_bench(const bench_options& options);

/// The exit code a finished report asks for: 1 when the SQL check disagrees with the
/// ingestor's counters or a child failed, else 0.
int exit_code_of(const nlohmann::json& report);

}  // namespace factorysim::benchrun
