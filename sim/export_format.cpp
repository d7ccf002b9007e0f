#include "sim/export_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "sim/payload.hpp"

namespace factorysim::sim {

std::string_view to_string(export_format f) noexcept {
  switch (f) {
    case export_format::tsv:
      return "tsv";
    case export_format::jsonl:
      return "jsonl";
    case export_format::csv:
      return "csv";
    case export_format::influx:
      return "influx";
  }
  return "tsv";
}

std::optional<export_format> parse_export_format(std::string_view text) noexcept {
  if (text == "tsv") return export_format::tsv;
  if (text == "jsonl") return export_format::jsonl;
  if (text == "csv") return export_format::csv;
  if (text == "influx" || text == "line-protocol") return export_format::influx;
  return std::nullopt;
}

std::string_view stream_of_topic(std::string_view topic) noexcept {
  const auto slash = topic.rfind('/');
  return slash == std::string_view::npos ? topic : topic.substr(slash + 1);
}

void append_tsv(std::string& out, std::string_view topic, std::string_view payload) {
  out.append(topic);
  out += '\t';
  out.append(payload);
  out += '\n';
}

void append_jsonl(std::string& out, std::string_view topic, std::string_view payload, bool retain) {
  out += "{\"topic\":";
  append_json_string(out, topic);
  out += retain ? ",\"retain\":true,\"payload\":" : ",\"retain\":false,\"payload\":";
  out.append(payload);
  out += "}\n";
}

// ------------------------------------------------------------------------------------- CSV

std::vector<std::string> csv_columns(std::string_view stream) {
  // The keys of docs/topics.md in their wire order. Keys a later version adds land in the
  // `extra` column until they are listed here.
  static const std::array<std::pair<std::string_view, std::vector<std::string>>, 6> known{{
      {"energy",
       {"time", "machine_id", "seq", "power_kw", "energy_kwh", "energy_total_kwh", "voltage_v",
        "current_a", "power_factor", "frequency_hz", "current_l1_a", "current_l2_a",
        "current_l3_a"}},
      {"production",
       {"time", "machine_id", "seq", "production_count", "production_count_good",
        "production_count_bad", "throughput_units_per_hour", "operating_mode", "speed_percent",
        "shift"}},
      {"environmental",
       {"time", "machine_id", "seq", "outdoor_temp_c", "indoor_temp_c", "machine_temp_c",
        "outdoor_humidity_percent", "indoor_humidity_percent", "pressure_bar",
        "pressure_setpoint_bar", "flow_rate_m3h", "supply_air_temp_c", "return_air_temp_c",
        "chilled_water_supply_temp_c", "chilled_water_return_temp_c", "cop", "vibration_mm_s",
        "bearing_temp_c", "vibration_1x_mm_s", "vibration_2x_mm_s", "vibration_accel_peak_g",
        "vibration_crest_factor", "vibration_kurtosis", "vibration_bearing_defect_ge",
        "current_unbalance_percent", "run_hours", "start_count"}},
      {"status",
       {"time", "machine_id", "seq", "is_running", "operating_mode", "current_power_kw",
        "energy_total_kwh"}},
      {"events",
       {"time", "machine_id", "seq", "event", "fault_id", "anomaly_type", "severity",
        "severity_value", "metric_name", "signals", "component", "maintenance_type",
        "started_at", "ended_at", "work_order", "health_before", "health_after", "duration_h",
        "source"}},
      {"truth",
       {"time", "machine_id", "seq", "health_index", "limiting_component", "rul_operating_h",
        "rul_calendar_h", "failed", "active_faults", "faulted_signals", "interruption",
        "health_bearing",
        "health_air_end", "health_inlet_valve", "health_impeller", "health_coil",
        "health_refrigerant", "health_heater_band", "health_check_ring"}},
  }};
  for (const auto& [name, columns] : known)
    if (name == stream) return columns;
  return {};
}

std::string csv_path(std::string_view output, std::string_view stream) {
  constexpr std::string_view ext = ".csv";
  std::string path(output);
  if (path.size() > ext.size() && path.ends_with(ext)) path.resize(path.size() - ext.size());
  path += '.';
  path.append(stream);
  path.append(ext);
  return path;
}

namespace {

/// RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. An empty
/// string is quoted too, so that PostgreSQL's CSV reader tells it from an absent value.
void append_csv_cell(std::string& out, std::string_view s) {
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

/// A PostgreSQL array literal, {a,b}: elements quoted when they need it.
std::string pg_array(const std::vector<std::string>& items) {
  std::string a = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) a += ',';
    const std::string& e = items[i];
    std::string lower = e;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(c | 0x20); });
    const bool quote =
        e.empty() || lower == "null" || e.find_first_of("{},\"\\ \t\r\n") != std::string::npos;
    if (!quote) {
      a += e;
      continue;
    }
    a += '"';
    for (char c : e) {
      if (c == '"' || c == '\\') a += '\\';
      a += c;
    }
    a += '"';
  }
  a += '}';
  return a;
}

}  // namespace

void append_csv_header(std::string& out, const std::vector<std::string>& columns) {
  out += "topic";
  for (const auto& c : columns) {
    out += ',';
    append_csv_cell(out, c);
  }
  out += ",extra\n";
}

void append_csv_row(std::string& out, const std::vector<std::string>& columns,
                    std::string_view topic, const std::vector<flat_field>& fields) {
  append_csv_cell(out, topic);
  for (const auto& c : columns) {
    out += ',';
    const flat_field* f = find_field(fields, c);
    if (f == nullptr) continue;
    switch (f->kind) {
      case flat_kind::number:
      case flat_kind::boolean:
        out.append(f->raw);
        break;
      case flat_kind::string:
        append_csv_cell(out, f->text);
        break;
      case flat_kind::array:
        append_csv_cell(out, pg_array(f->items));
        break;
      case flat_kind::null:
        break;
    }
  }
  std::string extra;
  for (const auto& f : fields) {
    if (std::find(columns.begin(), columns.end(), f.key) != columns.end()) continue;
    extra += extra.empty() ? "{" : ",";
    append_json_string(extra, f.key);
    extra += ':';
    extra.append(f.raw);
  }
  out += ',';
  if (!extra.empty()) {
    extra += '}';
    append_csv_cell(out, extra);
  }
  out += '\n';
}

// --------------------------------------------------------------------------- line protocol

namespace {

void append_escaped(std::string& out, std::string_view s, std::string_view specials) {
  for (char c : s) {
    // Line protocol has no escape for a line break (the callers of keys and measurements
    // turn it into a space first, so that it is escaped like one).
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (specials.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}

}  // namespace

void append_lp_measurement(std::string& out, std::string_view s) {
  std::string clean(s);
  for (char& c : clean)
    if (c == '\n' || c == '\r') c = ' ';
  append_escaped(out, clean, ", ");
}

void append_lp_key(std::string& out, std::string_view s) {
  std::string clean(s);
  for (char& c : clean)
    if (c == '\n' || c == '\r') c = ' ';
  append_escaped(out, clean, ",= ");
}

void append_lp_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s, "\"\\");
  out += '"';
}

bool append_line_protocol(std::string& out, std::string_view stream, const export_machine* machine,
                          const std::vector<flat_field>& fields) {
  const flat_field* time = find_field(fields, "time");
  machines::sim_time t{};
  if (time == nullptr || time->kind != flat_kind::string || !parse_time(time->text, t))
    return false;
  const std::size_t start = out.size();
  append_lp_measurement(out, stream);

  // Tags sorted by key (the order InfluxDB stores them in; cheaper for it to parse).
  std::vector<std::pair<std::string_view, std::string_view>> tags;
  if (machine != nullptr) {
    tags.emplace_back("factory", machine->factory);
    tags.emplace_back("factory_id", machine->factory_id);
    tags.emplace_back("machine", machine->name);
  }
  if (const flat_field* id = find_field(fields, "machine_id");
      id != nullptr && id->kind == flat_kind::string)
    tags.emplace_back("machine_id", id->text);
  else if (machine != nullptr)
    tags.emplace_back("machine_id", machine->id);
  if (machine != nullptr) tags.emplace_back("type", machine->type);
  for (const auto& [k, v] : tags) {
    if (v.empty()) continue;  // an empty tag value is not allowed: the tag is left out
    out += ',';
    append_lp_key(out, k);
    out += '=';
    append_lp_key(out, v);
  }

  bool any = false;
  std::string joined;
  for (const auto& f : fields) {
    if (f.key == "time" || f.key == "machine_id" || f.kind == flat_kind::null) continue;
    out += any ? ',' : ' ';
    any = true;
    append_lp_key(out, f.key);
    out += '=';
    switch (f.kind) {
      case flat_kind::number:
        out.append(f.raw);
        if (f.is_integer) out += 'i';
        break;
      case flat_kind::boolean:
        out.append(f.raw);
        break;
      case flat_kind::string:
        append_lp_string(out, f.text);
        break;
      case flat_kind::array:
        joined.clear();
        for (std::size_t i = 0; i < f.items.size(); ++i) {
          if (i > 0) joined += ',';
          joined += f.items[i];
        }
        append_lp_string(out, joined);
        break;
      case flat_kind::null:
        break;
    }
  }
  if (!any) {
    out.resize(start);
    return false;
  }
  out += ' ';
  const std::int64_t ns =
      static_cast<std::int64_t>(t.time_since_epoch().count()) * std::int64_t{1'000'000};
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, ns);
  out.append(buf, r.ptr);
  out += '\n';
  return true;
}

}  // namespace factorysim::sim
