#pragma once
/// The load knobs of `factorysim run` (docs/cli.md, docs/sizing.md): replicas, interval, QoS,
/// sessions and window on the command line, with the scenario file as the default; the
/// output format; the expected rate at start and the summary (console line, --summary-json)
/// at the end. Kept apart from cli/run_command.cpp, which only calls these.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "scenarios/scenario.hpp"
#include "sim/export_format.hpp"

namespace factorysim::cli {

struct run_knobs {
  std::optional<std::size_t> replicas;
  std::size_t max_machines = scenarios::default_max_machines;
  std::optional<std::string> interval;
  std::optional<int> qos;
  std::optional<int> sessions;
  std::optional<int> window;
  std::string format = "tsv";
  std::optional<std::string> summary_json;
};

/// Registers --replicas --max-machines --interval --qos --sessions --window --format
/// --summary-json.
void add_run_knob_options(CLI::App* cmd, run_knobs& k);

/// What load_scenario must know before it expands replicas.
scenarios::load_options load_options_of(const run_knobs& k);

/// Applies --interval --qos --sessions --window to the loaded scenario; returns a message for
/// a bad value (bad usage, exit 2) or an empty string.
std::string apply_run_knobs(scenarios::scenario& s, const run_knobs& k);

/// The --format value; nullopt (with a message in `error`) when it is unknown.
std::optional<sim::export_format> export_format_of(const run_knobs& k, std::string& error);

/// The machines of `s` as the exports tag them.
std::vector<sim::export_machine> export_machines_of(const scenarios::scenario& s);

}  // namespace factorysim::cli
