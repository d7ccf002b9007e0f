// `factorysim validate FILE...`: loads each scenario as `run` would and reports every problem.
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "cli/data_paths.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::cli {
namespace {

std::string count(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "validate", "Check scenario files; print every problem as FILE:LINE:COL: key.path: message");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Scenario YAML files")->required();
  auto options = std::make_shared<scenarios::load_options>();
  cmd->add_option("--max-machines", options->max_machines,
                  "Refuse a scenario of more machines than this, replicas included (default "
                  "100000; docs/scenarios.md#replication)")
      ->check(CLI::PositiveNumber);
  cmd->callback([files, options, &exit_code] {
    for (const auto& name : *files) {
      const std::string file = resolve_scenario(name);  // a bare name: a shipped scenario
      try {
        const scenarios::scenario s = scenarios::load_scenario(file, *options);
        std::cout << file << ": ok: " << count(s.factories.size(), "factory", "factories") << ", "
                  << count(s.machines.size(), "machine", "machines") << ", "
                  << count(s.faults.size(), "scheduled fault", "scheduled faults") << ", "
                  << count(s.random_faults.size(), "random fault rate", "random fault rates")
                  << "; mode " << scenarios::to_string(s.mode) << ", seed " << s.seed << '\n';
      } catch (const scenarios::scenario_error& e) {
        for (const auto& p : e.problems()) std::cerr << p.to_string() << '\n';
        std::cerr << file << ": " << count(e.problems().size(), "problem", "problems") << '\n';
        exit_code = 2;
      } catch (const std::system_error& e) {
        std::cerr << "factorysim validate: " << e.what() << '\n';
        exit_code = 2;
      }
    }
  });
}

}  // namespace factorysim::cli
