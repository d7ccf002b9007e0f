// factorysim: parses the command line and dispatches; every command lives in its library.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"factorysim: industrial factory simulator, MQTT publisher and TimescaleDB ingestor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", factorysim::cli::version_line());
  int exit_code = 0;
  factorysim::cli::add_validate_command(app, exit_code);
  factorysim::cli::add_run_command(app, exit_code);
  factorysim::cli::add_replay_command(app, exit_code);
  factorysim::cli::add_ingest_command(app, exit_code);
  factorysim::cli::add_loadgen_command(app, exit_code);
  factorysim::cli::add_db_command(app, exit_code);
  factorysim::cli::add_bench_command(app, exit_code, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; everything else is bad usage.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
