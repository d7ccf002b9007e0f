#include "sim/run_summary.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace factorysim::sim {

namespace {

/// A rate for people: 3 significant digits at least, no exponent.
std::string rate_text(double v) {
  char buf[64];
  if (v >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v >= 1)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

double rounded(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace

std::uint64_t run_summary::published_total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [stream, count] : published) n += count;
  return n;
}

double run_summary::achieved_rate_per_s() const noexcept {
  return wall_s > 0 ? static_cast<double>(published_total()) / wall_s : 0;
}

std::string to_json(const run_summary& s) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["factorysim"] = s.version;
  j["scenario"] = s.scenario;
  j["file"] = s.file;
  j["seed"] = s.seed;
  j["mode"] = s.mode;
  j["speed"] = s.speed;
  j["from"] = s.from ? ordered_json(*s.from) : ordered_json(nullptr);
  j["to"] = s.to ? ordered_json(*s.to) : ordered_json(nullptr);
  j["machines"] = s.machines;
  j["target"] = s.target;
  j["format"] = s.format.empty() ? ordered_json(nullptr) : ordered_json(s.format);
  j["qos"] = s.qos >= 0 ? ordered_json(s.qos) : ordered_json(nullptr);
  j["sessions"] = s.sessions;
  ordered_json e;
  e["readings_per_s_per_stream"] = rounded(s.expected.readings_per_s, 6);
  e["random_events_per_s"] = rounded(s.expected.random_events_per_s, 9);
  e["scheduled_events"] = s.expected.scheduled_events;
  e["status_start_end"] = s.expected.status_start_end;
  e["speed"] = s.expected.speed;
  e["wall_rate_per_s"] = rounded(s.expected.wall_rate_per_s(), 3);
  e["readings_total_per_stream"] =
      s.expected.readings_total ? ordered_json(*s.expected.readings_total) : ordered_json(nullptr);
  const auto total = s.expected.total_messages();
  e["messages_total"] = total ? ordered_json(std::llround(*total)) : ordered_json(nullptr);
  j["expected"] = e;
  ordered_json p;
  for (const auto& [stream, count] : s.published) p[stream] = count;
  p["total"] = s.published_total();
  j["published"] = p;
  j["wall_s"] = rounded(s.wall_s, 3);
  j["simulated_s"] = rounded(s.simulated_s, 3);
  j["rate_per_s"] = rounded(s.achieved_rate_per_s(), 1);
  j["overruns"] = s.overruns;
  j["publish_errors"] = s.publish_errors;
  j["reconnects"] = s.reconnects;
  j["exit_code"] = s.exit_code;
  return j.dump(2) + "\n";
}

std::string expected_rate_line(const message_rate& r) {
  std::string line = "expected load: ";
  const std::string each = rate_text(r.readings_per_s);
  const std::string streams = r.reading_streams > 3
                                  ? "4 streams: energy, production, environmental, truth"
                                  : "3 streams: energy, production, environmental";
  if (r.speed > 0) {
    line += rate_text(r.wall_rate_per_s()) + " msg/s";
    line += " (" + std::to_string(r.machines) + " machines x " + streams + " " +
            rate_text(r.readings_per_s * r.speed) + " msg/s each";
  } else {
    line += "as fast as the sink accepts (backfill; " + std::to_string(r.machines) +
            " machines x " + streams + " " + each + " msg per simulated s each";
  }
  line += "; events ~" + rate_text(r.random_events_per_s * (r.speed > 0 ? r.speed : 1)) +
          (r.speed > 0 ? "/s" : " per simulated s") + " from random faults";
  if (r.scheduled_events > 0) line += " + " + std::to_string(r.scheduled_events) + " scheduled";
  line += "; status: " + std::to_string(r.status_start_end) +
          " at start and end, plus one per change of operating mode)";
  if (const auto total = r.total_messages())
    line += "; the range holds ~" + std::to_string(std::llround(*total)) + " messages (" +
            std::to_string(*r.readings_total) + " per reading stream)";
  return line;
}

std::string achieved_rate_line(const run_summary& s) {
  char wall[32];
  std::snprintf(wall, sizeof wall, "%.3f", s.wall_s);
  std::string line = "achieved: " + std::to_string(s.published_total()) + " messages in " + wall +
                     " s wall = " + rate_text(s.achieved_rate_per_s()) + " msg/s";
  char sim[32];
  std::snprintf(sim, sizeof sim, "%.0f", s.simulated_s);
  line += ", " + std::string(sim) + " simulated s";
  if (s.wall_s > 0 && s.simulated_s > 0) line += " (x" + rate_text(s.simulated_s / s.wall_s) + ")";
  return line;
}

}  // namespace factorysim::sim
