#include "cli/run_knobs.hpp"

#include "scenarios/text_formats.hpp"

namespace factorysim::cli {

void add_run_knob_options(CLI::App* cmd, run_knobs& k) {
  cmd->add_option("--replicas", k.replicas,
                  "Every machine entry becomes N replicas, as if it had `replicas: N` "
                  "(1..100000; ids, names and topics as docs/scenarios.md#replication)")
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--max-machines", k.max_machines,
                  "Refuse a scenario of more machines than this, replicas included (default "
                  "100000; the file is checked before anything is expanded)")
      ->check(CLI::PositiveNumber)
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--interval", k.interval,
                  "Every machine reports at this interval (a duration: 1s, 250ms, 10s; "
                  "100ms..24h)")
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--qos", k.qos, "QoS of every publish, 0..2 (overrides mqtt.qos)")
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--sessions", k.sessions,
                  "Publish over N shared MQTT sessions, machine i on session i mod N "
                  "(1..256; per-machine sessions and their last wills off)")
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--window", k.window,
                  "Unacknowledged QoS 1/2 messages per session before stepping waits "
                  "(1..65535; overrides mqtt.max_inflight)")
      ->group("Load knobs (override the scenario)");
  cmd->add_option("--format", k.format,
                  "--output format: tsv (topic<TAB>payload, default), jsonl, csv (one file per "
                  "stream: OUT.csv -> OUT.energy.csv, ...), influx (line protocol)")
      ->group("Output");
  cmd->add_option("--summary-json", k.summary_json,
                  "At the end write the run's summary (expected and achieved rate, counts) as "
                  "JSON to FILE (docs/sizing.md)")
      ->group("Output");
}

scenarios::load_options load_options_of(const run_knobs& k) {
  scenarios::load_options o;
  o.replicas = k.replicas;
  o.max_machines = k.max_machines;
  return o;
}

std::string apply_run_knobs(scenarios::scenario& s, const run_knobs& k) {
  if (k.interval) {
    const auto ms = scenarios::parse_duration_ms(*k.interval);
    if (!ms) return "--interval: not a duration such as 1s, 250ms or 10s: " + *k.interval;
    if (*ms != static_cast<double>(static_cast<long long>(*ms)))
      return "--interval must be a whole number of milliseconds, got " + *k.interval;
    if (*ms < 100 || *ms > 86'400'000)
      return "--interval must be between 100ms and 24h, got " + *k.interval;
    const std::chrono::milliseconds iv{static_cast<long long>(*ms)};
    for (auto& m : s.machines) m.interval = iv;
  }
  if (k.qos) {
    if (*k.qos < 0 || *k.qos > 2) return "--qos must be 0, 1 or 2, got " + std::to_string(*k.qos);
    s.mqtt.qos = *k.qos;
  }
  if (k.sessions) {
    if (*k.sessions < 1 || *k.sessions > 256)
      return "--sessions must be 1..256, got " + std::to_string(*k.sessions);
    s.mqtt.sessions_per_machine_limit = 0;
    s.mqtt.shared_sessions = *k.sessions;
  }
  if (k.window) {
    if (*k.window < 1 || *k.window > 65535)
      return "--window must be 1..65535, got " + std::to_string(*k.window);
    s.mqtt.max_inflight = *k.window;
  }
  return {};
}

std::optional<sim::export_format> export_format_of(const run_knobs& k, std::string& error) {
  const auto f = sim::parse_export_format(k.format);
  if (!f) error = "--format must be tsv, jsonl, csv or influx, got " + k.format;
  return f;
}

std::vector<sim::export_machine> export_machines_of(const scenarios::scenario& s) {
  std::vector<sim::export_machine> out;
  out.reserve(s.machines.size());
  for (const auto& m : s.machines) {
    sim::export_machine e;
    e.id = m.id;
    e.name = m.name;
    e.type = std::string(machines::to_string(m.type));
    e.factory_id = m.factory_id;
    for (const auto& f : s.factories)
      if (f.id == m.factory_id) e.factory = f.name;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace factorysim::cli
