#include "control/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include "sim/payload.hpp"

namespace factorysim::control {

// The engine's control interface and the names of its values, as this file reads them.
using sim::engine;
using sim::engine_status;
using sim::machine_status;
using sim::run_state;
using sim::stream;
using sim::stream_count;
using sim::to_string;
namespace {

using label = std::pair<std::string_view, std::string_view>;

/// Writes one family at a time: its HELP and TYPE lines, then its samples.
class exposition {
 public:
  explicit exposition(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_help_text(out_, help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::initializer_list<label> labels, double value) {
    head(labels);
    append_metric_value(out_, value);
    out_ += '\n';
  }
  void sample(std::initializer_list<label> labels, std::uint64_t value) {
    head(labels);
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, static_cast<std::size_t>(res.ptr - buf));
    out_ += '\n';
  }
  void sample(double value) { sample({}, value); }
  void sample(std::uint64_t value) { sample({}, value); }

 private:
  void head(std::initializer_list<label> labels) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        append_label_value(out_, value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
  }

  std::string& out_;
  std::string_view name_;
};

double seconds_since_epoch(machines::sim_time t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1000.0;
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void append_help_text(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void append_metric_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  std::to_chars_result res{};
  if (value == std::trunc(value) && std::fabs(value) < 1e15)
    res = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
  else
    res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

std::string render_metrics(const engine& e, const control_stats& control) {
  const engine_status s = e.status();
  const auto& sc = e.scenario();
  std::vector<machine_status> ms;
  ms.reserve(e.machine_count());
  for (std::size_t i = 0; i < e.machine_count(); ++i) ms.push_back(e.machine(i));

  std::string out;
  out.reserve(4096 + ms.size() * 1200);
  exposition x(out);

  x.family("factorysim_info", "gauge", "Always 1; the labels name the scenario and time mode");
  x.sample({{"scenario", sc.name}, {"mode", scenarios::to_string(s.mode)}}, 1.0);
  x.family("factorysim_run_state", "gauge", "1 for the run's current state, 0 for the others");
  for (auto st : {run_state::created, run_state::running, run_state::paused, run_state::stopping,
                  run_state::stopped})
    x.sample({{"state", to_string(st)}}, st == s.state ? 1.0 : 0.0);
  x.family("factorysim_simulated_time_seconds", "gauge",
           "The simulated clock, seconds since the Unix epoch");
  x.sample(seconds_since_epoch(s.sim_time));
  x.family("factorysim_speed_ratio", "gauge",
           "Simulated seconds per wall second (accelerated mode)");
  x.sample(s.speed);
  x.family("factorysim_uptime_seconds", "gauge", "Wall time since the run started");
  x.sample(static_cast<double>(s.uptime.count()) / 1000.0);
  if (s.sim_end) {
    x.family("factorysim_progress_ratio", "gauge", "Share of the from..to range simulated, 0..1");
    x.sample(s.progress);
  }
  x.family("factorysim_machines", "gauge", "Machines in the plant");
  x.sample(static_cast<std::uint64_t>(s.machines));
  x.family("factorysim_machines_enabled", "gauge", "Machines not stopped through the control API");
  x.sample(static_cast<std::uint64_t>(s.machines_enabled));
  x.family("factorysim_messages_published_total", "counter",
           "Messages handed to the sink, by stream (T/energy, T/production, ...)");
  for (std::size_t k = 0; k < stream_count; ++k)
    x.sample({{"stream", to_string(static_cast<stream>(k))}}, s.published[k]);
  x.family("factorysim_steps_total", "counter", "Machine steps simulated");
  x.sample(s.steps);
  x.family("factorysim_publish_errors_total", "counter", "Messages the transport rejected");
  x.sample(s.publish_errors);
  x.family("factorysim_overruns_total", "counter",
           "Steps taken more than one interval after their deadline");
  x.sample(s.overruns);
  x.family("factorysim_mqtt_reconnects_total", "counter", "MQTT reconnects over all sessions");
  x.sample(s.reconnects);
  x.family("factorysim_mqtt_sessions", "gauge", "MQTT sessions of the sink");
  x.sample(s.sessions);
  x.family("factorysim_mqtt_sessions_connected", "gauge", "MQTT sessions connected now");
  x.sample(s.sessions_connected);
  x.family("factorysim_active_faults", "gauge", "Faults active now over all machines");
  x.sample(static_cast<std::uint64_t>(s.active_faults));

  x.family("factorysim_machine_enabled", "gauge", "1 unless the machine was stopped");
  for (const auto& m : ms)
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}}, m.enabled ? 1.0 : 0.0);
  x.family("factorysim_machine_interval_seconds", "gauge", "The machine's step interval");
  for (const auto& m : ms)
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}},
             static_cast<double>(m.interval.count()) / 1000.0);
  x.family("factorysim_machine_messages_published_total", "counter",
           "Messages of one machine and stream (equals the stream's last seq)");
  for (const auto& m : ms)
    for (std::size_t k = 0; k < stream_count; ++k)
      x.sample({{"machine_id", m.config->id},
                {"machine", m.config->name},
                {"stream", to_string(static_cast<stream>(k))}},
               m.published[k]);
  x.family("factorysim_machine_overruns_total", "counter", "Late steps of one machine");
  for (const auto& m : ms)
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}}, m.overruns);
  x.family("factorysim_machine_energy_kwh_total", "counter",
           "The machine's cumulative energy meter");
  for (const auto& m : ms)
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}}, m.energy_total_kwh);
  x.family("factorysim_machine_power_kw", "gauge", "Real power of the machine's last reading");
  for (const auto& m : ms)
    if (m.last)
      x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}},
               m.last->energy.power_kw);
  x.family("factorysim_machine_production_units_total", "counter",
           "Units produced since the start, by quality");
  for (const auto& m : ms) {
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}, {"quality", "good"}},
             static_cast<std::uint64_t>(std::max<std::int64_t>(0, m.production_good_total)));
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}, {"quality", "bad"}},
             static_cast<std::uint64_t>(std::max<std::int64_t>(0, m.production_bad_total)));
  }
  x.family("factorysim_machine_active_faults", "gauge", "Faults active now on the machine");
  for (const auto& m : ms)
    x.sample({{"machine_id", m.config->id}, {"machine", m.config->name}},
             static_cast<std::uint64_t>(m.active_faults.size()));

  x.family("factorysim_control_responses_total", "counter",
           "Responses of the control endpoint, by HTTP status code");
  for (const auto& [code, n] : control.responses) {
    const std::string text = std::to_string(code);
    x.sample({{"code", text}}, n);
  }
  x.family("factorysim_control_open_connections", "gauge", "Control clients connected now");
  x.sample(static_cast<std::uint64_t>(control.open_connections));
  x.family("factorysim_control_connections_total", "counter", "Control connections accepted");
  x.sample(control.connections_total);
  x.family("factorysim_control_connections_refused_total", "counter",
           "Control connections answered 503 because the connection cap was reached");
  x.sample(control.connections_refused);
  x.family("factorysim_control_timeouts_total", "counter",
           "Control connections closed because the client was idle or too slow");
  x.sample(control.timeouts);
  return out;
}

}  // namespace factorysim::control
