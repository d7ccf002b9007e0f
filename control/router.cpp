#include "control/router.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

#include "control/metrics.hpp"
#include "control/openapi.hpp"
#include "sim/payload.hpp"

namespace factorysim::control {

// The engine's control interface and the names of its values, as this file reads them.
using sim::append_time;
using sim::control_error;
using sim::engine;
using sim::engine_status;
using sim::machine_status;
using sim::run_state;
using sim::severity_level;
using sim::stream;
using sim::stream_count;
using sim::stream_counts;
using sim::to_string;
namespace {

// Keys come out in the order the handlers write them: easier to read with curl.
using json = nlohmann::ordered_json;
using std::chrono::milliseconds;

/// A refusal with its HTTP status, thrown by the handlers and caught by dispatch().
struct http_error : std::runtime_error {
  http_error(unsigned s, const std::string& detail) : std::runtime_error(detail), status(s) {}
  unsigned status;
};

std::string_view error_name(unsigned status) noexcept {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 403:
      return "forbidden";
    case 409:
      return "conflict";
    case 415:
      return "unsupported_media_type";
    case 421:
      return "misdirected_request";
    case 429:
      return "too_many_requests";
    case 413:
      return "payload_too_large";
    case 431:
      return "request_header_fields_too_large";
    case 503:
      return "service_unavailable";
    default:
      return status >= 500 ? "internal_error" : "error";
  }
}

/// Longest interval or fault duration accepted: beyond it a typo is likelier than intent, and
/// milliseconds of it still fit every clock comfortably.
constexpr double max_seconds = 366.0 * 86400.0;

std::string time_text(machines::sim_time t) {
  std::string s;
  append_time(s, t);
  return s;
}

double seconds_of(milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

// ---------------------------------------------------------------------------------------
// Targets: path segments and query parameters

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the range of the first continuation byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

/// Percent-decodes one path segment or query component; plus_is_space for queries. The result
/// must be UTF-8: ids and names are echoed in JSON, which cannot carry other bytes (issue 12:
/// `GET /%FF` was a 500).
std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) throw http_error(400, "bad percent-encoding in the target");
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) throw http_error(400, "bad percent-encoding in the target");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!is_utf8(out)) throw http_error(400, "the request target is not UTF-8 once percent-decoded");
  return out;
}

struct parsed_target {
  std::vector<std::string> segments;  ///< decoded, without empty ones
  std::vector<std::pair<std::string, std::string>> query;
};

parsed_target parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/')
    throw http_error(400, "the request target must be an absolute path");
  parsed_target out;
  std::string_view path = target;
  const auto q = target.find('?');
  if (q != std::string_view::npos) {
    path = target.substr(0, q);
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view part = query.substr(0, amp);
      if (!part.empty()) {
        const auto eq = part.find('=');
        out.query.emplace_back(percent_decode(part.substr(0, eq), true),
                               eq == std::string_view::npos
                                   ? std::string{}
                                   : percent_decode(part.substr(eq + 1), true));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    // An empty segment only at the end ("/machines/"): tolerated as the same resource.
    if (seg.empty() && slash != std::string_view::npos)
      throw http_error(404, "no such path: " + std::string(path));
    if (!seg.empty()) out.segments.push_back(percent_decode(seg, false));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

/// Matches decoded segments against a route template; fills the {parameters} in order.
bool match(std::string_view tmpl, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
  params.clear();
  std::size_t k = 0;
  std::size_t start = 1;
  while (start <= tmpl.size()) {
    const auto slash = tmpl.find('/', start);
    const std::string_view seg = tmpl.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!seg.empty()) {
      if (k >= segments.size()) return false;
      if (seg.front() == '{') {
        params.push_back(segments[k]);
      } else if (seg != segments[k]) {
        return false;
      }
      ++k;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return k == segments.size();
}

bool is_mutating(std::string_view method) noexcept {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// ---------------------------------------------------------------------------------------
// JSON bodies

std::string_view json_type_name(const json& v) {
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

struct call {
  engine& e;
  const control_router_options& options;
  const control_request& request;
  const parsed_target& target;
  std::vector<std::string> params;
  const control_stats& stats;
};

/// The body as a JSON object; an empty body is {} when allowed.
json parse_body(const call& c, bool allow_empty) {
  const std::string& body = c.request.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (allow_empty) return json::object();
    throw http_error(400, "a JSON object body is required");
  }
  json v;
  try {
    v = json::parse(body);
  } catch (const json::parse_error& e) {
    throw http_error(400, std::string("malformed JSON: ") + e.what());
  }
  if (!v.is_object())
    throw http_error(400, "the body must be a JSON object, got " + std::string(json_type_name(v)));
  return v;
}

void check_keys(const json& obj, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string expected;
      for (auto a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
      throw http_error(400, "unknown key \"" + key + "\" (expected: " + expected + ")");
    }
  }
}

double number_field(const json& obj, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_number())
    throw http_error(400, "\"" + std::string(key) + "\" must be a number, got " +
                              std::string(json_type_name(v)));
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw http_error(400, "\"" + std::string(key) + "\" must be finite");
  return d;
}

std::vector<std::string> string_array_field(const json& obj, const char* key) {
  const json& v = obj.at(key);
  if (!v.is_array())
    throw http_error(400, "\"" + std::string(key) + "\" must be an array of strings, got " +
                              std::string(json_type_name(v)));
  if (v.empty()) throw http_error(400, "\"" + std::string(key) + "\" is empty: it selects nothing");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string())
      throw http_error(400, "\"" + std::string(key) + "\" must hold strings, found " +
                                std::string(json_type_name(item)));
    out.push_back(item.get<std::string>());
  }
  return out;
}

/// Seconds (a JSON number) to milliseconds, > 0 and at most max_seconds.
milliseconds positive_seconds(double s, const char* key) {
  if (!(s > 0)) throw http_error(400, "\"" + std::string(key) + "\" must be > 0");
  if (s > max_seconds)
    throw http_error(400, "\"" + std::string(key) + "\" must be at most " +
                              std::to_string(static_cast<long>(max_seconds)) + " (366 days)");
  const auto ms = static_cast<milliseconds::rep>(std::llround(s * 1000.0));
  if (ms <= 0) throw http_error(400, "\"" + std::string(key) + "\" is below 1 ms");
  return milliseconds(ms);
}

// ---------------------------------------------------------------------------------------
// Views

/// A reading's number as the wire payload writes it (the decimals of sim/payload.cpp), so that
/// GET /machines/{id} and a subscriber see the same value, not 41.19999694824219 (issue 12).
json wire_number(double v, int decimals) {
  if (!std::isfinite(v)) return nullptr;
  std::string text;
  sim::append_fixed(text, v, decimals);
  double out = v;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

void add_if_present(json& obj, const char* key, double v, int decimals) {
  if (!std::isnan(v)) obj[key] = wire_number(v, decimals);
}

json reading_json(const machines::reading& r) {
  json out;
  out["time"] = time_text(r.time);
  out["is_running"] = r.is_running;
  const auto& en = r.energy;
  out["energy"] = {{"power_kw", wire_number(en.power_kw, 3)},
                   {"energy_kwh", wire_number(en.energy_kwh, 6)},
                   {"energy_total_kwh", wire_number(en.energy_total_kwh, 3)},
                   {"voltage_v", wire_number(en.voltage_v, 1)},
                   {"current_a", wire_number(en.current_a, 2)},
                   {"power_factor", wire_number(en.power_factor, 3)},
                   {"frequency_hz", wire_number(en.frequency_hz, 3)}};
  for (const auto& [k, v] : {std::pair{"current_l1_a", en.current_l1_a},
                             std::pair{"current_l2_a", en.current_l2_a},
                             std::pair{"current_l3_a", en.current_l3_a}})
    if (!std::isnan(v)) out["energy"][k] = wire_number(v, 2);
  const auto& p = r.production;
  out["production"] = {{"production_count", p.production_count},
                       {"production_count_good", p.production_count_good},
                       {"production_count_bad", p.production_count_bad},
                       {"throughput_units_per_hour", wire_number(p.throughput_units_per_hour, 1)},
                       {"operating_mode", machines::to_string(p.mode)},
                       {"speed_percent", wire_number(p.speed_percent, 1)}};
  const auto& v = r.environmental;
  json env = json::object();
  add_if_present(env, "outdoor_temp_c", v.outdoor_temp_c, 2);
  add_if_present(env, "indoor_temp_c", v.indoor_temp_c, 2);
  add_if_present(env, "machine_temp_c", v.machine_temp_c, 2);
  add_if_present(env, "outdoor_humidity_percent", v.outdoor_humidity_percent, 1);
  add_if_present(env, "indoor_humidity_percent", v.indoor_humidity_percent, 1);
  add_if_present(env, "pressure_bar", v.pressure_bar, 2);
  add_if_present(env, "pressure_setpoint_bar", v.pressure_setpoint_bar, 2);
  add_if_present(env, "flow_rate_m3h", v.flow_rate_m3h, 2);
  add_if_present(env, "supply_air_temp_c", v.supply_air_temp_c, 2);
  add_if_present(env, "return_air_temp_c", v.return_air_temp_c, 2);
  add_if_present(env, "chilled_water_supply_temp_c", v.chilled_water_supply_temp_c, 2);
  add_if_present(env, "chilled_water_return_temp_c", v.chilled_water_return_temp_c, 2);
  add_if_present(env, "cop", v.cop, 3);
  add_if_present(env, "vibration_mm_s", v.vibration_mm_s, 2);
  add_if_present(env, "bearing_temp_c", v.bearing_temp_c, 1);
  add_if_present(env, "vibration_1x_mm_s", v.vibration_1x_mm_s, 2);
  add_if_present(env, "vibration_2x_mm_s", v.vibration_2x_mm_s, 2);
  add_if_present(env, "vibration_accel_peak_g", v.vibration_accel_peak_g, 3);
  add_if_present(env, "vibration_crest_factor", v.vibration_crest_factor, 2);
  add_if_present(env, "vibration_kurtosis", v.vibration_kurtosis, 2);
  add_if_present(env, "vibration_bearing_defect_ge", v.vibration_bearing_defect_ge, 3);
  add_if_present(env, "current_unbalance_percent", v.current_unbalance_percent, 2);
  add_if_present(env, "run_hours", v.run_hours, 2);
  add_if_present(env, "start_count", v.start_count, 0);
  out["environmental"] = std::move(env);
  json dropped = json::array();
  if (r.energy_dropped) dropped.push_back("energy");
  if (r.production_dropped) dropped.push_back("production");
  if (r.environmental_dropped) dropped.push_back("environmental");
  out["dropped_streams"] = std::move(dropped);
  return out;
}

json fault_json(const machines::fault& f, machines::machine_type type, std::string_view state) {
  json out;
  out["fault_id"] = f.id;
  out["type"] = machines::to_string(f.type);
  out["severity"] = f.severity;
  out["level"] = severity_level(f.severity);
  out["signal"] = f.signal.empty() ? json(nullptr) : json(f.signal);
  out["signals"] = machines::affected_signals(f.type, type, f.signal);
  out["start"] = time_text(f.start);
  out["end"] = f.end ? json(time_text(*f.end)) : json(nullptr);
  out["duration_s"] = f.end ? json(seconds_of(*f.end - f.start)) : json(nullptr);
  out["source"] = f.source;
  out["state"] = state;
  return out;
}

std::string_view machine_state_name(const machine_status& m, run_state run) {
  if (!m.enabled) return "stopped";
  if (run == run_state::paused) return "paused";
  if (run == run_state::stopping || run == run_state::stopped) return "offline";
  if (!m.last) return "starting";
  return machines::to_string(m.last->production.mode);
}

json stream_counts_json(const stream_counts& counts) {
  json out = json::object();
  std::uint64_t total = 0;
  for (std::size_t s = 0; s < stream_count; ++s) {
    out[std::string(to_string(static_cast<stream>(s)))] = counts[s];
    total += counts[s];
  }
  out["total"] = total;
  return out;
}

json machine_json(const machine_status& m, run_state run, bool full) {
  const auto& cfg = *m.config;
  json out;
  out["id"] = cfg.id;
  out["name"] = cfg.name;
  out["factory_id"] = cfg.factory_id;
  out["type"] = machines::to_string(cfg.type);
  out["topic"] = cfg.topic;
  out["enabled"] = m.enabled;
  out["state"] = machine_state_name(m, run);
  out["interval_s"] = seconds_of(m.interval);
  out["active_faults"] = m.active_faults.size();
  if (!full) {
    out["last_reading_time"] = m.last ? json(time_text(m.last->time)) : json(nullptr);
    return out;
  }
  out["rated_power_kw"] = cfg.rated_power_kw;
  out["rated_voltage_v"] = cfg.rated_voltage_v;
  out["rated_current_a"] = cfg.rated_current_a;
  out["next_deadline"] = time_text(m.next_deadline);
  out["last_reading"] = m.last ? reading_json(*m.last) : json(nullptr);
  out["totals"] = {{"published", stream_counts_json(m.published)},
                   {"overruns", m.overruns},
                   {"production_count", m.production_total},
                   {"production_count_good", m.production_good_total},
                   {"production_count_bad", m.production_bad_total},
                   {"energy_total_kwh", wire_number(m.energy_total_kwh, 3)}};
  json faults = json::array();
  for (const auto& f : m.active_faults) faults.push_back(fault_json(f, cfg.type, "active"));
  out["active_faults"] = std::move(faults);
  json pending = json::array();
  for (const auto& f : m.pending_faults) pending.push_back(fault_json(f, cfg.type, "pending"));
  out["pending_faults"] = std::move(pending);
  return out;
}

control_response json_response(unsigned status, const json& body) {
  control_response r;
  r.status = status;
  // Every text in a body passed is_utf8 or came from us; replace rather than throw regardless,
  // so that no byte a client sent can turn an answer into a 500.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.body.push_back('\n');
  return r;
}

// ---------------------------------------------------------------------------------------
// Handlers

void refuse_when_over(const call& c) {
  const run_state s = c.e.status().state;
  if (s == run_state::stopping || s == run_state::stopped)
    throw http_error(409, "the run is " + std::string(to_string(s)) + ": nothing to control");
}

control_response get_health(call& c) {
  return json_response(200, {{"status", "ok"}, {"state", to_string(c.e.status().state)}});
}

control_response get_status(call& c) {
  const engine_status s = c.e.status();
  const auto& sc = c.e.scenario();
  json out;
  out["state"] = to_string(s.state);
  out["mode"] = scenarios::to_string(s.mode);
  out["scenario"] = sc.name;
  out["simulated_time"] = time_text(s.sim_time);
  out["simulated_start"] = time_text(s.sim_start);
  out["simulated_end"] = s.sim_end ? json(time_text(*s.sim_end)) : json(nullptr);
  out["speed"] = s.speed;
  out["uptime_s"] = seconds_of(s.uptime);
  out["root_seed"] = s.root_seed;
  out["progress"] = s.sim_end ? json(s.progress) : json(nullptr);
  out["machines"] = s.machines;
  out["machines_enabled"] = s.machines_enabled;
  out["counters"] = {{"published", stream_counts_json(s.published)},
                     {"steps", s.steps},
                     {"publish_errors", s.publish_errors},
                     {"overruns", s.overruns},
                     {"reconnects", s.reconnects},
                     {"active_faults", s.active_faults},
                     {"mqtt_sessions", s.sessions},
                     {"mqtt_sessions_connected", s.sessions_connected}};
  std::uint64_t requests = 0;
  for (const auto& [code, n] : c.stats.responses) requests += n;
  out["control"] = {{"requests", requests},
                    {"open_connections", c.stats.open_connections},
                    {"connections_refused", c.stats.connections_refused},
                    {"timeouts", c.stats.timeouts}};
  return json_response(200, out);
}

/// The machines a start/stop/pause/resume body names; nullopt = no filter (the whole run).
std::optional<std::vector<std::size_t>> selection(const call& c, const json& body) {
  check_keys(body, {"factory_ids", "machine_ids"});
  if (!body.contains("factory_ids") && !body.contains("machine_ids")) return std::nullopt;
  std::set<std::size_t> chosen;
  if (body.contains("machine_ids"))
    for (const auto& id : string_array_field(body, "machine_ids"))
      chosen.insert(c.e.machine_index(id));  // not_found -> 404
  if (body.contains("factory_ids")) {
    const auto& sc = c.e.scenario();
    for (const auto& fid : string_array_field(body, "factory_ids")) {
      const bool known = std::any_of(sc.factories.begin(), sc.factories.end(),
                                     [&](const auto& f) { return f.id == fid; });
      if (!known) throw http_error(404, "unknown factory " + fid);
      for (std::size_t i = 0; i < c.e.machine_count(); ++i)
        if (c.e.machine(i).config->factory_id == fid) chosen.insert(i);
    }
  }
  return std::vector<std::size_t>(chosen.begin(), chosen.end());
}

control_response set_enabled(call& c, const std::optional<std::vector<std::size_t>>& chosen,
                             bool enabled) {
  std::vector<std::size_t> all;
  if (!chosen) {
    all.resize(c.e.machine_count());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  }
  const auto& indices = chosen ? *chosen : all;
  json ids = json::array();
  std::size_t changed = 0;
  for (std::size_t i : indices) {
    const machine_status m = c.e.machine(i);
    ids.push_back(m.config->id);
    if (m.enabled != enabled) ++changed;
    c.e.set_machine_enabled(i, enabled);
  }
  const engine_status s = c.e.status();
  return json_response(200, {{"machines", std::move(ids)},
                             {"changed", changed},
                             {"machines_enabled", s.machines_enabled},
                             {"state", to_string(s.state)}});
}

control_response post_start(call& c) {
  refuse_when_over(c);
  return set_enabled(c, selection(c, parse_body(c, true)), true);
}

control_response post_stop(call& c) {
  refuse_when_over(c);
  return set_enabled(c, selection(c, parse_body(c, true)), false);
}

control_response post_pause(call& c) {
  refuse_when_over(c);
  const auto chosen = selection(c, parse_body(c, true));
  if (chosen) return set_enabled(c, chosen, false);
  c.e.pause();  // conflict -> 409
  return json_response(200, {{"state", to_string(c.e.status().state)}});
}

control_response post_resume(call& c) {
  refuse_when_over(c);
  const auto chosen = selection(c, parse_body(c, true));
  if (chosen) return set_enabled(c, chosen, true);
  c.e.resume();
  return json_response(200, {{"state", to_string(c.e.status().state)}});
}

control_response post_shutdown(call& c) {
  const run_state before = c.e.status().state;
  if (before != run_state::stopping && before != run_state::stopped) {
    if (c.options.shutdown)
      c.options.shutdown();
    else
      c.e.request_stop();
  }
  return json_response(202, {{"state", to_string(c.e.status().state)}});
}

control_response put_speed(call& c) {
  refuse_when_over(c);
  const json body = parse_body(c, false);
  check_keys(body, {"speed"});
  if (!body.contains("speed")) throw http_error(400, "\"speed\" is required");
  const double speed = number_field(body, "speed");
  if (c.e.scenario().mode != scenarios::time_mode::accelerated)
    throw http_error(409, "speed applies to accelerated mode only; this run is " +
                              std::string(scenarios::to_string(c.e.scenario().mode)));
  if (!(speed > 0) || speed > sim::max_speed)
    throw http_error(400, "\"speed\" must be within (0, " +
                              std::to_string(static_cast<long>(sim::max_speed)) + "], got " +
                              body["speed"].dump());
  c.e.set_speed(speed);
  return json_response(200, {{"speed", c.e.status().speed}});
}

control_response get_factories(call& c) {
  const auto& sc = c.e.scenario();
  json out = json::array();
  for (const auto& f : sc.factories) {
    json ids = json::array();
    for (std::size_t i = 0; i < c.e.machine_count(); ++i) {
      const machine_status m = c.e.machine(i);
      if (m.config->factory_id == f.id) ids.push_back(m.config->id);
    }
    out.push_back({{"id", f.id},
                   {"name", f.name},
                   {"location", f.location},
                   {"timezone", f.timezone},
                   {"machine_ids", std::move(ids)}});
  }
  return json_response(200, out);
}

control_response get_machines(call& c) {
  std::optional<std::string> factory;
  std::optional<machines::machine_type> type;
  for (const auto& [key, value] : c.target.query) {
    if (key == "factory_id") {
      factory = value;
    } else if (key == "type") {
      type = scenarios::parse_machine_type_name(value);
      if (!type)
        throw http_error(400, "unknown machine type \"" + value + "\" (one of " +
                                  std::string(scenarios::machine_type_spellings) + ")");
    } else {
      throw http_error(400, "unknown query parameter " + key + " (expected factory_id, type)");
    }
  }
  const run_state run = c.e.status().state;
  json out = json::array();
  for (std::size_t i = 0; i < c.e.machine_count(); ++i) {
    const machine_status m = c.e.machine(i);
    if (factory && m.config->factory_id != *factory) continue;
    if (type && m.config->type != *type) continue;
    out.push_back(machine_json(m, run, false));
  }
  return json_response(200, out);
}

control_response get_machine(call& c) {
  const std::size_t i = c.e.machine_index(c.params.at(0));
  return json_response(200, machine_json(c.e.machine(i), c.e.status().state, true));
}

control_response patch_machine(call& c) {
  refuse_when_over(c);
  const std::size_t i = c.e.machine_index(c.params.at(0));
  const json body = parse_body(c, false);
  check_keys(body, {"interval_s", "enabled"});
  if (body.empty()) throw http_error(400, "nothing to change: give \"interval_s\" or \"enabled\"");
  // Validate everything before changing anything: a refused request changes nothing.
  std::optional<milliseconds> interval;
  if (body.contains("interval_s")) {
    interval = positive_seconds(number_field(body, "interval_s"), "interval_s");
    if (*interval < milliseconds(10)) throw http_error(400, "\"interval_s\" must be >= 0.01");
  }
  std::optional<bool> enabled;
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean())
      throw http_error(400, "\"enabled\" must be a boolean, got " +
                                std::string(json_type_name(body["enabled"])));
    enabled = body["enabled"].get<bool>();
  }
  if (interval) c.e.set_interval(i, *interval);
  if (enabled) c.e.set_machine_enabled(i, *enabled);
  return json_response(200, machine_json(c.e.machine(i), c.e.status().state, true));
}

control_response get_faults(call& c) {
  const std::size_t i = c.e.machine_index(c.params.at(0));
  const machine_status m = c.e.machine(i);
  json out = json::array();
  for (const auto& f : m.active_faults) out.push_back(fault_json(f, m.config->type, "active"));
  for (const auto& f : m.pending_faults) out.push_back(fault_json(f, m.config->type, "pending"));
  return json_response(200, out);
}

control_response post_fault(call& c) {
  refuse_when_over(c);
  const std::size_t i = c.e.machine_index(c.params.at(0));
  const machine_status m = c.e.machine(i);
  const json body = parse_body(c, false);
  check_keys(body, {"type", "severity", "duration_s", "signal"});
  if (!body.contains("type")) throw http_error(400, "\"type\" is required");
  if (!body["type"].is_string())
    throw http_error(400,
                     "\"type\" must be a string, got " + std::string(json_type_name(body["type"])));
  const std::string type_name = body["type"].get<std::string>();
  const auto type = machines::parse_fault_type(type_name);
  if (!type) {
    std::string names;
    for (auto t : machines::all_fault_types)
      names += (names.empty() ? "" : ", ") + std::string(machines::to_string(t));
    throw http_error(400, "unknown fault type \"" + type_name + "\" (one of: " + names + ")");
  }
  if (!machines::fault_applies(*type, m.config->type))
    throw http_error(400, type_name + " does not apply to a " +
                              std::string(machines::to_string(m.config->type)));
  if (!body.contains("severity")) throw http_error(400, "\"severity\" is required (0..1)");
  const double severity = number_field(body, "severity");
  if (severity < 0 || severity > 1)
    throw http_error(400, "\"severity\" must be within 0..1, got " + body["severity"].dump());
  std::optional<milliseconds> duration;
  if (body.contains("duration_s") && !body["duration_s"].is_null())
    duration = positive_seconds(number_field(body, "duration_s"), "duration_s");
  std::string signal;
  if (body.contains("signal") && !body["signal"].is_null()) {
    if (!body["signal"].is_string())
      throw http_error(
          400, "\"signal\" must be a string, got " + std::string(json_type_name(body["signal"])));
    signal = body["signal"].get<std::string>();
    if (!machines::is_generic(*type))
      throw http_error(400,
                       "only generic faults (spike, dip, drift, stuck_sensor, dropout, "
                       "noise_burst) take a signal; " +
                           type_name + " does not");
    if (std::find(machines::fault_signal_names.begin(), machines::fault_signal_names.end(),
                  signal) == machines::fault_signal_names.end())
      throw http_error(400, "unknown signal \"" + signal + "\" (a payload key such as power_kw)");
  }
  const std::uint64_t id = c.e.inject_fault(i, *type, severity, duration, signal);
  const machine_status after = c.e.machine(i);
  json body_out;
  for (const auto& f : after.pending_faults)
    if (f.id == id) body_out = fault_json(f, m.config->type, "pending");
  for (const auto& f : after.active_faults)
    if (f.id == id) body_out = fault_json(f, m.config->type, "active");
  if (body_out.is_null()) body_out = {{"fault_id", id}};
  body_out["machine_id"] = m.config->id;
  control_response r = json_response(201, body_out);
  r.headers.emplace_back("Location", "/machines/" + m.config->id + "/faults/" + std::to_string(id));
  return r;
}

std::uint64_t fault_id_param(const std::string& text) {
  std::uint64_t id = 0;
  const auto* end = text.data() + text.size();
  const auto res = std::from_chars(text.data(), end, id);
  if (text.empty() || res.ec != std::errc{} || res.ptr != end || id == 0)
    throw http_error(400, "fault id must be a positive integer, got \"" + text + "\"");
  return id;
}

control_response get_fault(call& c) {
  const std::size_t i = c.e.machine_index(c.params.at(0));
  const std::uint64_t id = fault_id_param(c.params.at(1));
  const machine_status m = c.e.machine(i);
  for (const auto& f : m.active_faults)
    if (f.id == id) return json_response(200, fault_json(f, m.config->type, "active"));
  for (const auto& f : m.pending_faults)
    if (f.id == id) return json_response(200, fault_json(f, m.config->type, "pending"));
  throw http_error(404, "no active or pending fault " + std::to_string(id) + " on " + m.config->id);
}

control_response delete_fault(call& c) {
  refuse_when_over(c);
  const std::size_t i = c.e.machine_index(c.params.at(0));
  const std::uint64_t id = fault_id_param(c.params.at(1));
  c.e.clear_fault(i, id);  // not_found -> 404
  return json_response(200, {{"cleared", 1}, {"fault_ids", {id}}});
}

control_response delete_faults(call& c) {
  refuse_when_over(c);
  const std::size_t i = c.e.machine_index(c.params.at(0));
  std::vector<std::uint64_t> ids;
  const machine_status m = c.e.machine(i);
  for (const auto& f : m.active_faults) ids.push_back(f.id);
  for (const auto& f : m.pending_faults) ids.push_back(f.id);
  const std::size_t n = c.e.clear_faults(i);
  return json_response(200, {{"cleared", n}, {"fault_ids", ids}});
}

control_response get_metrics(call& c) {
  control_response r;
  r.status = 200;
  r.content_type = std::string(metrics_content_type);
  r.body = render_metrics(c.e, c.stats);
  return r;
}

control_response get_openapi(call&) {
  control_response r;
  r.status = 200;
  r.body = openapi_document();
  return r;
}

using handler = control_response (*)(call&);

struct route_entry {
  control_route route;
  handler fn;
};

constexpr route_entry route_table[] = {
    {{"GET", "/health", "Liveness: the endpoint answers and the run's state"}, get_health},
    {{"GET", "/status", "Run state, mode, simulated time, speed, uptime and counters"}, get_status},
    {{"POST", "/start", "Start machines (all, or those named by factory_ids / machine_ids)"},
     post_start},
    {{"POST", "/stop", "Stop machines: status offline, no readings (the process keeps running)"},
     post_stop},
    {{"POST", "/pause", "Pause the whole run (or, with ids, stop those machines)"}, post_pause},
    {{"POST", "/resume", "Resume the whole run (or, with ids, start those machines)"}, post_resume},
    {{"POST", "/shutdown", "End the run: final offline status, flush, exit 0"}, post_shutdown},
    {{"PUT", "/speed", "Change the accelerated clock's speed"}, put_speed},
    {{"GET", "/factories", "The factories and their machine ids"}, get_factories},
    {{"GET", "/machines", "Every machine (filters: factory_id, type)"}, get_machines},
    {{"GET", "/machines/{id}", "One machine: state, interval, last reading, totals, faults"},
     get_machine},
    {{"PATCH", "/machines/{id}", "Change one machine's interval_s and/or enabled"}, patch_machine},
    {{"GET", "/machines/{id}/faults", "Active and pending faults of a machine"}, get_faults},
    {{"POST", "/machines/{id}/faults", "Inject a fault now"}, post_fault},
    {{"DELETE", "/machines/{id}/faults", "Clear every fault of a machine"}, delete_faults},
    {{"GET", "/machines/{id}/faults/{fault_id}", "One active or pending fault"}, get_fault},
    {{"DELETE", "/machines/{id}/faults/{fault_id}", "Clear one fault"}, delete_fault},
    {{"GET", "/metrics", "Prometheus text exposition format 0.0.4"}, get_metrics},
    {{"GET", "/openapi.json", "This API as an OpenAPI 3.0 document"}, get_openapi},
};

constexpr auto routes_only = [] {
  std::array<control_route, std::size(route_table)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = route_table[i].route;
  return out;
}();

}  // namespace

bool bearer_matches(std::string_view authorization, std::string_view token) noexcept {
  constexpr std::string_view scheme = "Bearer ";
  if (token.empty()) return false;
  // Every byte of the longer string is looked at, whatever matched before.
  const std::size_t n = std::max(authorization.size(), scheme.size() + token.size());
  unsigned diff = authorization.size() == scheme.size() + token.size() ? 0u : 1u;
  for (std::size_t k = 0; k < n; ++k) {
    const unsigned char want = k < scheme.size() ? static_cast<unsigned char>(scheme[k])
                               : k - scheme.size() < token.size()
                                   ? static_cast<unsigned char>(token[k - scheme.size()])
                                   : 0u;
    const unsigned char got =
        k < authorization.size() ? static_cast<unsigned char>(authorization[k]) : 0u;
    diff |= static_cast<unsigned>(want ^ got);
  }
  return diff == 0;
}

control_response control_error_response(unsigned status, std::string_view detail) {
  return json_response(status, {{"error", error_name(status)}, {"detail", detail}});
}

control_router::control_router(engine& e, control_router_options options)
    : engine_(e), options_(std::move(options)) {}

std::span<const control_route> control_router::routes() noexcept {
  return routes_only;
}

control_stats control_router::stats() const {
  control_stats s = stats_;
  if (connection_stats_) connection_stats_(s);
  return s;
}

control_response control_router::handle(const control_request& request) {
  control_response r;
  try {
    r = dispatch(request);
  } catch (const std::exception& e) {
    r = control_error_response(500, std::string("internal error: ") + e.what());
  }
  ++stats_.responses[r.status];
  return r;
}

control_response control_router::dispatch(const control_request& request) {
  try {
    // Before anything else, even a 404: a rebinding page must not learn which paths exist.
    if (request.host.empty()) throw http_error(400, "the Host header is required");
    if (!host_allowed(request.host, options_.hosts))
      throw http_error(421, "Host \"" + request.host +
                                "\" does not name this endpoint (use 127.0.0.1, [::1], localhost "
                                "or the address it listens on)");
    if (!origin_allowed(request.origin, request.host, options_.hosts))
      throw http_error(403, "Origin \"" + request.origin +
                                "\" is another site: the control API does not answer web pages "
                                "of other origins");
    const parsed_target target = parse_target(request.target);
    std::vector<std::string> params;
    const route_entry* found = nullptr;
    std::string allow;
    for (const auto& entry : route_table) {
      if (!match(entry.route.path, target.segments, params)) continue;
      if (entry.route.method == request.method) {
        found = &entry;
        break;
      }
      if (allow.find(entry.route.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + std::string(entry.route.method);
    }
    if (found == nullptr) {
      if (allow.empty()) throw http_error(404, "no such path: " + request.target);
      control_response r =
          control_error_response(405, "method " + request.method +
                                          " is not allowed on this path (allowed: " + allow + ")");
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    // match() clobbers params on the routes tried after a hit; find them again.
    match(found->route.path, target.segments, params);
    if (is_mutating(request.method) && !options_.token.empty() &&
        !bearer_matches(request.authorization, options_.token)) {
      control_response r = control_error_response(
          401, request.authorization.empty() ? "this request needs Authorization: Bearer <token>"
                                             : "the bearer token is not valid");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"factorysim\"");
      return r;
    }
    if (is_mutating(request.method) && !is_json_content_type(request.content_type))
      throw http_error(
          415, request.content_type.empty()
                   ? "a change needs Content-Type: application/json"
                   : "a change needs Content-Type: application/json, got " + request.content_type);
    if (request.body.size() > options_.body_limit)
      throw http_error(413, "the body has " + std::to_string(request.body.size()) +
                                " bytes; the limit is " + std::to_string(options_.body_limit));
    const control_stats current = stats();
    call c{engine_, options_, request, target, std::move(params), current};
    return found->fn(c);
  } catch (const http_error& e) {
    return control_error_response(e.status, e.what());
  } catch (const control_error& e) {
    switch (e.which()) {
      case control_error::code::not_found:
        return control_error_response(404, e.what());
      case control_error::code::invalid_argument:
        return control_error_response(400, e.what());
      case control_error::code::conflict:
        return control_error_response(409, e.what());
    }
    return control_error_response(500, e.what());
  } catch (const nlohmann::json::exception& e) {
    return control_error_response(400, e.what());
  }
}

}  // namespace factorysim::control
