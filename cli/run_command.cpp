// `factorysim run FILE`: validates the scenario like `validate`, applies the command line
// overrides, and runs the engine on one io_context until the end time, SIGINT or SIGTERM.
#include <cstdio>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/data_paths.hpp"
#include "cli/run_knobs.hpp"
#include "cli/version.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/text_formats.hpp"
#include "control/endpoint.hpp"
#include "sim/engine.hpp"
#include "sim/file_sink.hpp"
#include "sim/mqtt_sink.hpp"
#include "sim/run_summary.hpp"

namespace factorysim::cli {

namespace {

struct run_args {
  std::string file;
  std::optional<std::string> mqtt_host;
  std::optional<int> mqtt_port;
  std::optional<std::string> mqtt_client;   ///< native | libmosquitto
  std::optional<std::string> mqtt_version;  ///< 5 | 3.1.1
  std::optional<std::string> mqtt_credentials_file;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> mode;
  std::optional<double> speed;
  std::optional<std::string> from;
  std::optional<std::string> to;
  std::optional<std::string> output;
  bool no_progress = false;
  bool stamp_send_time = false;  ///< in-band timing (docs/topics.md#in-band-timing)
  double shutdown_timeout_s = 10;
  std::optional<std::string> control;  ///< --control ADDR:PORT | off (docs/control-api.md)
  std::string control_token;
  run_knobs knobs;  ///< load knobs, --format, --summary-json (cli/run_knobs.hpp)
  std::optional<int> runs;  ///< issue 10: N seeded histories, one output file each
};

int bad_usage(const std::string& message) {
  std::cerr << "factorysim run: " << message << '\n';
  return 2;
}

// ---- issue 13: where the start and the end of a run come from, so that an error names the
// real source (an option, the scenario file, or "now").
struct time_range_check {
  std::optional<machines::sim_time> from, to;  ///< as the engine will use them
  std::string from_source, to_source;
};

time_range_check effective_range(const scenarios::scenario& s, const run_args& a,
                                 machines::sim_time now, bool file_from, bool file_to) {
  time_range_check r;
  const std::string in_file = " in " + a.file;
  r.to = s.to;
  r.to_source = a.to ? "--to" : file_to ? "time.to" + in_file : "";
  switch (s.mode) {
    case scenarios::time_mode::realtime:
      r.from = now;
      r.from_source = "now (realtime runs start at the wall clock)";
      break;
    case scenarios::time_mode::accelerated:
      r.from = s.from ? *s.from : std::chrono::floor<std::chrono::seconds>(now);
      r.from_source = a.from ? "--from" : file_from ? "time.from" + in_file : "now";
      break;
    case scenarios::time_mode::backfill:
      r.from = s.from;
      r.from_source = a.from ? "--from" : "time.from" + in_file;
      if (!r.to) {
        r.to = std::chrono::floor<std::chrono::seconds>(now);
        r.to_source = "now (backfill runs to now when neither --to nor time.to gives an end)";
      }
      break;
  }
  return r;
}
// ---- end issue 13

int run(const run_args& a_in) {
  run_args a = a_in;
  a.file = resolve_scenario(a.file);
  if (a.knobs.replicas && (*a.knobs.replicas < 1 || *a.knobs.replicas > 100000))
    return bad_usage("--replicas must be 1..100000, got " + std::to_string(*a.knobs.replicas));
  std::string format_error;
  const auto format = export_format_of(a.knobs, format_error);
  if (!format) return bad_usage(format_error);
  if (*format != sim::export_format::tsv && !a.output)
    return bad_usage("--format " + a.knobs.format + " needs --output FILE");
  scenarios::scenario s;
  try {
    s = scenarios::load_scenario(a.file, load_options_of(a.knobs));
  } catch (const scenarios::scenario_error& e) {
    for (const auto& p : e.problems()) std::cerr << p.to_string() << '\n';
    return 2;
  } catch (const std::exception& e) {
    return bad_usage(a.file + ": " + e.what());
  }

  if (a.mqtt_host) s.mqtt.host = *a.mqtt_host;
  if (a.mqtt_port) {
    if (*a.mqtt_port < 1 || *a.mqtt_port > 65535) return bad_usage("--mqtt-port must be 1..65535");
    s.mqtt.port = *a.mqtt_port;
  }
  if (a.mqtt_client) {
    if (*a.mqtt_client == "native") {
      s.mqtt.client = scenarios::mqtt_client_kind::native;
    } else if (*a.mqtt_client == "libmosquitto") {
      s.mqtt.client = scenarios::mqtt_client_kind::libmosquitto;
    } else {
      return bad_usage("--mqtt-client must be native or libmosquitto, got " + *a.mqtt_client);
    }
  }
  if (a.mqtt_version) {
    if (*a.mqtt_version == "5") {
      s.mqtt.protocol_version = 5;
    } else if (*a.mqtt_version == "3.1.1") {
      s.mqtt.protocol_version = 4;
    } else {
      return bad_usage("--mqtt-version must be 5 or 3.1.1, got " + *a.mqtt_version);
    }
  }
  if (a.mqtt_credentials_file) s.mqtt.credentials_file = *a.mqtt_credentials_file;
  if (a.seed) s.seed = *a.seed;
  if (a.mode) {
    const auto m = scenarios::parse_time_mode(*a.mode);
    if (!m) return bad_usage("--mode must be realtime, accelerated or backfill, got " + *a.mode);
    s.mode = *m;
  }
  if (a.speed) {
    if (!(*a.speed > 0) || !(*a.speed <= sim::max_speed))
      return bad_usage("--speed must be within (0, 1000000]");
    // Issue 13: a speed in another mode was silently ignored.
    if (s.mode != scenarios::time_mode::accelerated)
      return bad_usage("--speed applies to accelerated mode only, but the mode is " +
                       std::string(scenarios::to_string(s.mode)) +
                       (a.mode ? " (--mode)" : " (time.mode in " + a.file + ")") +
                       "; add --mode accelerated");
    s.speed = *a.speed;
  }
  const bool file_from = s.from.has_value(), file_to = s.to.has_value();
  if (a.from) {
    const auto t = scenarios::parse_rfc3339(*a.from);
    if (!t) return bad_usage("--from: not an RFC 3339 time: " + *a.from);
    s.from = *t;
  }
  if (a.to) {
    const auto t = scenarios::parse_rfc3339(*a.to);
    if (!t) return bad_usage("--to: not an RFC 3339 time: " + *a.to);
    s.to = *t;
  }
  if (const std::string knob_error = apply_run_knobs(s, a.knobs); !knob_error.empty())
    return bad_usage(knob_error);
  if (a.stamp_send_time) s.mqtt.stamp_send_time = true;
  if (s.mqtt.stamp_send_time && a.output)
    return bad_usage("--stamp-send-time stamps MQTT messages; it does nothing with --output");
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  const time_range_check range = effective_range(s, a, now, file_from, file_to);
  if (range.from && range.to && *range.to <= *range.from)
    return bad_usage("the end time (" + range.to_source + ": " +
                     scenarios::format_rfc3339(*range.to) + ") must be after the start (" +
                     range.from_source + ": " + scenarios::format_rfc3339(*range.from) + ")");
  const sim::message_rate expected = sim::estimate_message_rate(s, range.from, range.to);
  // Bounded (and NaN rejected) so the `* 1000` cast to long below cannot overflow (UB).
  if (!(a.shutdown_timeout_s >= 0 && a.shutdown_timeout_s <= 86'400))
    return bad_usage("--shutdown-timeout must be between 0 and 86400 seconds");

  boost::asio::io_context io(1);
  std::unique_ptr<sim::message_sink> sink;
  try {
    if (a.output) {
      sink = std::make_unique<sim::file_sink>(*a.output, *format, export_machines_of(s));
    } else {
      std::vector<sim::sink_machine> machines;
      machines.reserve(s.machines.size());
      for (const auto& m : s.machines) machines.push_back({m.id, m.topic});
      sink = std::make_unique<sim::mqtt_sink>(io, s.mqtt, machines, now);
    }
  } catch (const std::invalid_argument& e) {
    return bad_usage(e.what());  // options that cannot go together (--stamp-send-time)
  } catch (const std::exception& e) {
    std::cerr << "factorysim run: " << e.what() << '\n';
    return 1;
  }

  const std::string name = s.name;
  const std::uint64_t seed = s.seed;
  const std::size_t machine_count = s.machines.size();
  const int qos = s.mqtt.qos;
  sim::engine_options options;
  options.progress = !a.no_progress && s.mode == scenarios::time_mode::backfill &&
                     ::isatty(STDERR_FILENO) == 1;
  options.shutdown_timeout =
      std::chrono::milliseconds(static_cast<long>(a.shutdown_timeout_s * 1000));
  std::unique_ptr<sim::engine> engine;
  try {
    engine = std::make_unique<sim::engine>(io, std::move(s), *sink, std::move(options));
  } catch (const std::invalid_argument& e) {
    return bad_usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "factorysim run: " << e.what() << '\n';
    return 1;
  }

  const auto& sc = engine->scenario();
  std::cerr << "factorysim: scenario " << name << ", " << machine_count << " machines, root seed "
            << seed << ", mode " << scenarios::to_string(sc.mode);
  if (sc.mode == scenarios::time_mode::accelerated) std::cerr << " x" << sc.speed;
  if (sc.mode != scenarios::time_mode::realtime)
    std::cerr << ", from " << scenarios::format_rfc3339(*sc.from);
  if (sc.to) std::cerr << " to " << scenarios::format_rfc3339(*sc.to);
  if (a.output)
    std::cerr << ", output " << *a.output;
  else
    std::cerr << ", broker " << sc.mqtt.host << ':' << sc.mqtt.port << " (MQTT "
              << (sc.mqtt.protocol_version == 4 ? "3.1.1" : "5") << ", "
              << (sc.mqtt.client == scenarios::mqtt_client_kind::libmosquitto ? "libmosquitto"
                                                                              : "native client")
              << ')';
  std::cerr << std::endl;
  std::cerr << "factorysim: " << sim::expected_rate_line(expected) << std::endl;

  std::unique_ptr<control::control_endpoint> control;
  try {
    control = control::attach_control(
        io, *engine,
        {a.control.value_or(std::string(control::default_control_listen)), a.control.has_value(),
         a.control_token},
        std::cerr);
  } catch (const control::control_start_error& e) {
    std::cerr << "factorysim run: " << e.what() << '\n';
    return e.exit_code();
  }

  int exit_code = 0;
  bool finished = false;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;  // operation_aborted: the run ended by itself
        if (engine->status().state == sim::run_state::stopping) {
          // A second Ctrl-C: the user does not want to wait for the flush.
          std::cerr << "factorysim: interrupted again, exiting without flushing\n";
          exit_code = 1;
          io.stop();
          return;
        }
        std::cerr << "factorysim: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
                  << ", publishing final status and flushing\n";
        engine->request_stop();
        if (!finished) signals.async_wait(on_signal);  // a second signal skips the flush
      };
  signals.async_wait(on_signal);
  engine->on_finished([&](bool ok) {
    finished = true;
    if (!ok) exit_code = 1;
    if (control) control->stop();  // the loop then runs out of work and io.run() returns
    boost::system::error_code ignored;
    signals.cancel(ignored);
  });

  const auto wall_start = std::chrono::steady_clock::now();
  engine->start();
  try {
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "factorysim run: " << e.what() << '\n';
    return 1;
  }
  if (!finished && exit_code == 0) exit_code = 1;
  const sim::engine_status st = engine->status();
  std::uint64_t total = 0;
  for (auto n : st.published) total += n;
  std::cerr << "factorysim: published " << total << " messages (energy "
            << st.published[0] << ", production " << st.published[1] << ", environmental "
            << st.published[2] << ", status " << st.published[3] << ", events "
            << st.published[4] << ", truth " << st.published[5] << "), ";
  if (!a.output)
    std::cerr << st.acknowledged << " acknowledged by the broker, " << st.rejected
              << " refused by the broker, ";
  std::cerr << st.overruns << " overruns, "
            << st.publish_errors << " publish errors, " << st.reconnects << " reconnects\n";
  if (!st.fatal.empty()) std::cerr << "factorysim run: " << st.fatal << '\n';

  // ---- issue 13: achieved rate and duration, --summary-json
  sim::run_summary summary;
  summary.version = version() + " (" + commit() + ")";
  summary.scenario = name;
  summary.file = a.file;
  summary.seed = seed;
  summary.mode = std::string(scenarios::to_string(sc.mode));
  summary.speed = sc.speed;
  summary.from = scenarios::format_rfc3339(st.sim_start);
  if (st.sim_end) summary.to = scenarios::format_rfc3339(*st.sim_end);
  summary.machines = machine_count;
  if (a.output) {
    summary.target = "file:" + *a.output;
    summary.format = std::string(sim::to_string(*format));
  } else {
    summary.target = "mqtt://" + sc.mqtt.host + ":" + std::to_string(sc.mqtt.port);
    summary.qos = qos;
  }
  summary.sessions = sink->counters().sessions;
  summary.expected = expected;
  for (std::size_t k = 0; k < sim::stream_count; ++k)
    summary.published.emplace_back(std::string(sim::to_string(static_cast<sim::stream>(k))),
                                   st.published[k]);
  summary.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  summary.simulated_s = static_cast<double>((st.sim_time - st.sim_start).count()) / 1000.0;
  summary.overruns = st.overruns;
  summary.publish_errors = st.publish_errors;
  summary.reconnects = st.reconnects;
  summary.exit_code = exit_code;
  std::cerr << "factorysim: " << sim::achieved_rate_line(summary) << '\n';
  if (a.knobs.summary_json) {
    std::ofstream out(*a.knobs.summary_json, std::ios::binary | std::ios::trunc);
    out << sim::to_json(summary);
    out.close();
    if (!out) {
      std::cerr << "factorysim run: cannot write --summary-json " << *a.knobs.summary_json
                << '\n';
      return 1;
    }
  }
  // ---- end issue 13
  return exit_code;
}

// ---- issue 10: `--runs N`: N independent histories of one scenario (seeds seed .. seed+N-1),
// one after the other, each into its own file: out.tsv -> out.run-0001.tsv, ...
std::string run_output(const std::string& output, int k) {
  char tag[24];
  std::snprintf(tag, sizeof tag, ".run-%04d", k);
  const auto slash = output.find_last_of('/');
  const auto dot = output.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return output + tag;
  return output.substr(0, dot) + tag + output.substr(dot);
}

int run_many(const run_args& a) {
  if (!a.runs) return run(a);
  if (*a.runs < 1 || *a.runs > 100000)
    return bad_usage("--runs must be 1..100000, got " + std::to_string(*a.runs));
  if (!a.output || *a.output == "-")
    return bad_usage("--runs needs --output FILE (each run writes FILE.run-NNNN)");
  std::uint64_t base = 0;
  if (a.seed) {
    base = *a.seed;
  } else {
    try {
      base = scenarios::load_scenario(resolve_scenario(a.file), load_options_of(a.knobs)).seed;
    } catch (const std::exception&) {
      return run(a);  // reports the scenario's problems as a single run does
    }
  }
  for (int k = 1; k <= *a.runs; ++k) {
    run_args r = a;
    r.runs.reset();
    r.seed = base + static_cast<std::uint64_t>(k - 1);
    r.output = run_output(*a.output, k);
    if (!a.control) r.control = "off";  // one port, many runs: no endpoint unless asked
    std::cerr << "factorysim: run " << k << " of " << *a.runs << ", seed " << *r.seed << ", output "
              << *r.output << '\n';
    if (const int rc = run(r); rc != 0) return rc;
  }
  return 0;
}
// ---- end issue 10

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<run_args>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a scenario: publish every machine's readings to MQTT (or --output FILE)");
  cmd->add_option("file", args->file, "Scenario YAML file")->required();
  cmd->add_option("--mqtt-host", args->mqtt_host, "Broker host (overrides mqtt.host)");
  cmd->add_option("--mqtt-port", args->mqtt_port, "Broker port (overrides mqtt.port)");
  cmd->add_option("--mqtt-client", args->mqtt_client,
                  "native | libmosquitto: the MQTT client library (overrides mqtt.client)");
  cmd->add_option("--mqtt-version", args->mqtt_version,
                  "5 | 3.1.1 (overrides mqtt.version; 5 reports messages the broker refuses)");
  cmd->add_option("--mqtt-credentials-file", args->mqtt_credentials_file,
                  "file with the MQTT password, or user name and password on two lines "
                  "(overrides mqtt.credentials_file; FACTORYSIM_MQTT_USERNAME/_PASSWORD also "
                  "work)");
  cmd->add_option("--seed", args->seed, "Root seed (overrides seed)");
  cmd->add_option("--mode", args->mode, "realtime | accelerated | backfill (overrides time.mode)");
  cmd->add_option("--speed", args->speed,
                  "Accelerated mode only (an error in another mode): simulated seconds per wall "
                  "second");
  cmd->add_option("--from", args->from, "Start, RFC 3339 (accelerated, backfill)");
  cmd->add_option("--to", args->to,
                  "End, RFC 3339 (optional; backfill without an end runs to now)");
  cmd->add_option("--output", args->output,
                  "Write the messages to FILE ('-' = stdout) instead of MQTT, in --format "
                  "(default: `topic<TAB>payload` lines)");
  cmd->add_flag("--no-progress", args->no_progress, "No backfill progress line on stderr");
  cmd->add_flag("--stamp-send-time", args->stamp_send_time,
                "Add the MQTT 5 user properties fs-sched-us and fs-sent-us (scheduled and actual "
                "send time, us since the epoch) to every PUBLISH (sets mqtt.stamp_send_time)");
  cmd->add_option("--shutdown-timeout", args->shutdown_timeout_s,
                  "Seconds the final flush may take (default 10)");
  cmd->add_option("--control", args->control,
                  "Control HTTP endpoint ADDR:PORT, or off (default 127.0.0.1:8089)");
  cmd->add_option("--control-token", args->control_token,
                  "Bearer token for the endpoint's changing requests")
      ->envname("FACTORYSIM_CONTROL_TOKEN");
  add_run_knob_options(cmd, args->knobs);  // issue 13: load knobs, --format, --summary-json
  cmd->add_option("--runs", args->runs,
                  "N independent histories (seeds seed..seed+N-1), one after the other, each "
                  "into FILE.run-NNNN (needs --output FILE)");
  cmd->callback([args, &exit_code] { exit_code = run_many(*args); });
}

}  // namespace factorysim::cli
