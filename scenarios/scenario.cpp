// The scenario schema: which keys exist, their types, defaults and ranges, and the checks that
// tie sections together (a machine's factory, a fault's machine, unique ids and topics).
// Every key here is documented in docs/scenarios.md; change both together.
#include "scenarios/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "scenarios/local_clock.hpp"
#include "scenarios/text_formats.hpp"
#include "scenarios/yaml_checker.hpp"

namespace factorysim::scenarios {

std::string_view to_string(time_mode m) noexcept {
  switch (m) {
    case time_mode::realtime:
      return "realtime";
    case time_mode::accelerated:
      return "accelerated";
    case time_mode::backfill:
      return "backfill";
  }
  return "realtime";
}

std::optional<machines::machine_type> parse_machine_type_name(std::string_view s) noexcept {
  if (s == "conveyor") return machines::machine_type::motor;  // docs/plant.md's belt line
  return machines::parse_machine_type(s);
}

std::optional<time_mode> parse_time_mode(std::string_view s) noexcept {
  if (s == "realtime") return time_mode::realtime;
  if (s == "accelerated") return time_mode::accelerated;
  if (s == "backfill") return time_mode::backfill;
  return std::nullopt;
}

std::string scenario_problem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

namespace {

std::string join_problems(const std::vector<scenario_problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out.empty() ? "invalid scenario" : out;
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string{s} + "\"";
}

constexpr std::string_view machine_type_names = machine_type_spellings;

std::string fault_type_names() {
  std::string out;
  for (auto f : machines::all_fault_types) {
    if (!out.empty()) out += ", ";
    out += machines::to_string(f);
  }
  return out;
}

std::string fault_types_for(machines::machine_type m) {
  std::string out;
  for (auto f : machines::all_fault_types)
    if (machines::fault_applies(f, m)) {
      if (!out.empty()) out += ", ";
      out += machines::to_string(f);
    }
  return out;
}

/// Replica numbers are zero-padded to at least five digits: Compressor-00001.
std::string replica_suffix(std::size_t k, std::size_t n) {
  std::size_t width = 5;
  for (std::size_t v = n; v >= 100000; v /= 10) ++width;
  std::string digits = std::to_string(k);
  return std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

std::string file_stem(const std::string& file) {
  std::string stem =
      file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  if (const auto dot = stem.find_last_of('.'); dot != std::string::npos && dot > 0)
    stem.resize(dot);
  return stem;
}

class scenario_reader {
 public:
  scenario_reader(const std::string& file, const load_options& options)
      : c_(file), options_(options) {}

  std::vector<scenario_problem> take_problems() { return c_.take_problems(); }

  void read(const YAML::Node& root, scenario& s) {
    if (root.IsNull() || !root.IsDefined()) {
      c_.report(YAML::Mark{}, "", "empty scenario: expected a map with factories and machines");
      return;
    }
    if (!c_.check_map(root, "",
                      {"name", "description", "seed", "time", "mqtt", "factories", "carbon_factors",
                       "machines", "faults", "random_faults", "simulation",
                       "bench"}))  // bench: read by `factorysim bench` (benchrun/rate_profile)
      return;
    if (auto v = c_.get_string(root, "name", "", false, false)) s.name = *v;
    c_.get_string(root, "description", "");
    if (const YAML::Node n = c_.field(root, "seed", ""); n.IsDefined())
      if (auto v = c_.unsigned_value(n, "seed")) s.seed = *v;
    if (const YAML::Node n = c_.field(root, "time", ""); n.IsDefined()) read_time(n, s);
    if (const YAML::Node n = c_.field(root, "mqtt", ""); n.IsDefined()) read_mqtt(n, s.mqtt);
    if (const YAML::Node n = c_.field(root, "simulation", ""); n.IsDefined()) {
      if (c_.check_map(n, "simulation", {"truth"}))
        if (auto v = c_.get_bool(n, "truth", "simulation")) s.truth = *v;
    }
    if (const YAML::Node n = c_.field(root, "carbon_factors", ""); n.IsDefined())
      read_carbon_factors(n, s);
    if (const YAML::Node n = c_.field(root, "factories", "", true); n.IsDefined())
      read_factories(n, s);
    if (const YAML::Node n = c_.field(root, "machines", "", true); n.IsDefined())
      read_machines(n, s);
    if (const YAML::Node n = c_.field(root, "faults", ""); n.IsDefined()) read_faults(n, s);
    if (const YAML::Node n = c_.field(root, "random_faults", ""); n.IsDefined())
      read_random_faults(n, s);
  }

 private:
  // ------------------------------------------------------------------------------ time, mqtt
  void read_time(const YAML::Node& n, scenario& s) {
    const std::string path = "time";
    if (!c_.check_map(n, path, {"mode", "speed", "from", "to"})) return;
    if (const YAML::Node m = c_.field(n, "mode", path); m.IsDefined()) {
      const std::string mode_path = join_path(path, "mode");
      if (auto text = c_.string_value(m, mode_path)) {
        if (auto mode = parse_time_mode(*text))
          s.mode = *mode;
        else
          c_.report(m, mode_path,
                    "must be one of realtime, accelerated, backfill, got " + in_quotes(*text));
      }
    }
    if (auto v = c_.get_number(n, "speed", path, above_up_to(0, 1e6))) s.speed = *v;
    s.from = c_.get_time(n, "from", path);
    s.to = c_.get_time(n, "to", path);
    const bool from_given = c_.field(n, "from", path).IsDefined();
    const bool to_given = c_.field(n, "to", path).IsDefined();
    if (s.mode == time_mode::backfill) {
      if (!from_given) c_.report(n, "time.from", "backfill mode needs from (RFC 3339 start)");
      if (!to_given) c_.report(n, "time.to", "backfill mode needs to (RFC 3339 end)");
    }
    if (s.from && s.to && *s.to <= *s.from)
      c_.report(c_.field(n, "to", path), "time.to",
                "must be after time.from (" + format_rfc3339(*s.from) + "), got " +
                    c_.field(n, "to", path).Scalar());
  }

  void read_mqtt(const YAML::Node& n, mqtt_settings& m) {
    const std::string path = "mqtt";
    if (!c_.check_map(n, path,
                      {"host", "port", "qos", "client", "version", "client_id", "username",
                       "password", "credentials_file", "tls", "keepalive_s", "max_inflight",
                       "retain_status", "reconnect_min_s", "reconnect_max_s",
                       "sessions_per_machine_limit", "shared_sessions", "stamp_send_time"}))
      return;
    if (auto v = c_.get_string(n, "host", path, false, false)) m.host = *v;
    if (auto v = c_.get_integer(n, "port", path, between(1, 65535))) m.port = static_cast<int>(*v);
    if (auto v = c_.get_integer(n, "qos", path, between(0, 2))) m.qos = static_cast<int>(*v);
    if (const YAML::Node c = c_.field(n, "client", path); c.IsDefined()) {
      const std::string v = c.IsScalar() ? c.Scalar() : std::string();
      if (v == "native") {
        m.client = mqtt_client_kind::native;
      } else if (v == "libmosquitto") {
        m.client = mqtt_client_kind::libmosquitto;
      } else {
        c_.report(c, "mqtt.client", "must be native or libmosquitto, got '" + v + "'");
      }
    }
    if (const YAML::Node c = c_.field(n, "version", path); c.IsDefined()) {
      // 3.1.1 reads as a string in YAML, 5 as a number: both are spelled as people write them.
      const std::string v = c.IsScalar() ? c.Scalar() : std::string();
      if (v == "5" || v == "5.0") {
        m.protocol_version = 5;
      } else if (v == "3.1.1") {
        m.protocol_version = 4;
      } else {
        c_.report(c, "mqtt.version", "must be 5 or 3.1.1, got '" + v + "'");
      }
    }
    if (auto v = c_.get_string(n, "credentials_file", path, false, false)) m.credentials_file = *v;
    if (auto v = c_.get_string(n, "client_id", path, false, false)) m.client_id = *v;
    if (auto v = c_.get_string(n, "username", path)) m.username = *v;
    if (auto v = c_.get_string(n, "password", path)) m.password = *v;
    if (auto v = c_.get_integer(n, "keepalive_s", path, between(5, 65535)))
      m.keepalive_s = static_cast<int>(*v);
    if (auto v = c_.get_integer(n, "max_inflight", path, between(1, 65535)))
      m.max_inflight = static_cast<int>(*v);
    if (auto v = c_.get_bool(n, "retain_status", path)) m.retain_status = *v;
    if (auto v = c_.get_bool(n, "stamp_send_time", path)) m.stamp_send_time = *v;
    if (auto v = c_.get_number(n, "reconnect_min_s", path, above_up_to(0, 3600)))
      m.reconnect_min_s = *v;
    if (auto v = c_.get_number(n, "reconnect_max_s", path, above_up_to(0, 3600)))
      m.reconnect_max_s = *v;
    if (auto v = c_.get_integer(n, "sessions_per_machine_limit", path, between(0, 1024)))
      m.sessions_per_machine_limit = static_cast<int>(*v);
    if (auto v = c_.get_integer(n, "shared_sessions", path, between(1, 256)))
      m.shared_sessions = static_cast<int>(*v);
    if (m.reconnect_max_s < m.reconnect_min_s)
      c_.report(c_.field(n, "reconnect_max_s", path).IsDefined()
                    ? c_.field(n, "reconnect_max_s", path)
                    : n,
                "mqtt.reconnect_max_s", "must be >= reconnect_min_s");
    if (m.password.size() > 0 && m.username.empty())
      c_.report(c_.field(n, "password", path), "mqtt.password", "needs mqtt.username");
    if (const YAML::Node t = c_.field(n, "tls", path); t.IsDefined()) {
      const std::string tls_path = "mqtt.tls";
      if (c_.check_map(t, tls_path,
                       {"ca_file", "cert_file", "key_file", "server_name", "insecure"})) {
        tls_settings tls;
        if (auto v = c_.get_string(t, "ca_file", tls_path, false, false)) tls.ca_file = *v;
        if (auto v = c_.get_string(t, "cert_file", tls_path, false, false)) tls.cert_file = *v;
        if (auto v = c_.get_string(t, "key_file", tls_path, false, false)) tls.key_file = *v;
        if (auto v = c_.get_string(t, "server_name", tls_path, false, false)) tls.server_name = *v;
        if (auto v = c_.get_bool(t, "insecure", tls_path)) tls.insecure = *v;
        if (tls.cert_file.empty() != tls.key_file.empty())
          c_.report(t, tls_path, "cert_file and key_file go together (client certificate)");
        m.tls = tls;
      }
    }
  }

  // --------------------------------------------------------------------------- factories
  void read_carbon_factors(const YAML::Node& n, scenario& s) {
    if (!c_.check_list(n, "carbon_factors")) return;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string path = index_path("carbon_factors", i);
      if (!c_.check_map(e, path, {"region", "kg_co2_per_kwh"})) continue;
      carbon_factor f;
      if (auto v = c_.get_string(e, "region", path, true, false)) {
        f.region = *v;
        if (!carbon_regions_.insert(f.region).second)
          c_.report(c_.field(e, "region", path), join_path(path, "region"),
                    "duplicate region " + in_quotes(f.region));
      }
      if (auto v = c_.get_number(e, "kg_co2_per_kwh", path, between(0, 5), true))
        f.kg_co2_per_kwh = *v;
      s.carbon_factors.push_back(std::move(f));
    }
  }

  std::optional<std::array<bool, 7>> read_days(const YAML::Node& n, const std::string& path) {
    if (!c_.check_list(n, path)) return std::nullopt;
    static constexpr std::string_view short_names[] = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};
    static constexpr std::string_view long_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                                      "thursday", "friday", "saturday"};
    std::array<bool, 7> days{};
    bool ok = true;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node d = n[i];
      const std::string day_path = index_path(path, i);
      int day = -1;
      if (d.IsScalar()) {
        std::string text = d.Scalar();
        for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (text.size() == 1 && text[0] >= '0' && text[0] <= '6') day = text[0] - '0';
        for (int k = 0; k < 7; ++k)
          if (text == short_names[k] || text == long_names[k]) day = k;
      }
      if (day < 0) {
        c_.report(d, day_path,
                  "must be a day 0..6 (0 = Sunday) or a name sun..sat, got " + describe(d));
        ok = false;
        continue;
      }
      days[static_cast<std::size_t>(day)] = true;
    }
    if (!ok) return std::nullopt;
    return days;
  }

  std::optional<int> clock_minutes(const YAML::Node& map, std::string_view key,
                                   const std::string& path, bool required, bool allow_24) {
    const YAML::Node n = c_.field(map, key, path, required);
    if (!n.IsDefined()) return std::nullopt;
    const auto minutes = n.IsScalar() ? parse_clock_minutes(n.Scalar()) : std::nullopt;
    if (!minutes || (!allow_24 && *minutes == 24 * 60)) {
      c_.report(n, join_path(path, key),
                std::string("must be a local clock time HH:MM from 00:00 to ") +
                    (allow_24 ? "24:00" : "23:59") + ", got " + describe(n));
      return std::nullopt;
    }
    return minutes;
  }

  void read_calendar(const YAML::Node& n, const std::string& path, machines::calendar& cal) {
    if (!c_.check_map(n, path,
                      {"shifts", "breaks", "working_days", "off_shift_load", "weekend_load",
                       "holiday_load", "holidays"}))
      return;
    if (const YAML::Node shifts = c_.field(n, "shifts", path); shifts.IsDefined()) {
      const std::string shifts_path = join_path(path, "shifts");
      if (c_.check_list(shifts, shifts_path))
        for (std::size_t i = 0; i < shifts.size(); ++i) {
          const YAML::Node e = shifts[i];
          const std::string p = index_path(shifts_path, i);
          if (!c_.check_map(e, p, {"name", "start", "end", "load"})) continue;
          machines::shift sh;
          sh.name =
              c_.get_string(e, "name", p, false, false).value_or("shift-" + std::to_string(i + 1));
          const auto start = clock_minutes(e, "start", p, true, false);
          const auto end = clock_minutes(e, "end", p, true, true);
          if (start && end && *start == *end % (24 * 60))
            c_.report(c_.field(e, "end", p), join_path(p, "end"),
                      "must differ from start (a shift of 0 or 24 hours); leave shifts empty for "
                      "round-the-clock work");
          sh.start_minute = start.value_or(0);
          sh.end_minute = end.value_or(0);
          if (auto v = c_.get_number(e, "load", p, between(0, 1))) sh.load = *v;
          cal.shifts.push_back(std::move(sh));
        }
    }
    if (const YAML::Node breaks = c_.field(n, "breaks", path); breaks.IsDefined()) {
      const std::string breaks_path = join_path(path, "breaks");
      if (c_.check_list(breaks, breaks_path))
        for (std::size_t i = 0; i < breaks.size(); ++i) {
          const YAML::Node e = breaks[i];
          const std::string p = index_path(breaks_path, i);
          if (!c_.check_map(e, p, {"start", "duration", "load"})) continue;
          machines::break_period b;
          b.start_minute = clock_minutes(e, "start", p, true, false).value_or(0);
          if (auto d = c_.get_duration(e, "duration", p, std::chrono::minutes{1}, true)) {
            if (d->count() % 60'000 != 0 || *d >= std::chrono::hours{24})
              c_.report(c_.field(e, "duration", p), join_path(p, "duration"),
                        "must be whole minutes, less than 24h, got " + format_duration(*d));
            b.duration_min = static_cast<int>(d->count() / 60'000);
          }
          if (auto v = c_.get_number(e, "load", p, between(0, 1))) b.load = *v;
          cal.breaks.push_back(b);
        }
    }
    if (const YAML::Node d = c_.field(n, "working_days", path); d.IsDefined())
      if (auto days = read_days(d, join_path(path, "working_days"))) cal.working_days = *days;
    if (auto v = c_.get_number(n, "off_shift_load", path, between(0, 1))) cal.off_shift_load = *v;
    if (auto v = c_.get_number(n, "weekend_load", path, between(0, 1))) cal.weekend_load = *v;
    if (auto v = c_.get_number(n, "holiday_load", path, between(0, 1))) cal.holiday_load = *v;
    if (const YAML::Node h = c_.field(n, "holidays", path); h.IsDefined()) {
      const std::string h_path = join_path(path, "holidays");
      if (c_.check_list(h, h_path))
        for (std::size_t i = 0; i < h.size(); ++i) {
          const YAML::Node e = h[i];
          const auto date = e.IsScalar() ? parse_civil_date(e.Scalar()) : std::nullopt;
          if (date)
            cal.holidays.push_back(*date);
          else
            c_.report(e, index_path(h_path, i),
                      "must be a date YYYY-MM-DD such as 2024-12-25, got " + describe(e));
        }
    }
  }

  void read_climate(const YAML::Node& n, const std::string& path, machines::climate& cl) {
    if (!c_.check_map(n, path,
                      {"annual_mean_c", "annual_amplitude_c", "coldest_day_of_year",
                       "daily_amplitude_c", "warmest_hour", "weather_noise_c",
                       "humidity_mean_percent", "humidity_amplitude_percent"}))
      return;
    if (auto v = c_.get_number(n, "annual_mean_c", path, between(-60, 60))) cl.annual_mean_c = *v;
    if (auto v = c_.get_number(n, "annual_amplitude_c", path, between(0, 40)))
      cl.annual_amplitude_c = *v;
    if (auto v = c_.get_integer(n, "coldest_day_of_year", path, between(0, 365)))
      cl.coldest_day_of_year = static_cast<int>(*v);
    if (auto v = c_.get_number(n, "daily_amplitude_c", path, between(0, 30)))
      cl.daily_amplitude_c = *v;
    if (auto v = c_.get_number(n, "warmest_hour", path, {0, 24, false, true}))
      cl.warmest_minute_of_day = *v * 60;
    if (auto v = c_.get_number(n, "weather_noise_c", path, between(0, 20))) cl.weather_noise_c = *v;
    if (auto v = c_.get_number(n, "humidity_mean_percent", path, between(0, 100)))
      cl.humidity_mean_percent = *v;
    if (auto v = c_.get_number(n, "humidity_amplitude_percent", path, between(0, 50)))
      cl.humidity_amplitude_percent = *v;
  }

  void read_tariffs(const YAML::Node& n, const std::string& path, std::vector<tariff>& out) {
    if (!c_.check_list(n, path)) return;
    bool have_flat = false;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string p = index_path(path, i);
      if (!c_.check_map(e, p,
                        {"name", "rate_per_kwh", "currency", "time_of_use", "start_hour",
                         "end_hour", "days", "demand_charge_per_kw"}))
        continue;
      tariff t;
      t.name =
          c_.get_string(e, "name", p, false, false).value_or("tariff-" + std::to_string(i + 1));
      if (auto v = c_.get_number(e, "rate_per_kwh", p, between(0, 100), true)) t.rate_per_kwh = *v;
      if (auto v = c_.get_string(e, "currency", p)) {
        const bool ok = v->size() == 3 && std::all_of(v->begin(), v->end(), [](char ch) {
                          return ch >= 'A' && ch <= 'Z';
                        });
        if (ok)
          t.currency = *v;
        else
          c_.report(c_.field(e, "currency", p), join_path(p, "currency"),
                    "must be an ISO 4217 code such as USD or EUR, got " + in_quotes(*v));
      }
      if (auto v = c_.get_bool(e, "time_of_use", p)) t.is_time_of_use = *v;
      const auto start = c_.get_integer(e, "start_hour", p, between(0, 23));
      const auto end = c_.get_integer(e, "end_hour", p, between(1, 24));
      if (start) t.start_hour = static_cast<int>(*start);
      if (end) t.end_hour = static_cast<int>(*end);
      if (const YAML::Node d = c_.field(e, "days", p); d.IsDefined())
        if (auto days = read_days(d, join_path(p, "days"))) {
          for (int k = 0; k < 7; ++k)
            if ((*days)[static_cast<std::size_t>(k)]) t.applicable_days.push_back(k);
        }
      if (auto v = c_.get_number(e, "demand_charge_per_kw", p, between(0, 1000)))
        t.demand_charge_per_kw = *v;
      if (t.is_time_of_use) {
        if (t.end_hour <= t.start_hour)
          c_.report(c_.field(e, "end_hour", p).IsDefined() ? c_.field(e, "end_hour", p) : e,
                    join_path(p, "end_hour"),
                    "must be > start_hour (" + std::to_string(t.start_hour) + "), got " +
                        std::to_string(t.end_hour) + "; split a window that wraps midnight");
      } else {
        for (std::string_view key : {"start_hour", "end_hour", "days"})
          if (const YAML::Node k = c_.field(e, key, p); k.IsDefined())
            c_.report(k, join_path(p, key), "only applies with time_of_use: true");
        if (have_flat)
          c_.report(e, p, "a factory has at most one flat tariff (time_of_use: false)");
        have_flat = true;
      }
      out.push_back(std::move(t));
    }
  }

  void read_factories(const YAML::Node& n, scenario& s) {
    if (!c_.check_list(n, "factories")) return;
    if (n.size() == 0) c_.report(n, "factories", "must list at least one factory");
    std::unordered_map<std::string, std::string> names;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string path = index_path("factories", i);
      if (!c_.check_map(e, path,
                        {"id", "name", "location", "timezone", "carbon_region", "grid", "calendar",
                         "climate", "tariffs"}))
        continue;
      factory f;
      if (auto id = c_.get_uuid(e, "id", path, true)) {
        f.id = *id;
        const auto [it, inserted] = factory_index_.emplace(f.id, s.factories.size());
        if (!inserted)
          c_.report(c_.field(e, "id", path), join_path(path, "id"),
                    "duplicate factory id " + f.id + " (first used by " +
                        index_path("factories", it->second) + ")");
      }
      if (auto v = c_.get_string(e, "name", path, true, false)) {
        f.name = *v;
        const auto [it, inserted] = names.emplace(f.name, path);
        if (!inserted)
          c_.report(c_.field(e, "name", path), join_path(path, "name"),
                    "duplicate factory name " + in_quotes(f.name) + " (first used by " +
                        it->second + ")");
      }
      if (auto v = c_.get_string(e, "location", path)) f.location = *v;
      if (auto v = c_.get_string(e, "timezone", path, false, false)) {
        if (local_clock::valid_zone(*v))
          f.timezone = *v;
        else
          c_.report(c_.field(e, "timezone", path), join_path(path, "timezone"),
                    "unknown time zone " + in_quotes(*v) + " (an IANA name such as Europe/Berlin)");
      }
      if (auto v = c_.get_string(e, "carbon_region", path, false, false)) {
        f.carbon_region = *v;
        if (!carbon_regions_.contains(*v))
          c_.report(c_.field(e, "carbon_region", path), join_path(path, "carbon_region"),
                    "no carbon_factors entry has region " + in_quotes(*v));
      }
      if (auto v = c_.get_string(e, "grid", path, false, false)) f.grid = *v;
      if (const YAML::Node c = c_.field(e, "calendar", path); c.IsDefined())
        read_calendar(c, join_path(path, "calendar"), f.calendar);
      if (const YAML::Node c = c_.field(e, "climate", path); c.IsDefined())
        read_climate(c, join_path(path, "climate"), f.climate);
      if (const YAML::Node t = c_.field(e, "tariffs", path); t.IsDefined())
        read_tariffs(t, join_path(path, "tariffs"), f.tariffs);
      s.factories.push_back(std::move(f));
    }
  }

  // ---------------------------------------------------------------------------- machines
  struct machine_entry {
    std::size_t first = 0;  ///< into scenario::machines
    std::size_t count = 0;  ///< replicas
    bool type_known = false;
    machines::machine_type type = machines::machine_type::compressor;
  };

  std::optional<std::string> read_topic(const YAML::Node& e, const std::string& path) {
    const YAML::Node n = c_.field(e, "topic", path, true);
    if (!n.IsDefined()) return std::nullopt;
    const std::string p = join_path(path, "topic");
    auto topic = c_.string_value(n, p, false);
    if (!topic) return std::nullopt;
    std::string why;
    if (topic->find_first_of("+#") != std::string::npos)
      why = "must not contain the wildcards + or #";
    else if (topic->front() == '$')
      why = "must not start with $ (reserved for the broker)";
    else if (topic->front() == '/' || topic->back() == '/' ||
             topic->find("//") != std::string::npos)
      why = "must not start or end with / or contain an empty level";
    else if (topic->find('\0') != std::string::npos || topic->size() > 60000)
      why = "must be at most 60000 bytes without NUL";
    if (!why.empty()) {
      c_.report(n, p, why + ", got " + in_quotes(*topic));
      return std::nullopt;
    }
    return topic;
  }

  void read_parameters(const YAML::Node& n, const std::string& path, machines::machine_type type,
                       machines::model_params& params) {
    if (!n.IsMap()) {
      c_.report(n, path, "must be a map, got " + describe(n));
      return;
    }
    const auto fields = machines::param_fields(type);
    std::vector<std::string_view> keys;
    for (const auto& f : fields) keys.push_back(f.key);
    std::unordered_set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node key = it->first;
      const std::string name = key.IsScalar() ? key.Scalar() : std::string{};
      const std::string p = join_path(path, name);
      const auto field =
          std::find_if(fields.begin(), fields.end(),
                       [&](const machines::param_field& f) { return f.key == name; });
      if (field == fields.end()) {
        std::string message = "unknown parameter " + in_quotes(name) + " for " +
                              std::string{machines::to_string(type)} + " machines";
        if (const auto suggestion = closest_name(name, keys); !suggestion.empty())
          message += " (did you mean " + in_quotes(suggestion) + "?)";
        c_.report(key, p, std::move(message));
        continue;
      }
      if (!seen.insert(name).second) {
        c_.report(key, p, "duplicate key " + in_quotes(name));
        continue;
      }
      if (auto v = c_.number_value(it->second, p, between(field->min, field->max))) {
        // param_field has no integer flag; machines marks counts "(whole number)" in its doc.
        if (field->doc.find("whole number") != std::string_view::npos && *v != std::floor(*v)) {
          c_.report(it->second, p, "must be a whole number, got " + it->second.Scalar());
          continue;
        }
        machines::set_param(params, name, *v);
      }
    }
  }

  /// "bearing, air_end, inlet_valve": the wearing components of a machine type.
  static std::string component_names(machines::machine_type type) {
    std::string out;
    for (auto c : machines::components_of(type)) {
      if (!out.empty()) out += ", ";
      out += machines::to_string(c);
    }
    return out;
  }

  /// A component name of this machine type, or nullopt after a reported problem.
  std::optional<machines::component> read_component(const YAML::Node& key, const std::string& p,
                                                    machines::machine_type type) {
    const std::string name = key.IsScalar() ? key.Scalar() : std::string{};
    const auto c = machines::parse_component(name);
    const auto own = machines::components_of(type);
    if (!c || std::find(own.begin(), own.end(), *c) == own.end()) {
      c_.report(key, p,
                "unknown component " + in_quotes(name) + " for " +
                    std::string{machines::to_string(type)} + " machines (one of " +
                    component_names(type) + ")");
      return std::nullopt;
    }
    return c;
  }

  void read_degradation(const YAML::Node& n, const std::string& path, machines::machine_type type,
                        machines::wear_config& w) {
    if (!c_.check_map(n, path, {"initial_wear", "life_scale", "unit_variation"})) return;
    if (const YAML::Node iw = c_.field(n, "initial_wear", path); iw.IsDefined()) {
      const std::string p = join_path(path, "initial_wear");
      if (iw.IsMap()) {
        for (auto it = iw.begin(); it != iw.end(); ++it) {
          const std::string cp = join_path(p, it->first.IsScalar() ? it->first.Scalar() : "");
          const auto c = read_component(it->first, cp, type);
          if (!c) continue;
          if (auto v = c_.number_value(it->second, cp, between(0, 0.99)))
            w.initial_wear[static_cast<std::size_t>(*c)] = static_cast<float>(*v);
        }
      } else if (auto v = c_.number_value(iw, p, between(0, 0.99))) {
        w.initial_wear.fill(static_cast<float>(*v));
      }
    }
    if (auto v = c_.get_number(n, "life_scale", path, above_up_to(0, 1000))) w.life_scale = *v;
    if (auto v = c_.get_number(n, "unit_variation", path, between(0, 2))) w.unit_variation = *v;
  }

  void read_maintenance(const YAML::Node& n, const std::string& path, machines::machine_type type,
                        machines::wear_config& w) {
    if (!c_.check_map(n, path, {"run_to_failure", "preventive", "corrective"})) return;
    if (auto v = c_.get_bool(n, "run_to_failure", path)) w.run_to_failure = *v;
    auto hours = [](std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 3.6e6; };
    if (const YAML::Node pm = c_.field(n, "preventive", path); pm.IsDefined()) {
      const std::string p = join_path(path, "preventive");
      if (c_.check_map(pm, p, {"every", "every_run_hours", "duration", "restore", "components"})) {
        if (auto d = c_.get_duration(pm, "every", p, std::chrono::minutes(1)))
          w.pm_every_h = hours(*d);
        if (auto v = c_.get_number(pm, "every_run_hours", p, above_up_to(0, 1e7)))
          w.pm_every_run_h = *v;
        if (w.pm_every_h == 0 && w.pm_every_run_h == 0)
          c_.report(pm, p, "needs every (a duration) or every_run_hours (or both)");
        if (auto d = c_.get_duration(pm, "duration", p)) w.pm_duration_h = hours(*d);
        if (auto v = c_.get_number(pm, "restore", p, between(0, 1))) w.pm_restore = *v;
        if (const YAML::Node cs = c_.field(pm, "components", p); cs.IsDefined()) {
          const std::string cp = join_path(p, "components");
          if (cs.IsScalar() && cs.Scalar() == "all") {
            w.pm_components.fill(true);
          } else if (cs.IsSequence()) {
            w.pm_components.fill(false);
            for (std::size_t i = 0; i < cs.size(); ++i)
              if (auto c = read_component(cs[i], index_path(cp, i), type))
                w.pm_components[static_cast<std::size_t>(*c)] = true;
          } else {
            c_.report(cs, cp, "must be all or a list of components, got " + describe(cs));
          }
        }
      }
    }
    if (const YAML::Node cm = c_.field(n, "corrective", path); cm.IsDefined()) {
      const std::string p = join_path(path, "corrective");
      if (c_.check_map(cm, p, {"response", "duration", "restore"})) {
        if (auto d = c_.get_duration(cm, "response", p)) w.repair_response_h = hours(*d);
        if (auto d = c_.get_duration(cm, "duration", p)) w.repair_duration_h = hours(*d);
        if (auto v = c_.get_number(cm, "restore", p, between(0, 1))) w.repair_restore = *v;
      }
    }
  }

  void read_machines(const YAML::Node& n, scenario& s) {
    if (!c_.check_list(n, "machines")) return;
    if (n.size() == 0) c_.report(n, "machines", "must list at least one machine");
    std::unordered_map<std::string, std::string> ids;     // expanded id -> first path
    std::unordered_map<std::string, std::string> topics;  // expanded topic -> first path
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string path = index_path("machines", i);
      if (!c_.check_map(
              e, path,
              {"id", "factory", "name", "type", "rated_power_kw", "rated_voltage_v",
               "rated_current_a", "rated_frequency_hz", "rated_power_factor", "interval", "topic",
               "critical", "parameters", "replicas", "degradation", "maintenance"}))
        continue;
      machines::machine_config m;
      machine_entry entry;
      const auto id = c_.get_uuid(e, "id", path, true);
      if (id) m.id = *id;

      if (const YAML::Node f = c_.field(e, "factory", path, s.factories.size() != 1);
          f.IsDefined()) {
        if (auto fid = c_.uuid_value(f, join_path(path, "factory"))) {
          m.factory_id = *fid;
          if (!factory_index_.contains(*fid))
            c_.report(f, join_path(path, "factory"), "no factory has id " + *fid);
        }
      } else if (s.factories.size() == 1) {
        m.factory_id = s.factories.front().id;  // the only factory is the obvious one
      }
      if (auto v = c_.get_string(e, "name", path, false, false))
        m.name = *v;
      else
        m.name = m.id;
      if (const YAML::Node t = c_.field(e, "type", path, true); t.IsDefined()) {
        const std::string p = join_path(path, "type");
        if (auto text = c_.string_value(t, p)) {
          auto type = parse_machine_type_name(*text);
          if (type) {
            m.type = *type;
            entry.type_known = true;
            entry.type = *type;
          } else {
            c_.report(t, p,
                      "unknown machine type " + in_quotes(*text) + " (one of " +
                          std::string{machine_type_names} + ")");
          }
        }
      }
      if (auto v = c_.get_number(e, "rated_power_kw", path, above(0), true)) m.rated_power_kw = *v;
      if (auto v = c_.get_number(e, "rated_voltage_v", path, above_up_to(0, 50000)))
        m.rated_voltage_v = *v;
      if (auto v = c_.get_number(e, "rated_current_a", path, above_up_to(0, 1e6)))
        m.rated_current_a = *v;
      else if (m.rated_power_kw > 0)
        // Nameplate convention of docs/plant.md's table: rated A = rated kW / (sqrt(3) x V).
        m.rated_current_a = m.rated_power_kw * 1000 / (std::sqrt(3.0) * m.rated_voltage_v);
      if (auto v = c_.get_number(e, "rated_frequency_hz", path, between(40, 70)))
        m.rated_frequency_hz = *v;
      if (auto v = c_.get_number(e, "rated_power_factor", path, {0.3, 1, false, false}))
        m.rated_power_factor = *v;
      if (const YAML::Node iv = c_.field(e, "interval", path); iv.IsDefined())
        if (auto d = c_.duration_value(iv, join_path(path, "interval"),
                                       std::chrono::milliseconds{100}, std::chrono::hours{24}))
          m.interval = *d;
      const auto topic = read_topic(e, path);
      if (topic) m.topic = *topic;
      if (auto v = c_.get_bool(e, "critical", path)) m.is_critical = *v;
      if (entry.type_known) {
        m.params = machines::default_params(m.type, m.rated_power_kw > 0 ? m.rated_power_kw : 1);
        if (const YAML::Node p = c_.field(e, "parameters", path); p.IsDefined())
          read_parameters(p, join_path(path, "parameters"), m.type, m.params);
        const YAML::Node degradation = c_.field(e, "degradation", path);
        const YAML::Node maintenance = c_.field(e, "maintenance", path);
        if (degradation.IsDefined() || maintenance.IsDefined()) {
          machines::wear_config w;
          if (degradation.IsDefined())
            read_degradation(degradation, join_path(path, "degradation"), m.type, w);
          if (maintenance.IsDefined())
            read_maintenance(maintenance, join_path(path, "maintenance"), m.type, w);
          m.wear = std::make_shared<const machines::wear_config>(w);  // replicas share it
        }
      }
      std::size_t replicas = 1;
      bool replicated = false;
      if (auto v = c_.get_integer(e, "replicas", path, between(1, 100000))) {
        replicas = static_cast<std::size_t>(*v);
        replicated = true;
      }
      if (options_.replicas) {  // `run --replicas N`: as if the entry said `replicas: N`
        replicas = *options_.replicas;
        replicated = true;
      }

      // The total is checked before anything is expanded (issue 12: one entry of 100,000
      // replicas aliased 19 times made `validate` allocate 1.5 GB); after the first entry
      // over the limit nothing more is expanded, the rest is still checked.
      if (!over_machine_limit_ && s.machines.size() + replicas > options_.max_machines) {
        const YAML::Node where = c_.field(e, "replicas", path);
        c_.report(where.IsDefined() ? where : e, join_path(path, "replicas"),
                  "the scenario would have " + std::to_string(s.machines.size() + replicas) +
                      " machines or more; the limit is " + std::to_string(options_.max_machines) +
                      " in total, replicas included (raise it with --max-machines)");
        over_machine_limit_ = true;
      }
      if (over_machine_limit_) {
        if (id) unexpanded_ids_.insert(*id);  // faults naming it are not reported as unknown
        continue;
      }

      entry.first = s.machines.size();
      entry.count = replicas;
      bool id_clash_reported = false, topic_clash_reported = false;
      auto add = [&](machines::machine_config&& cfg) {
        if (id && !id_clash_reported) {
          const auto [it, inserted] = ids.emplace(cfg.id, path);
          if (!inserted) {
            c_.report(c_.field(e, "id", path), join_path(path, "id"),
                      "duplicate machine id " + cfg.id + " (first used by " + it->second + ")");
            id_clash_reported = true;
          }
        }
        if (topic && !topic_clash_reported) {
          const auto [it, inserted] = topics.emplace(cfg.topic, path);
          if (!inserted) {
            c_.report(
                c_.field(e, "topic", path), join_path(path, "topic"),
                "duplicate topic " + in_quotes(cfg.topic) + " (first used by " + it->second + ")");
            topic_clash_reported = true;
          }
        }
        if (id)
          machine_ids_.emplace(cfg.id,
                               machine_entry{s.machines.size(), 1, entry.type_known, entry.type});
        s.machines.push_back(std::move(cfg));
      };
      if (!replicated) {
        add(std::move(m));
      } else {
        s.machines.reserve(s.machines.size() + replicas);
        for (std::size_t k = 1; k <= replicas; ++k) {
          const std::string suffix = replica_suffix(k, replicas);
          machines::machine_config r = m;
          if (id) r.id = uuid5(*id, suffix);
          r.name = m.name + "-" + suffix;
          r.topic = m.topic + "-" + suffix;
          add(std::move(r));
        }
      }
      // The given id names the whole group of replicas (faults on it hit every replica).
      if (id) machine_ids_.insert_or_assign(*id, entry);
    }
  }

  // ------------------------------------------------------------------------------ faults
  /// Reads `type`; reports unknown types. Applicability is checked by the caller.
  std::optional<machines::fault_type> read_fault_type(const YAML::Node& e,
                                                      const std::string& path) {
    const YAML::Node t = c_.field(e, "type", path, true);
    if (!t.IsDefined()) return std::nullopt;
    const std::string p = join_path(path, "type");
    auto text = c_.string_value(t, p);
    if (!text) return std::nullopt;
    auto type = machines::parse_fault_type(*text);
    if (!type)
      c_.report(t, p,
                "unknown fault type " + in_quotes(*text) + " (one of " + fault_type_names() + ")");
    return type;
  }

  /// Reads `signal`; only generic faults take one.
  std::string read_signal(const YAML::Node& e, const std::string& path,
                          std::optional<machines::fault_type> type) {
    const YAML::Node n = c_.field(e, "signal", path);
    if (!n.IsDefined()) return {};
    const std::string p = join_path(path, "signal");
    auto text = c_.string_value(n, p, false);
    if (!text) return {};
    if (type && !machines::is_generic(*type)) {
      c_.report(n, p,
                "only generic faults (spike, dip, drift, stuck_sensor, dropout, "
                "noise_burst) take a signal; " +
                    std::string{machines::to_string(*type)} + " acts on the physics");
      return {};
    }
    if (std::find(machines::fault_signal_names.begin(), machines::fault_signal_names.end(),
                  *text) == machines::fault_signal_names.end()) {
      std::string message = "unknown signal " + in_quotes(*text) +
                            " (a payload key such as power_kw or pressure_bar)";
      const std::vector<std::string_view> names(machines::fault_signal_names.begin(),
                                                machines::fault_signal_names.end());
      if (const auto suggestion = closest_name(*text, names); !suggestion.empty())
        message += "; did you mean " + in_quotes(suggestion) + "?";
      c_.report(n, p, std::move(message));
      return {};
    }
    return *text;
  }

  /// The machine an entry names; reports unknown ids and faults that do not apply.
  const machine_entry* fault_target(const YAML::Node& e, const std::string& path,
                                    std::optional<machines::fault_type> type) {
    const YAML::Node n = c_.field(e, "machine", path, true);
    if (!n.IsDefined()) return nullptr;
    const std::string p = join_path(path, "machine");
    auto id = c_.uuid_value(n, p);
    if (!id) return nullptr;
    const auto it = machine_ids_.find(*id);
    if (it == machine_ids_.end()) {
      if (!unexpanded_ids_.contains(*id)) c_.report(n, p, "no machine has id " + *id);
      return nullptr;
    }
    if (type && it->second.type_known && !machines::fault_applies(*type, it->second.type)) {
      c_.report(c_.field(e, "type", path), join_path(path, "type"),
                "fault type " + in_quotes(machines::to_string(*type)) + " does not apply to " +
                    std::string{machines::to_string(it->second.type)} + " machines (use one of " +
                    fault_types_for(it->second.type) + ")");
      return nullptr;
    }
    return &it->second;
  }

  void read_faults(const YAML::Node& n, scenario& s) {
    if (!c_.check_list(n, "faults")) return;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string path = index_path("faults", i);
      if (!c_.check_map(e, path,
                        {"machine", "type", "severity", "at", "after", "duration", "signal"}))
        continue;
      const auto type = read_fault_type(e, path);
      const machine_entry* target = fault_target(e, path, type);
      machines::fault f;
      f.source = "scenario";
      if (type) f.type = *type;
      if (auto v = c_.get_number(e, "severity", path, between(0, 1))) f.severity = *v;
      f.signal = read_signal(e, path, type);
      const YAML::Node at = c_.field(e, "at", path);
      const YAML::Node after_node = c_.field(e, "after", path);
      std::optional<std::chrono::milliseconds> after;
      bool start_ok = false;
      if (at.IsDefined() && after_node.IsDefined()) {
        c_.report(after_node, join_path(path, "after"), "give either at or after, not both");
      } else if (at.IsDefined()) {
        if (auto t = c_.time_value(at, join_path(path, "at"))) {
          f.start = *t;
          start_ok = true;
        }
      } else if (after_node.IsDefined()) {
        after = c_.duration_value(after_node, join_path(path, "after"));
        if (after && !s.from)
          c_.report(after_node, join_path(path, "after"),
                    "needs time.from (the run start it counts from); use at in realtime mode");
        else if (after) {
          f.start = *s.from + *after;
          start_ok = true;
        }
      } else {
        c_.report(e, join_path(path, "at"),
                  "missing: give at (RFC 3339 time) or after (duration from time.from)");
      }
      if (auto d = c_.get_duration(e, "duration", path, std::chrono::milliseconds{1}))
        f.end = f.start + *d;
      if (!target || !start_ok) continue;
      for (std::size_t k = 0; k < target->count; ++k) {
        scheduled_fault sf;
        sf.machine_id = s.machines[target->first + k].id;
        sf.f = f;
        sf.after = after;
        s.faults.push_back(std::move(sf));
      }
    }
  }

  /// A value or a list [min, max] of values (e.g. `severity: [0.3, 0.8]`); read_value checks
  /// one element and reports its problems. A single value v means [v, v].
  template <class T, class ReadValue>
  std::optional<std::pair<T, T>> read_range_pair(const YAML::Node& e, std::string_view key,
                                                 const std::string& path, std::string_view what,
                                                 ReadValue read_value) {
    const YAML::Node n = c_.field(e, key, path);
    if (!n.IsDefined()) return std::nullopt;
    const std::string p = join_path(path, key);
    if (n.IsScalar()) {
      if (std::optional<T> v = read_value(n, p)) return std::pair{*v, *v};
      return std::nullopt;
    }
    if (!n.IsSequence() || n.size() != 2) {
      c_.report(n, p, "must be " + std::string{what} + " or a list [min, max], got " + describe(n));
      return std::nullopt;
    }
    const std::optional<T> lo = read_value(n[0], index_path(p, 0));
    const std::optional<T> hi = read_value(n[1], index_path(p, 1));
    if (!lo || !hi) return std::nullopt;
    if (*hi < *lo) {
      c_.report(n[1], index_path(p, 1),
                "max must be >= min (" + n[0].Scalar() + "), got " + n[1].Scalar());
      return std::nullopt;
    }
    return std::pair{*lo, *hi};
  }

  std::optional<std::pair<double, double>> read_number_pair(const YAML::Node& e,
                                                            std::string_view key,
                                                            const std::string& path,
                                                            number_range range) {
    return read_range_pair<double>(
        e, key, path, "a number",
        [&](const YAML::Node& v, const std::string& p) { return c_.number_value(v, p, range); });
  }

  std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> read_duration_pair(
      const YAML::Node& e, std::string_view key, const std::string& path) {
    constexpr std::chrono::milliseconds min{1000};
    return read_range_pair<std::chrono::milliseconds>(
        e, key, path, "a duration",
        [&](const YAML::Node& v, const std::string& p) { return c_.duration_value(v, p, min); });
  }

  void read_random_faults(const YAML::Node& n, scenario& s) {
    if (!c_.check_list(n, "random_faults")) return;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node e = n[i];
      const std::string path = index_path("random_faults", i);
      if (!c_.check_map(e, path, {"machine", "type", "per_day", "severity", "duration", "signal"}))
        continue;
      const auto type = read_fault_type(e, path);
      machines::random_fault_rate rate;
      if (type) rate.type = *type;
      if (auto v = c_.get_number(e, "per_day", path, above_up_to(0, 1440), true)) rate.per_day = *v;
      if (auto v = read_number_pair(e, "severity", path, between(0, 1))) {
        rate.severity_min = v->first;
        rate.severity_max = v->second;
      }
      if (auto v = read_duration_pair(e, "duration", path)) {
        rate.duration_min = v->first;
        rate.duration_max = v->second;
      }
      rate.signal = read_signal(e, path, type);
      const YAML::Node m = c_.field(e, "machine", path, true);
      if (!m.IsDefined()) continue;
      if (m.IsScalar() && m.Scalar() == "*") {
        if (!type) continue;
        std::size_t added = 0;
        for (const auto& cfg : s.machines)
          if (machines::fault_applies(*type, cfg.type) && !cfg.id.empty()) {
            s.random_faults.push_back(random_fault{cfg.id, rate});
            ++added;
          }
        if (added == 0 && !s.machines.empty())
          c_.report(c_.field(e, "type", path), join_path(path, "type"),
                    "fault type " + in_quotes(machines::to_string(*type)) +
                        " applies to no machine of this scenario");
        continue;
      }
      const machine_entry* target = fault_target(e, path, type);
      if (!target || !type) continue;
      for (std::size_t k = 0; k < target->count; ++k)
        s.random_faults.push_back(random_fault{s.machines[target->first + k].id, rate});
    }
  }

  yaml_checker c_;
  load_options options_;
  bool over_machine_limit_ = false;  ///< reported once; no entry is expanded after it
  std::unordered_set<std::string> unexpanded_ids_;  ///< ids of entries left out for the limit
  std::unordered_set<std::string> carbon_regions_;
  std::unordered_map<std::string, std::size_t> factory_index_;
  std::unordered_map<std::string, machine_entry> machine_ids_;  ///< given and replica ids
};

}  // namespace

scenario_error::scenario_error(std::vector<scenario_problem> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

scenario parse_scenario(const std::string& yaml_text, const std::string& name) {
  return parse_scenario(yaml_text, name, load_options{});
}

scenario load_scenario(const std::string& path) {
  return load_scenario(path, load_options{});
}

scenario parse_scenario(const std::string& yaml_text, const std::string& name,
                        const load_options& options) {
  if (options.replicas && (*options.replicas < 1 || *options.replicas > 100000))
    throw std::invalid_argument("replicas must be 1..100000, got " +
                                std::to_string(*options.replicas));
  scenario s;
  s.file = name;
  s.name = file_stem(name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    scenario_problem p;
    p.file = name;
    p.line = e.mark.is_null() ? 0 : e.mark.line + 1;
    p.column = e.mark.is_null() ? 0 : e.mark.column + 1;
    p.message = "YAML syntax error: " + e.msg;
    throw scenario_error({std::move(p)});
  }
  scenario_reader reader(name, options);
  reader.read(root, s);
  auto problems = reader.take_problems();
  // File order reads best; cross-reference checks find some problems late.
  std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  if (!problems.empty()) throw scenario_error(std::move(problems));
  return s;
}

scenario load_scenario(const std::string& path, const load_options& options) {
  // A directory opens fine as a stream on Linux and then reads as an empty file.
  if (std::error_code ec; std::filesystem::is_directory(path, ec))
    throw std::system_error(std::make_error_code(std::errc::is_a_directory), "cannot read " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  return parse_scenario(text.str(), path, options);
}

}  // namespace factorysim::scenarios
