// `factorysim replay FILE`: publishes a capture of `run --output` (tsv or jsonl) to MQTT at its
// own pace, faster, or as fast as the broker takes it, times kept or rebased (docs/replay.md).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "cli/data_paths.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/text_formats.hpp"
#include "sim/capture.hpp"
#include "sim/mqtt_sink.hpp"
#include "sim/replayer.hpp"

namespace factorysim::cli {

namespace {

struct replay_args {
  std::string file;
  std::optional<std::string> scenario;
  std::optional<std::string> mqtt_host;
  std::optional<int> mqtt_port;
  std::optional<int> qos;
  std::optional<std::string> client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<int> sessions;
  std::optional<int> window;
  double speed = 1;
  bool asap = false;
  bool rebase = false;
  std::optional<std::string> rebase_to;
  bool no_retain = false;
  double shutdown_timeout_s = 10;
};

int bad_usage(const std::string& message) {
  std::cerr << "factorysim replay: " << message << '\n';
  return 2;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

int replay(const replay_args& a) {
  if (!(a.speed > 0 && a.speed <= 1e9)) return bad_usage("--speed must be > 0 (and <= 1e9)");
  if (!(a.shutdown_timeout_s >= 0 && a.shutdown_timeout_s <= 86'400))
    return bad_usage("--shutdown-timeout must be between 0 and 86400 seconds");
  if (a.rebase && a.rebase_to) return bad_usage("--rebase and --rebase-to exclude each other");

  // MQTT settings: the scenario's (TLS, credentials...) when given, else the defaults; then
  // the options. A replay is not the simulator: its own client id by default.
  scenarios::mqtt_settings mqtt;
  mqtt.client_id = "factorysim-replay";
  if (a.scenario) {
    try {
      mqtt = scenarios::load_scenario(resolve_scenario(*a.scenario)).mqtt;
    } catch (const scenarios::scenario_error& e) {
      for (const auto& p : e.problems()) std::cerr << p.to_string() << '\n';
      return 2;
    } catch (const std::exception& e) {
      return bad_usage(*a.scenario + ": " + e.what());
    }
  }
  if (a.mqtt_host) mqtt.host = *a.mqtt_host;
  if (a.mqtt_port) {
    if (*a.mqtt_port < 1 || *a.mqtt_port > 65535) return bad_usage("--mqtt-port must be 1..65535");
    mqtt.port = *a.mqtt_port;
  }
  if (a.qos) {
    if (*a.qos < 0 || *a.qos > 2) return bad_usage("--qos must be 0, 1 or 2");
    mqtt.qos = *a.qos;
  }
  if (a.client_id) mqtt.client_id = *a.client_id;
  if (a.username) mqtt.username = *a.username;
  if (a.password) mqtt.password = *a.password;
  if (a.sessions) {
    if (*a.sessions < 1 || *a.sessions > 256) return bad_usage("--sessions must be 1..256");
    mqtt.sessions_per_machine_limit = 0;
    mqtt.shared_sessions = *a.sessions;
  }
  if (a.window) {
    if (*a.window < 1 || *a.window > 65535) return bad_usage("--window must be 1..65535");
    mqtt.max_inflight = *a.window;
  }

  std::unique_ptr<sim::capture_file> capture;
  sim::capture_index index;
  try {
    capture = std::make_unique<sim::capture_file>(a.file);
    index = capture->index();
  } catch (const sim::capture_error& e) {
    return bad_usage(e.what());
  }
  if (index.messages == 0) return bad_usage(a.file + ": no messages");

  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  sim::replay_options options;
  options.speed = a.asap ? 0 : a.speed;
  options.retain = a.no_retain ? sim::replay_retain::none : sim::replay_retain::capture;
  options.shutdown_timeout =
      std::chrono::milliseconds(static_cast<long>(a.shutdown_timeout_s * 1000));
  if (a.rebase || a.rebase_to) {
    if (!index.first_time) return bad_usage(a.file + ": no payload has a time to rebase");
    if (a.rebase_to) {
      const auto t = scenarios::parse_rfc3339(*a.rebase_to);
      if (!t) return bad_usage("--rebase-to: not an RFC 3339 time: " + *a.rebase_to);
      options.time_offset = *t - *index.first_time;
    } else {
      // Whole minutes, so that readings stay on their interval boundaries (1 s .. 1 min).
      options.time_offset = std::chrono::floor<std::chrono::minutes>(now - *index.first_time);
    }
  }

  boost::asio::io_context io(1);
  std::vector<sim::sink_machine> machines;
  machines.reserve(index.machines.size());
  for (const auto& m : index.machines) machines.push_back({m.machine_id, m.topic});
  std::unique_ptr<sim::mqtt_sink> sink;
  try {
    sink = std::make_unique<sim::mqtt_sink>(io, mqtt, machines, now);
  } catch (const std::exception& e) {
    std::cerr << "factorysim replay: " << e.what() << '\n';
    return 1;
  }

  std::cerr << "factorysim replay: " << a.file << ": " << index.messages << " messages ("
            << (index.jsonl ? "jsonl" : "tsv") << ") of " << index.machines.size()
            << " base topics";
  if (index.first_time && index.last_time) {
    const double span_s =
        static_cast<double>((*index.last_time - *index.first_time).count()) / 1000.0;
    std::cerr << ", " << scenarios::format_rfc3339(*index.first_time) << " .. "
              << scenarios::format_rfc3339(*index.last_time) << " (" << seconds_text(span_s)
              << " s)";
    if (options.speed > 0)
      std::cerr << ", paced x" << options.speed << ": ~" << seconds_text(span_s / options.speed)
                << " s";
  }
  if (options.speed == 0) std::cerr << ", as fast as the broker accepts";
  if (options.time_offset)
    std::cerr << "; times shifted by " << options.time_offset->count() << " ms (first -> "
              << scenarios::format_rfc3339(*index.first_time + *options.time_offset) << ")";
  else
    std::cerr << "; times kept";
  std::cerr << "; broker " << mqtt.host << ':' << mqtt.port << ", QoS " << mqtt.qos << ", "
            << sink->layout().sessions << (sink->layout().sessions == 1 ? " session" : " sessions")
            << std::endl;

  sim::replayer player(io, *capture, index, *sink, options);
  int exit_code = 0;
  bool finished = false;
  bool stopping = false;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (stopping) {
          std::cerr << "factorysim replay: interrupted again, exiting without flushing\n";
          exit_code = 1;
          io.stop();
          return;
        }
        stopping = true;
        std::cerr << "factorysim replay: stopping, flushing\n";
        player.request_stop();
        if (!finished) signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  player.on_finished([&](bool ok) {
    finished = true;
    if (!ok) exit_code = 1;
    boost::system::error_code ignored;
    signals.cancel(ignored);
  });
  const auto wall_start = std::chrono::steady_clock::now();
  player.start();
  try {
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "factorysim replay: " << e.what() << '\n';
    return 1;
  }
  if (!finished && exit_code == 0) exit_code = 1;
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const auto& st = player.status();
  const auto c = sink->counters();
  std::cerr << "factorysim replay: published " << st.published << " of " << index.messages
            << " messages in " << seconds_text(wall_s) << " s = "
            << static_cast<long long>(wall_s > 0 ? static_cast<double>(st.published) / wall_s : 0)
            << " msg/s; " << st.late << " late by more than 1 s, " << st.rebased_values
            << " time values rebased, " << c.publish_errors << " publish errors, " << c.reconnects
            << " reconnects\n";
  return exit_code;
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<replay_args>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Publish a capture of `run --output` (tsv or jsonl) to MQTT: original pace, --speed X or "
      "--asap; times kept or --rebase");
  cmd->add_option("file", args->file, "Capture file (topic<TAB>payload lines, or jsonl)")
      ->required();
  cmd->add_option("--scenario", args->scenario,
                  "Take the MQTT settings (host, port, QoS, TLS, login, sessions) from this "
                  "scenario; the options below override them");
  cmd->add_option("--mqtt-host", args->mqtt_host, "Broker host (default 127.0.0.1)");
  cmd->add_option("--mqtt-port", args->mqtt_port, "Broker port (default 1883)");
  cmd->add_option("--qos", args->qos, "QoS of every publish, 0..2 (default 1)");
  cmd->add_option("--client-id", args->client_id,
                  "MQTT client id prefix (default factorysim-replay; sessions add -N / -sN)");
  cmd->add_option("--username", args->username, "MQTT user name");
  cmd->add_option("--password", args->password, "MQTT password");
  cmd->add_option("--sessions", args->sessions,
                  "N shared sessions (default: one per machine up to 64, as `run`)");
  cmd->add_option("--window", args->window,
                  "Unacknowledged QoS 1/2 messages per session (default 1000)");
  auto* speed = cmd->add_option("--speed", args->speed,
                                "Capture seconds per wall second (default 1: the original pace)");
  auto* asap =
      cmd->add_flag("--asap,--max-rate", args->asap, "As fast as the broker accepts (no pacing)");
  speed->excludes(asap);
  cmd->add_flag("--rebase", args->rebase,
                "Shift every time (time, *_at) so the capture starts now (by whole minutes)");
  cmd->add_option("--rebase-to", args->rebase_to,
                  "Shift every time so the capture's first instant is T (RFC 3339)");
  cmd->add_flag("--no-retain", args->no_retain,
                "Publish nothing retained (default: /status topics, or as a jsonl capture says)");
  cmd->add_option("--shutdown-timeout", args->shutdown_timeout_s,
                  "Seconds the final flush may take (default 10)");
  cmd->callback([args, &exit_code] { exit_code = replay(*args); });
}

}  // namespace factorysim::cli
