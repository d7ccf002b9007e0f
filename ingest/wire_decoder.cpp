#include "ingest/wire_decoder.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>

#include "ingest/json_scanner.hpp"

namespace factorysim::ingest {

std::string_view to_string(reject_reason r) noexcept {
  switch (r) {
    case reject_reason::oversized: return "oversized";
    case reject_reason::not_json: return "not_json";
    case reject_reason::not_object: return "not_object";
    case reject_reason::unknown_stream: return "unknown_stream";
    case reject_reason::missing_field: return "missing_field";
    case reject_reason::wrong_type: return "wrong_type";
    case reject_reason::non_finite: return "non_finite";
    case reject_reason::invalid_value: return "invalid_value";
    case reject_reason::bad_time: return "bad_time";
    case reject_reason::time_out_of_range: return "time_out_of_range";
    case reject_reason::unknown_machine: return "unknown_machine";
    case reject_reason::database_rejected: return "database_rejected";
  }
  return "unknown";
}

std::string_view to_string(stream s) noexcept {
  switch (s) {
    case stream::energy: return "energy";
    case stream::production: return "production";
    case stream::environmental: return "environmental";
    case stream::status: return "status";
    case stream::events: return "events";
    case stream::truth:
      return "truth";
  }
  return "unknown";
}

std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::start:
      return "start";
    case event_kind::end:
      return "end";
    case event_kind::failure:
      return "failure";
    case event_kind::maintenance_start:
      return "maintenance_start";
    case event_kind::maintenance_end:
      return "maintenance_end";
  }
  return "unknown";
}

std::optional<stream> stream_of_topic(std::string_view topic) noexcept {
  const auto slash = topic.rfind('/');
  // A bare suffix without a machine topic in front is not one of ours either.
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view suffix = topic.substr(slash + 1);
  if (suffix == "energy") return stream::energy;
  if (suffix == "production") return stream::production;
  if (suffix == "environmental") return stream::environmental;
  if (suffix == "status") return stream::status;
  if (suffix == "events") return stream::events;
  if (suffix == "truth") return stream::truth;
  return std::nullopt;
}

const row_header& header_of(const decoded_row& r) noexcept {
  return std::visit([](const auto& row) -> const row_header& { return row.h; }, r);
}

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<uuid_bytes> parse_uuid(std::string_view text) noexcept {
  if (text.size() != 36) return std::nullopt;
  uuid_bytes out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string to_string(const uuid_bytes& id) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[id[i] >> 4]);
    s.push_back(hex[id[i] & 0x0F]);
  }
  return s;
}

bool parse_rfc3339(std::string_view s, unix_us& out) noexcept {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return false;
  static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 ||
      minute > 59 || second > 60)
    return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  std::size_t pos = 19;
  std::int64_t fraction_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      // Digits past microseconds are truncated, as PostgreSQL rounds to microseconds anyway.
      if (n < 6) {
        fraction_us += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++n;
      ++pos;
    }
    if (n == 0) return false;
  }
  if (pos >= s.size()) return false;
  std::int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  // A leap second is folded into the next second, as PostgreSQL does.
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month),
                                            static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  out = secs * 1000000 + fraction_us;
  return true;
}

std::string format_rfc3339_ms(unix_us t) {
  std::int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
  const auto ms = static_cast<int>((t - secs * 1000000) / 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const auto sod = secs - days * 86400;
  // civil_from_days (Howard Hinnant)
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(y), m, d, static_cast<int>(sod / 3600),
                static_cast<int>(sod % 3600 / 60), static_cast<int>(sod % 60), ms);
  return buf;
}

namespace {

using json::kind;

// Holds the first problem found while visiting the pairs.
struct field_error {
  bool set = false;
  reject r;
  void raise(reject_reason reason, std::string_view key, std::string_view what) {
    if (set) return;
    set = true;
    r.reason = reason;
    r.detail.reserve(key.size() + what.size() + 4);
    r.detail.append("\"").append(key).append("\": ").append(what);
  }
};

std::string_view kind_name(kind k) {
  switch (k) {
    case kind::null_value: return "null";
    case kind::boolean: return "a boolean";
    case kind::number: return "a number";
    case kind::string: return "a string";
    case kind::array: return "an array";
    case kind::object: return "an object";
  }
  return "?";
}

bool want_type(const json::value& v, kind k, std::string_view key, field_error& e) {
  if (v.type == k) return true;
  std::string what = "expected ";
  what.append(kind_name(k)).append(", got ").append(kind_name(v.type));
  e.raise(reject_reason::wrong_type, key, what);
  return false;
}

bool read_double(std::string_view key, const json::value& v, double& out, field_error& e) {
  if (!want_type(v, kind::number, key, e)) return false;
  if (v.non_finite_token) {
    e.raise(reject_reason::non_finite, key, std::string(v.number_text));
    return false;
  }
  double d = 0;
  const char* first = v.number_text.data();
  const char* last = first + v.number_text.size();
  const auto res = std::from_chars(first, last, d);
  if (res.ec == std::errc::result_out_of_range) {
    // from_chars reports underflow the same way; only overflow is non-finite.
    double probe = std::strtod(std::string(v.number_text).c_str(), nullptr);
    if (!std::isfinite(probe)) {
      e.raise(reject_reason::non_finite, key, "number overflows a double");
      return false;
    }
    d = probe;
  } else if (res.ec != std::errc() || res.ptr != last) {
    e.raise(reject_reason::wrong_type, key, "unreadable number");
    return false;
  }
  if (!std::isfinite(d)) {
    e.raise(reject_reason::non_finite, key, "number overflows a double");
    return false;
  }
  out = d;
  return true;
}

bool read_int(std::string_view key, const json::value& v, std::int64_t& out, field_error& e) {
  if (!want_type(v, kind::number, key, e)) return false;
  if (v.non_finite_token) {
    e.raise(reject_reason::non_finite, key, std::string(v.number_text));
    return false;
  }
  if (!v.is_integer) {
    e.raise(reject_reason::wrong_type, key, "expected an integer");
    return false;
  }
  const char* first = v.number_text.data();
  const char* last = first + v.number_text.size();
  const auto res = std::from_chars(first, last, out);
  if (res.ec != std::errc() || res.ptr != last) {
    e.raise(reject_reason::invalid_value, key, "integer out of range");
    return false;
  }
  return true;
}

bool read_string(std::string_view key, const json::value& v, std::string& out,
                 field_error& e) {
  if (!want_type(v, kind::string, key, e)) return false;
  if (!json::decode_string(v.raw, v.has_escape, out)) {
    e.raise(reject_reason::invalid_value, key, "invalid UTF-8 or NUL character");
    return false;
  }
  return true;
}

bool read_time(std::string_view key, const json::value& v, unix_us& out, field_error& e,
               const decode_options& o) {
  if (!want_type(v, kind::string, key, e)) return false;
  if (v.has_escape || !parse_rfc3339(v.raw, out)) {
    e.raise(reject_reason::bad_time, key, "not RFC 3339: " + std::string(v.raw.substr(0, 64)));
    return false;
  }
  if (out < o.min_time_us || (o.now_us != 0 && out > o.now_us + o.max_future_us)) {
    e.raise(reject_reason::time_out_of_range, key, std::string(v.raw) + " outside the window");
    return false;
  }
  return true;
}

bool read_enum(std::string_view key, const json::value& v, std::string& out, field_error& e,
               std::span<const std::string_view> allowed) {
  if (!want_type(v, kind::string, key, e)) return false;
  for (const auto a : allowed) {
    if (!v.has_escape && v.raw == a) {
      out.assign(a);
      return true;
    }
  }
  e.raise(reject_reason::invalid_value, key,
          "unknown value \"" + std::string(v.raw.substr(0, 64)) + "\"");
  return false;
}

constexpr std::array<std::string_view, 5> operating_modes = {"idle", "running", "maintenance",
                                                            "fault", "offline"};
// Same order as event_kind.
constexpr std::array<std::string_view, 5> event_kinds = {"start", "end", "failure",
                                                         "maintenance_start", "maintenance_end"};
constexpr std::array<std::string_view, 2> maintenance_types = {"preventive", "corrective"};
constexpr std::array<std::string_view, 3> severities = {"normal", "warning", "critical"};

// Header keys; returns true when the key was one of them.
bool header_field(std::string_view key, const json::value& v, row_header& h, unsigned& seen,
                  field_error& e, const decode_options& o) {
  if (key == "time") {
    seen |= 1u;
    read_time(key, v, h.time_us, e, o);
    return true;
  }
  if (key == "machine_id") {
    seen |= 2u;
    if (!want_type(v, kind::string, key, e)) return true;
    auto id = v.has_escape ? std::nullopt : parse_uuid(v.raw);
    if (!id) {
      e.raise(reject_reason::invalid_value, key, "not a uuid");
      return true;
    }
    h.machine_id = *id;
    return true;
  }
  if (key == "seq") {
    if (v.type == kind::null_value) return true;
    std::int64_t s = 0;
    if (read_int(key, v, s, e)) {
      if (s < 0) e.raise(reject_reason::invalid_value, key, "must be >= 0");
      h.seq = s;
    }
    return true;
  }
  return false;
}

// A JSON null for an optional measurement means "not measured".
bool optional_double(std::string_view key, const json::value& v, double& out, field_error& e) {
  if (v.type == kind::null_value) return true;
  return read_double(key, v, out, e);
}

bool optional_int(std::string_view key, const json::value& v, std::optional<std::int64_t>& out,
                  field_error& e) {
  if (v.type == kind::null_value) return true;
  std::int64_t i = 0;
  if (!read_int(key, v, i, e)) return false;
  out = i;
  return true;
}

void decode_energy(std::string_view key, const json::value& v, energy_row& r, field_error& e) {
  if (key == "power_kw") optional_double(key, v, r.power_kw, e);
  else if (key == "energy_kwh") optional_double(key, v, r.energy_kwh, e);
  else if (key == "energy_total_kwh") optional_double(key, v, r.energy_total_kwh, e);
  else if (key == "voltage_v") optional_double(key, v, r.voltage_v, e);
  else if (key == "current_a") optional_double(key, v, r.current_a, e);
  else if (key == "power_factor") optional_double(key, v, r.power_factor, e);
  else if (key == "frequency_hz") optional_double(key, v, r.frequency_hz, e);
  else if (key == "current_l1_a") optional_double(key, v, r.current_l1_a, e);
  else if (key == "current_l2_a") optional_double(key, v, r.current_l2_a, e);
  else if (key == "current_l3_a") optional_double(key, v, r.current_l3_a, e);
}

void decode_production(std::string_view key, const json::value& v, production_row& r,
                       field_error& e) {
  if (key == "production_count") optional_int(key, v, r.production_count, e);
  else if (key == "production_count_good") optional_int(key, v, r.production_count_good, e);
  else if (key == "production_count_bad") optional_int(key, v, r.production_count_bad, e);
  else if (key == "throughput_units_per_hour")
    optional_double(key, v, r.throughput_units_per_hour, e);
  else if (key == "operating_mode") {
    if (v.type != kind::null_value) read_enum(key, v, r.operating_mode, e, operating_modes);
  } else if (key == "speed_percent") optional_double(key, v, r.speed_percent, e);
  else if (key == "shift") {
    if (v.type != kind::null_value) read_string(key, v, r.shift, e);
  }
}

void decode_environmental(std::string_view key, const json::value& v, environmental_row& r,
                          field_error& e) {
  for (std::size_t i = 0; i < environmental_keys.size(); ++i) {
    if (key == environmental_keys[i]) {
      optional_double(key, v, r.values[i], e);
      return;
    }
  }
}

void decode_status(std::string_view key, const json::value& v, status_row& r, field_error& e) {
  if (key == "is_running") {
    if (v.type == kind::null_value) return;
    if (want_type(v, kind::boolean, key, e)) r.is_running = v.boolean;
  } else if (key == "operating_mode") {
    if (v.type != kind::null_value) read_enum(key, v, r.operating_mode, e, operating_modes);
  } else if (key == "current_power_kw") {
    optional_double(key, v, r.current_power_kw, e);
  } else if (key == "energy_total_kwh") {
    optional_double(key, v, r.energy_total_kwh, e);
  }
}

// Bits of `seen` for the event keys that some kinds require.
constexpr unsigned seen_event = 4u, seen_fault_id = 8u, seen_started_at = 16u,
                   seen_anomaly_type = 32u, seen_component = 64u, seen_work_order = 128u,
                   seen_maintenance_type = 256u;

void decode_event(std::string_view key, const json::value& v, event_row& r, unsigned& seen,
                  field_error& e, const decode_options& o) {
  if (key == "event") {
    seen |= seen_event;
    std::string what;
    if (read_enum(key, v, what, e, event_kinds)) {
      for (std::size_t i = 0; i < event_kinds.size(); ++i)
        if (what == event_kinds[i]) r.kind = static_cast<event_kind>(i);
    }
  } else if (key == "fault_id") {
    seen |= seen_fault_id;
    read_int(key, v, r.fault_id, e);
  } else if (key == "anomaly_type") {
    seen |= seen_anomaly_type;
    if (read_string(key, v, r.anomaly_type, e) && r.anomaly_type.empty())
      e.raise(reject_reason::invalid_value, key, "must not be empty");
  } else if (key == "severity") {
    if (v.type != kind::null_value)
      read_enum(key, v, r.severity, e, severities);
  } else if (key == "severity_value") {
    optional_double(key, v, r.severity_value, e);
  } else if (key == "metric_name") {
    if (v.type != kind::null_value) read_string(key, v, r.metric_name, e);
  } else if (key == "signals") {
    if (v.type == kind::null_value) return;
    if (!want_type(v, kind::array, key, e)) return;
    r.signals.clear();
    if (!json::for_each_string(v.raw, [&](std::string&& s) { r.signals.push_back(std::move(s)); }))
      e.raise(reject_reason::wrong_type, key, "expected an array of strings");
  } else if (key == "started_at") {
    seen |= seen_started_at;
    unix_us t = 0;
    if (read_time(key, v, t, e, o)) r.started_at_us = t;
  } else if (key == "ended_at") {
    if (v.type == kind::null_value) return;
    unix_us t = 0;
    if (read_time(key, v, t, e, o)) r.ended_at_us = t;
  } else if (key == "source") {
    if (v.type != kind::null_value) read_string(key, v, r.source, e);
  } else if (key == "component") {
    seen |= seen_component;
    if (read_string(key, v, r.component, e) && r.component.empty())
      e.raise(reject_reason::invalid_value, key, "must not be empty");
  } else if (key == "maintenance_type") {
    seen |= seen_maintenance_type;
    read_enum(key, v, r.maintenance_type, e, maintenance_types);
  } else if (key == "work_order") {
    seen |= seen_work_order;
    if (read_string(key, v, r.work_order, e) && r.work_order.empty())
      e.raise(reject_reason::invalid_value, key, "must not be empty");
  } else if (key == "health_before") {
    optional_double(key, v, r.health_before, e);
  } else if (key == "health_after") {
    optional_double(key, v, r.health_after, e);
  } else if (key == "duration_h") {
    optional_double(key, v, r.duration_h, e);
  }
}

// The keys an event needs depend on its kind, known only once the whole object is read.
std::optional<reject> finish_event(event_row& r, unsigned seen) {
  const auto need = [&](unsigned bit, std::string_view name) -> std::optional<reject> {
    if (seen & bit) return std::nullopt;
    return reject{reject_reason::missing_field, "\"" + std::string(name) +
                                                    "\" is required for \"event\": \"" +
                                                    std::string(to_string(r.kind)) + "\""};
  };
  std::optional<reject> missing_key;
  switch (r.kind) {
    case event_kind::start:
    case event_kind::end:
      if (!(missing_key = need(seen_fault_id, "fault_id")))
        if (!(missing_key = need(seen_started_at, "started_at")))
          missing_key = need(seen_anomaly_type, "anomaly_type");
      r.is_start = r.kind == event_kind::start;
      return missing_key;
    case event_kind::failure:
      if ((missing_key = need(seen_component, "component"))) return missing_key;
      // A failure is a point in time: it opens an anomaly at `time` that a corrective
      // maintenance closes.
      if (r.anomaly_type.empty()) r.anomaly_type = r.component + "_failure";
      if (r.severity.empty()) r.severity = "critical";
      if (r.source.empty()) r.source = "failure";
      r.started_at_us = r.h.time_us;
      r.is_start = true;
      return std::nullopt;
    case event_kind::maintenance_start:
    case event_kind::maintenance_end:
      if (!(missing_key = need(seen_work_order, "work_order")))
        missing_key = need(seen_maintenance_type, "maintenance_type");
      if (r.component.empty()) r.component = "all";
      r.is_start = r.kind == event_kind::maintenance_start;
      return missing_key;
  }
  return std::nullopt;
}

void decode_truth(std::string_view key, const json::value& v, truth_row& r, unsigned& seen,
                  field_error& e) {
  const auto strings = [&](std::vector<std::string>& out) {
    if (v.type == kind::null_value) return;
    if (!want_type(v, kind::array, key, e)) return;
    out.clear();
    if (!json::for_each_string(v.raw, [&](std::string&& s) { out.push_back(std::move(s)); }))
      e.raise(reject_reason::wrong_type, key, "expected an array of strings");
  };
  if (key == "health_index") {
    seen |= seen_event;
    read_double(key, v, r.health_index, e);
  } else if (key == "limiting_component") {
    if (v.type != kind::null_value) read_string(key, v, r.limiting_component, e);
  } else if (key == "rul_operating_h") {
    optional_double(key, v, r.rul_operating_h, e);
  } else if (key == "rul_calendar_h") {
    optional_double(key, v, r.rul_calendar_h, e);
  } else if (key == "failed") {
    if (v.type == kind::null_value) return;
    if (want_type(v, kind::boolean, key, e)) r.failed = v.boolean;
  } else if (key == "active_faults") {
    strings(r.active_faults);
  } else if (key == "faulted_signals") {
    strings(r.faulted_signals);
  } else if (key == "interruption") {
    if (v.type != kind::null_value) read_string(key, v, r.interruption, e);
  } else if (key.size() > 7 && key.starts_with("health_")) {
    // Per-component health: the component set is the model's, so any health_<x> is kept.
    if (v.type == kind::null_value) return;
    double h = missing;
    if (read_double(key, v, h, e)) r.component_health.emplace_back(key.substr(7), h);
  }
}

std::optional<reject> no_finish(const auto&, unsigned) {
  return std::nullopt;
}

template <typename Row, typename Field, typename Finish = decltype(&no_finish<Row>)>
decode_result decode_stream(
    std::string_view payload, const decode_options& o, Field&& field, unsigned required_extra = 0,
    std::initializer_list<std::pair<unsigned, std::string_view>> extra_names = {},
    Finish finish = &no_finish<Row>) {
  Row row;
  field_error e;
  unsigned seen = 0;
  json::scan_error se;
  std::string key_buffer;
  const auto status = json::scan_object(
      payload,
      [&](std::string_view key, const json::value& v) {
        if (!header_field(key, v, row.h, seen, e, o)) field(key, v, row, seen, e);
        return !e.set;
      },
      se, key_buffer);
  if (status == json::scan_status::not_json)
    return reject{reject_reason::not_json,
                  std::string(se.what) + " at byte " + std::to_string(se.offset)};
  if (status == json::scan_status::not_object)
    return reject{reject_reason::not_object, "the payload must be a JSON object"};
  if (e.set) return std::move(e.r);
  if (!(seen & 1u)) return reject{reject_reason::missing_field, "\"time\" is required"};
  if (!(seen & 2u)) return reject{reject_reason::missing_field, "\"machine_id\" is required"};
  if ((seen & required_extra) != required_extra) {
    for (const auto& [bit, name] : extra_names)
      if (!(seen & bit))
        return reject{reject_reason::missing_field, "\"" + std::string(name) + "\" is required"};
  }
  if (auto r = finish(row, seen)) return std::move(*r);
  return decoded_row(std::move(row));
}

}  // namespace

decode_result decode_message(std::string_view topic, std::string_view payload,
                             const decode_options& o) {
  if (payload.size() > o.max_payload_bytes)
    return reject{reject_reason::oversized, std::to_string(payload.size()) + " bytes > limit " +
                                                std::to_string(o.max_payload_bytes)};
  const auto s = stream_of_topic(topic);
  if (!s) {
    return reject{reject_reason::unknown_stream,
                  "topic must end in /energy, /production, /environmental, /status, /events "
                  "or /truth"};
  }
  switch (*s) {
    case stream::energy:
      return decode_stream<energy_row>(
          payload, o, [](auto key, const auto& v, energy_row& r, unsigned&, field_error& e) {
            decode_energy(key, v, r, e);
          });
    case stream::production:
      return decode_stream<production_row>(
          payload, o, [](auto key, const auto& v, production_row& r, unsigned&, field_error& e) {
            decode_production(key, v, r, e);
          });
    case stream::environmental:
      return decode_stream<environmental_row>(
          payload, o,
          [](auto key, const auto& v, environmental_row& r, unsigned&, field_error& e) {
            decode_environmental(key, v, r, e);
          });
    case stream::status:
      return decode_stream<status_row>(
          payload, o, [](auto key, const auto& v, status_row& r, unsigned&, field_error& e) {
            decode_status(key, v, r, e);
          });
    case stream::events:
      return decode_stream<event_row>(
          payload, o,
          [&o](auto key, const auto& v, event_row& r, unsigned& seen, field_error& e) {
            decode_event(key, v, r, seen, e, o);
          },
          seen_event, {{seen_event, "event"}}, &finish_event);
    case stream::truth:
      return decode_stream<truth_row>(payload, o,
                                      [](auto key, const auto& v, truth_row& r, unsigned& seen,
                                         field_error& e) { decode_truth(key, v, r, seen, e); },
                                      seen_event, {{seen_event, "health_index"}});
  }
  return reject{reject_reason::unknown_stream, "unreachable"};
}

}  // namespace factorysim::ingest
