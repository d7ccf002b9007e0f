#pragma once
/// Each subcommand of `factorysim` registers its options here and, when chosen, calls into its
/// library. A command sets exit_code: 0 ok, 1 runtime failure, 2 bad usage or bad input.

#include <CLI/CLI.hpp>

namespace factorysim::cli {

void add_validate_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
/// `factorysim ingest`: MQTT -> PostgreSQL (ingest/, docs/ingest.md).
void add_ingest_command(CLI::App& app, int& exit_code);
/// `factorysim loadgen`: in-process rows -> PostgreSQL through the ingest writer.
void add_loadgen_command(CLI::App& app, int& exit_code);
/// `factorysim replay FILE`: a capture of `run --output` back onto MQTT (docs/replay.md).
void add_replay_command(CLI::App& app, int& exit_code);
/// `factorysim db init|migrate|maintain`: schema migrations, plant upsert, rollup/partition upkeep.
void add_db_command(CLI::App& app, int& exit_code);
/// `factorysim bench [SCENARIO]` and `bench compare OLD NEW` (benchrun/, docs/bench.md); argv
/// goes into the report's manifest.
void add_bench_command(CLI::App& app, int& exit_code, int argc, char** argv);

}  // namespace factorysim::cli
