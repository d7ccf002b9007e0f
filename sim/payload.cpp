#include "sim/payload.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

namespace factorysim::sim {
namespace {

using machines::sim_time;

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian
// calendar and much cheaper per message than going through a time zone library.
struct ymd {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

ymd civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {m <= 2 ? y + 1 : y, m, d};
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void put_digits(char* p, unsigned value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

/// `k` is the whole `,"name":` prefix, so that a key costs one append.
void key(std::string& out, std::string_view k) { out += k; }

/// ,"key":value with fixed decimals; nothing when the value is absent (NaN) or not finite.
void number_field(std::string& out, std::string_view k, double v, int decimals) {
  if (!std::isfinite(v)) return;
  key(out, k);
  append_fixed(out, v, decimals);
}

void string_field(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  append_json_string(out, v);
}

void time_field(std::string& out, std::string_view k, sim_time t) {
  key(out, k);
  out += '"';
  append_time(out, t);
  out += '"';
}

void begin(std::string& out, const payload_head& head) {
  out.clear();
  out += "{\"time\":\"";
  append_time(out, head.time);
  out += "\",\"machine_id\":";
  append_json_string(out, head.machine_id);
  if (head.seq != 0) {
    out += ",\"seq\":";
    append_uint(out, head.seq);
  }
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& v) noexcept {
  if (pos + n > s.size()) return false;
  v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

std::string_view to_string(stream s) noexcept {
  switch (s) {
    case stream::energy: return "energy";
    case stream::production: return "production";
    case stream::environmental: return "environmental";
    case stream::status: return "status";
    case stream::events: return "events";
    case stream::truth: return "truth";
  }
  return "unknown";
}

std::string_view topic_suffix(stream s) noexcept {
  switch (s) {
    case stream::energy: return "/energy";
    case stream::production: return "/production";
    case stream::environmental: return "/environmental";
    case stream::status: return "/status";
    case stream::events: return "/events";
    case stream::truth: return "/truth";
  }
  return "/unknown";
}

void append_time(std::string& out, sim_time t) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t days = ms / 86'400'000;
  std::int64_t ms_of_day = ms % 86'400'000;
  if (ms_of_day < 0) {
    ms_of_day += 86'400'000;
    --days;
  }
  const ymd date = civil_from_days(days);
  // Years outside 0..9999 have no RFC 3339 form; clamp rather than write garbage.
  const auto year = static_cast<unsigned>(date.y < 0 ? 0 : (date.y > 9999 ? 9999 : date.y));
  const auto msd = static_cast<unsigned>(ms_of_day);
  char buf[25] = "0000-00-00T00:00:00.000Z";
  put_digits(buf, year, 4);
  put_digits(buf + 5, date.m, 2);
  put_digits(buf + 8, date.d, 2);
  put_digits(buf + 11, msd / 3'600'000, 2);
  put_digits(buf + 14, msd / 60'000 % 60, 2);
  put_digits(buf + 17, msd / 1000 % 60, 2);
  put_digits(buf + 20, msd % 1000, 3);
  out.append(buf, 24);
}

bool parse_time(std::string_view s, sim_time& out) noexcept {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) ||
      s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec))
    return false;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    unsigned scale = 100;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += static_cast<unsigned>(s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0) return false;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return false;
  static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h > 23 || mi > 59 || sec > 59)
    return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  const std::int64_t days = days_from_civil(y, mo, d);
  const std::int64_t total_ms =
      days * 86'400'000 + static_cast<std::int64_t>(h) * 3'600'000 +
      static_cast<std::int64_t>(mi) * 60'000 + static_cast<std::int64_t>(sec) * 1000 + ms;
  out = sim_time{machines::milliseconds{total_ms}};
  return true;
}

void append_fixed(std::string& out, double value, int decimals) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  if (res.ec != std::errc{}) {
    // Only absurd magnitudes overflow 64 characters; the wire keeps them readable anyway.
    res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific, decimals);
  }
  const char* first = buf;
  if (buf[0] == '-') {
    // A value that rounds to zero prints as -0.000; readers and diffs want 0.000.
    bool all_zero = true;
    for (const char* p = buf + 1; p != res.ptr; ++p)
      if (*p != '0' && *p != '.') {
        all_zero = false;
        break;
      }
    if (all_zero) first = buf + 1;
  }
  out.append(first, static_cast<std::size_t>(res.ptr - first));
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the pending run that needs no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

std::string_view severity_level(double severity) noexcept {
  // An active fault is never "normal" (issue 10): a faint one is still a warning.
  if (severity < 0.7) return "warning";
  return "critical";
}

void write_energy(std::string& out, const payload_head& head, const machines::energy_reading& r) {
  begin(out, head);
  number_field(out, ",\"power_kw\":", r.power_kw, 3);
  number_field(out, ",\"energy_kwh\":", r.energy_kwh, 6);
  number_field(out, ",\"energy_total_kwh\":", r.energy_total_kwh, 3);
  number_field(out, ",\"voltage_v\":", r.voltage_v, 1);
  number_field(out, ",\"current_a\":", r.current_a, 2);
  number_field(out, ",\"power_factor\":", r.power_factor, 3);
  number_field(out, ",\"frequency_hz\":", r.frequency_hz, 3);
  number_field(out, ",\"current_l1_a\":", r.current_l1_a, 2);
  number_field(out, ",\"current_l2_a\":", r.current_l2_a, 2);
  number_field(out, ",\"current_l3_a\":", r.current_l3_a, 2);
  out += '}';
}

void write_production(std::string& out, const payload_head& head,
                      const machines::production_reading& r, std::string_view shift) {
  begin(out, head);
  key(out, ",\"production_count\":");
  append_int(out, r.production_count);
  key(out, ",\"production_count_good\":");
  append_int(out, r.production_count_good);
  key(out, ",\"production_count_bad\":");
  append_int(out, r.production_count_bad);
  number_field(out, ",\"throughput_units_per_hour\":", r.throughput_units_per_hour, 1);
  string_field(out, ",\"operating_mode\":", machines::to_string(r.mode));
  number_field(out, ",\"speed_percent\":", r.speed_percent, 1);
  if (!shift.empty()) string_field(out, ",\"shift\":", shift);
  out += '}';
}

void write_environmental(std::string& out, const payload_head& head,
                         const machines::environmental_reading& r) {
  begin(out, head);
  number_field(out, ",\"outdoor_temp_c\":", r.outdoor_temp_c, 2);
  number_field(out, ",\"indoor_temp_c\":", r.indoor_temp_c, 2);
  number_field(out, ",\"machine_temp_c\":", r.machine_temp_c, 2);
  number_field(out, ",\"outdoor_humidity_percent\":", r.outdoor_humidity_percent, 1);
  number_field(out, ",\"indoor_humidity_percent\":", r.indoor_humidity_percent, 1);
  number_field(out, ",\"pressure_bar\":", r.pressure_bar, 2);
  number_field(out, ",\"pressure_setpoint_bar\":", r.pressure_setpoint_bar, 2);
  number_field(out, ",\"flow_rate_m3h\":", r.flow_rate_m3h, 2);
  number_field(out, ",\"supply_air_temp_c\":", r.supply_air_temp_c, 2);
  number_field(out, ",\"return_air_temp_c\":", r.return_air_temp_c, 2);
  number_field(out, ",\"chilled_water_supply_temp_c\":", r.chilled_water_supply_temp_c, 2);
  number_field(out, ",\"chilled_water_return_temp_c\":", r.chilled_water_return_temp_c, 2);
  number_field(out, ",\"cop\":", r.cop, 3);
  number_field(out, ",\"vibration_mm_s\":", r.vibration_mm_s, 2);
  number_field(out, ",\"bearing_temp_c\":", r.bearing_temp_c, 1);
  number_field(out, ",\"vibration_1x_mm_s\":", r.vibration_1x_mm_s, 2);
  number_field(out, ",\"vibration_2x_mm_s\":", r.vibration_2x_mm_s, 2);
  number_field(out, ",\"vibration_accel_peak_g\":", r.vibration_accel_peak_g, 3);
  number_field(out, ",\"vibration_crest_factor\":", r.vibration_crest_factor, 2);
  number_field(out, ",\"vibration_kurtosis\":", r.vibration_kurtosis, 2);
  number_field(out, ",\"vibration_bearing_defect_ge\":", r.vibration_bearing_defect_ge, 3);
  number_field(out, ",\"current_unbalance_percent\":", r.current_unbalance_percent, 2);
  number_field(out, ",\"run_hours\":", r.run_hours, 2);
  number_field(out, ",\"start_count\":", r.start_count, 0);
  out += '}';
}

void write_status(std::string& out, const payload_head& head, const status_fields& s) {
  begin(out, head);
  key(out, ",\"is_running\":");
  out += s.is_running ? "true" : "false";
  string_field(out, ",\"operating_mode\":", machines::to_string(s.mode));
  number_field(out, ",\"current_power_kw\":", s.current_power_kw, 3);
  number_field(out, ",\"energy_total_kwh\":", s.energy_total_kwh, 3);
  out += '}';
}

void write_event(std::string& out, const payload_head& head, const machines::fault_event& e) {
  using kind = machines::fault_event::kind;
  begin(out, head);
  string_field(out, ",\"event\":", e.what == kind::start ? "start" : "end");
  key(out, ",\"fault_id\":");
  append_uint(out, e.f.id);
  string_field(out, ",\"anomaly_type\":", machines::to_string(e.f.type));
  string_field(out, ",\"severity\":", severity_level(e.f.severity));
  number_field(out, ",\"severity_value\":", e.f.severity, 2);
  if (!e.signals.empty()) string_field(out, ",\"metric_name\":", e.signals.front());
  key(out, ",\"signals\":");
  out += '[';
  for (std::size_t i = 0; i < e.signals.size(); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, e.signals[i]);
  }
  out += ']';
  time_field(out, ",\"started_at\":", e.f.start);
  if (e.what == kind::end)
    time_field(out, ",\"ended_at\":", e.f.end ? *e.f.end : e.at);
  else if (e.f.end)
    time_field(out, ",\"ended_at\":", *e.f.end);
  string_field(out, ",\"source\":", e.f.source.empty() ? std::string_view{"scenario"} : e.f.source);
  out += '}';
}

void append_work_order(std::string& out, std::uint64_t number) {
  static constexpr char hex[] = "0123456789ABCDEF";
  char buf[15] = "WO-";
  for (int i = 0; i < 12; ++i) buf[3 + i] = hex[(number >> (4 * (11 - i))) & 15];
  out.append(buf, 15);
}

void write_health_event(std::string& out, const payload_head& head,
                        const machines::health_event& e) {
  using kind = machines::health_event::kind;
  begin(out, head);
  const std::string_view component =
      e.all_components ? std::string_view{"all"} : machines::to_string(e.which);
  if (e.what == kind::failure) {
    string_field(out, ",\"event\":", "failure");
    string_field(out, ",\"component\":", component);
    key(out, ",\"anomaly_type\":\"");
    out += component;
    out += "_failure\"";
    string_field(out, ",\"severity\":", "critical");
    out += '}';
    return;
  }
  string_field(out, ",\"event\":",
               e.what == kind::maintenance_start ? "maintenance_start" : "maintenance_end");
  string_field(out, ",\"maintenance_type\":",
               e.type == machines::health_event::maintenance::preventive ? "preventive"
                                                                         : "corrective");
  string_field(out, ",\"component\":", component);
  number_field(out, ",\"health_before\":", e.health_before, 4);
  number_field(out, ",\"health_after\":", e.health_after, 4);
  key(out, ",\"work_order\":\"");
  append_work_order(out, e.work_order);
  out += '"';
  number_field(out, ",\"duration_h\":", e.duration_h, 2);
  out += '}';
}

void write_truth(std::string& out, const payload_head& head, const machines::health_truth& t,
                 std::span<const machines::fault> active_faults,
                 std::span<const std::string> faulted_signals, machines::interruption stop) {
  begin(out, head);
  number_field(out, ",\"health_index\":", t.health_index, 4);
  if (t.count > 0) string_field(out, ",\"limiting_component\":", machines::to_string(t.limiting));
  number_field(out, ",\"rul_operating_h\":", t.rul_operating_h, 2);
  number_field(out, ",\"rul_calendar_h\":", t.rul_calendar_h, 2);
  key(out, ",\"failed\":");
  out += t.failed ? "true" : "false";
  key(out, ",\"active_faults\":[");
  for (std::size_t i = 0; i < active_faults.size(); ++i) {
    // One entry per fault type, even when two faults of a type overlap.
    bool seen = false;
    for (std::size_t j = 0; j < i; ++j) seen = seen || active_faults[j].type == active_faults[i].type;
    if (seen) continue;
    if (out.back() != '[') out += ',';
    append_json_string(out, machines::to_string(active_faults[i].type));
  }
  out += "],\"faulted_signals\":[";
  for (std::size_t i = 0; i < faulted_signals.size(); ++i) {
    if (i != 0) out += ',';
    append_json_string(out, faulted_signals[i]);
  }
  out += ']';
  // Only while one is under way: most readings have none, and truth is one message per reading.
  if (stop != machines::interruption::none)
    string_field(out, ",\"interruption\":", machines::to_string(stop));
  for (std::size_t i = 0; i < t.count; ++i) {
    key(out, ",\"health_");
    out += machines::to_string(t.components[i]);
    out += "\":";
    append_fixed(out, t.health[i], 4);
  }
  out += '}';
}

}  // namespace factorysim::sim
