// `factorysim bench [SCENARIO]` and `factorysim bench compare OLD NEW`: options map onto
// benchrun::bench_options; the run itself lives in benchrun/ (docs/bench.md).
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "benchrun/compare.hpp"
#include "benchrun/html_report.hpp"
#include "benchrun/runner.hpp"
#include "cli/commands.hpp"
#include "cli/data_paths.hpp"
#include "cli/version.hpp"

namespace factorysim::cli {

namespace {

extern "C" void on_bench_signal(int) {
  benchrun::bench_interrupts.fetch_add(1);
}

struct bench_args {
  benchrun::bench_options o;
  std::string scenario = "bench.yaml";  // scenarios/bench.yaml (a bare "bench" would find bench/)
  bool no_progress = false;
  std::string old_file, new_file;
  std::string tolerance = "5%";
  std::optional<std::string> rate;
  bool no_stamp = false;
};

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "bench: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code, int argc, char** argv) {
  auto args = std::make_shared<bench_args>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark the pipeline: publish-to-commit latency, exact loss accounting, max rate");
  auto& o = args->o;
  cmd->add_option("scenario", args->scenario,
                  "scenario with an optional bench: section (default: the shipped bench profile)");
  cmd->add_option("--mqtt-host", o.mqtt_host, "your broker (default: a private mosquitto)");
  cmd->add_option("--mqtt-port", o.mqtt_port, "its port")->check(CLI::Range(1, 65535));
  cmd->add_option("--db", o.db, "your database, libpq conninfo (default: a private PostgreSQL 15)");
  cmd->add_option("--ingestors", o.ingestors,
                  "ingestor processes; > 1: an MQTT v5 shared subscription")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--no-ingest", o.no_ingest,
                "broker only: a mosquitto_sub -q 1 reference subscriber instead of ingest + DB");
  cmd->add_flag(
      "--with-reference", o.with_reference,
      "first the same load broker-only (--no-ingest), then end to end: both and their ratio");
  cmd->add_option("--machines", o.machines, "replicas of every machine entry")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--qos", o.qos, "QoS of every publish")->check(CLI::Range(0, 2));
  cmd->add_option("--rate", args->rate,
                  "target messages per second (all streams), or max (closed loop: as fast as the "
                  "simulator's window lets messages through)");
  cmd->add_option("--duration", o.duration_s,
                  "seconds of load after the warm-up (with --rate; default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o.warmup_s, "seconds of load before the measured window (default 5)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--find-max", o.find_max,
                "step the rate up (from --rate, default 5000) until p99 passes --slo-ms or the "
                "backlog grows");
  cmd->add_option("--slo-ms", o.slo_ms, "find-max: p99 publish-to-commit limit")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--step-s", o.step_s, "find-max: seconds per step (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--step-factor", o.step_factor, "find-max: rate factor per step (default 1.25)")
      ->check(CLI::Range(1.01, 10.0));
  cmd->add_option("--sessions", o.sessions, "simulator MQTT sessions (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--window", o.window, "simulator in-flight window per session (default 10000)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--seed", o.seed, "root seed (default: the scenario's)");
  cmd->add_option("--json", o.json_file, "write the report as JSON (docs/bench.md)");
  cmd->add_option("--html", o.html_file, "write the report as one self-contained HTML page");
  cmd->add_option("--drain-timeout", o.drain_timeout_s,
                  "seconds to wait for the last rows (default 120)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-stamp-send-time", args->no_stamp,
                "run without in-band timing (no latency; measures what the timing costs)");
  cmd->add_flag("--keep", o.keep_work_dir, "keep the work folder (logs, summaries)");
  cmd->add_flag("--no-progress", args->no_progress, "no live progress line");

  auto* compare =
      cmd->add_subcommand("compare", "Compare two bench reports; exit 1 on a regression");
  compare->add_option("old", args->old_file, "baseline report (JSON)")->required();
  compare->add_option("new", args->new_file, "new report (JSON)")->required();
  compare->add_option("--tolerance", args->tolerance, "allowed change, e.g. 5% (default)");

  compare->callback([args, &exit_code] {
    try {
      const auto tol = benchrun::parse_tolerance(args->tolerance);
      const auto result = benchrun::compare_report_files(args->old_file, args->new_file, tol);
      std::cout << result.table;
      exit_code = result.regression ? 1 : 0;
    } catch (const benchrun::bench_usage_error& e) {
      std::cerr << "bench compare: " << e.what() << "\n";
      exit_code = 2;
    }
  });

  cmd->callback([args, cmd, compare, &exit_code, argc, argv] {
    if (compare->parsed()) return;
    auto opts = args->o;
    opts.progress = !args->no_progress;
    opts.stamp_send_time = !args->no_stamp;
    if (args->rate) {
      if (*args->rate == "max") {
        opts.rate_max = true;
      } else {
        char* end = nullptr;
        const double r = std::strtod(args->rate->c_str(), &end);
        if (end == args->rate->c_str() || *end != '\0' || !(r > 0) || !std::isfinite(r)) {
          std::cerr << "bench: --rate must be a positive number of messages per second or max, got "
                    << *args->rate << "\n";
          exit_code = 2;
          return;
        }
        opts.rate_per_s = r;
      }
    }
    opts.factorysim_version = version_line();
    for (int i = 0; i < argc; ++i) opts.command_line += (i ? " " : "") + std::string(argv[i]);
    opts.scenario = resolve_scenario(args->scenario);
    (void)cmd;
    std::signal(SIGINT, on_bench_signal);
    std::signal(SIGTERM, on_bench_signal);
    try {
      const nlohmann::json report = benchrun::run_bench(opts);
      if (opts.json_file && !write_text(*opts.json_file, report.dump(2) + "\n")) {
        exit_code = 1;
        return;
      }
      if (opts.html_file && !write_text(*opts.html_file, benchrun::render_html(report))) {
        exit_code = 1;
        return;
      }
      std::cerr << benchrun::summary_text(report);
      exit_code = benchrun::exit_code_of(report);
    } catch (const benchrun::bench_usage_error& e) {
      std::cerr << "bench: " << e.what() << "\n";
      exit_code = 2;
    } catch (const std::exception& e) {
      std::cerr << "bench: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace factorysim::cli
