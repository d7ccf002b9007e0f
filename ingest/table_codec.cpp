#include "ingest/table_codec.hpp"

#include <charconv>
#include <utility>
#include <cstdio>

namespace factorysim::ingest {
namespace {

template <typename Row>
using col = column_def<Row>;

template <typename Row>
void put_time(copy_buffer& b, const Row& r) {
  b.put_timestamptz(r.h.time_us);
}
template <typename Row>
void put_machine(copy_buffer& b, const Row& r) {
  b.put_uuid(r.h.machine_id);
}
template <typename Row>
void put_seq(copy_buffer& b, const Row& r) {
  b.put_int8_or_null(r.h.seq);
}

#define FLOAT_COLUMN(Row, field) \
  col<Row> { #field, [](copy_buffer& b, const Row& r) { b.put_float8_or_null(r.field); } }

constexpr col<energy_row> energy_table[] = {
    {"time", put_time<energy_row>, true},
    {"machine_id", put_machine<energy_row>, true},
    FLOAT_COLUMN(energy_row, power_kw),
    FLOAT_COLUMN(energy_row, energy_kwh),
    FLOAT_COLUMN(energy_row, energy_total_kwh),
    FLOAT_COLUMN(energy_row, voltage_v),
    FLOAT_COLUMN(energy_row, current_a),
    FLOAT_COLUMN(energy_row, power_factor),
    FLOAT_COLUMN(energy_row, frequency_hz),
    FLOAT_COLUMN(energy_row, current_l1_a),
    FLOAT_COLUMN(energy_row, current_l2_a),
    FLOAT_COLUMN(energy_row, current_l3_a),
    {"seq", put_seq<energy_row>},
};

constexpr col<production_row> production_table[] = {
    {"time", put_time<production_row>, true},
    {"machine_id", put_machine<production_row>, true},
    {"production_count",
     [](copy_buffer& b, const production_row& r) { b.put_int8_or_null(r.production_count); }},
    {"production_count_good",
     [](copy_buffer& b, const production_row& r) { b.put_int8_or_null(r.production_count_good); }},
    {"production_count_bad",
     [](copy_buffer& b, const production_row& r) { b.put_int8_or_null(r.production_count_bad); }},
    FLOAT_COLUMN(production_row, throughput_units_per_hour),
    // An enum column: binary COPY of an enum is its label's text (enum_recv).
    {"operating_mode",
     [](copy_buffer& b, const production_row& r) { b.put_text_or_null(r.operating_mode); }},
    FLOAT_COLUMN(production_row, speed_percent),
    {"shift", [](copy_buffer& b, const production_row& r) { b.put_text_or_null(r.shift); }},
    {"seq", put_seq<production_row>},
};

template <std::size_t I>
void put_environmental(copy_buffer& b, const environmental_row& r) {
  b.put_float8_or_null(r.values[I]);
}

template <std::size_t... I>
constexpr auto make_environmental_table(std::index_sequence<I...>) {
  return std::array<col<environmental_row>, sizeof...(I) + 3>{{
      {"time", put_time<environmental_row>, true},
      {"machine_id", put_machine<environmental_row>, true},
      {environmental_keys[I], put_environmental<I>}...,
      {"seq", put_seq<environmental_row>},
  }};
}
// One column per key of environmental_keys, in its order.
constexpr auto environmental_table =
    make_environmental_table(std::make_index_sequence<environmental_keys.size()>{});

constexpr col<status_row> status_table[] = {
    {"time", put_time<status_row>, true},
    {"machine_id", put_machine<status_row>, true},
    {"seq", put_seq<status_row>, true},
    {"is_running",
     [](copy_buffer& b, const status_row& r) {
       if (r.is_running) b.put_bool(*r.is_running);
       else b.put_null();
     },
     true},
    {"operating_mode",
     [](copy_buffer& b, const status_row& r) { b.put_text_or_null(r.operating_mode); }, true},
    {"current_power_kw",
     [](copy_buffer& b, const status_row& r) { b.put_float8_or_null(r.current_power_kw); }, true},
    {"energy_total_kwh",
     [](copy_buffer& b, const status_row& r) { b.put_float8_or_null(r.energy_total_kwh); }, true},
};

void put_opt_time(copy_buffer& b, const std::optional<unix_us>& t) {
  if (t) b.put_timestamptz(*t);
  else b.put_null();
}

constexpr col<event_row> event_table[] = {
    {"time", put_time<event_row>, true},
    {"machine_id", put_machine<event_row>, true},
    {"seq", put_seq<event_row>, true},
    {"is_start", [](copy_buffer& b, const event_row& r) { b.put_bool(r.is_start); }, true},
    {"fault_id",
     [](copy_buffer& b, const event_row& r) {
       // Only fault start/end carry a fault id.
       if (r.kind == event_kind::start || r.kind == event_kind::end)
         b.put_int8(r.fault_id);
       else
         b.put_null();
     },
     true},
    {"anomaly_type", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.anomaly_type); },
     true},
    {"severity", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.severity); }, true},
    {"severity_value",
     [](copy_buffer& b, const event_row& r) { b.put_float8_or_null(r.severity_value); }, true},
    {"metric_name", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.metric_name); },
     true},
    {"signals", [](copy_buffer& b, const event_row& r) { b.put_text_array(r.signals); }, true},
    {"started_at", [](copy_buffer& b, const event_row& r) { put_opt_time(b, r.started_at_us); },
     true},
    {"ended_at", [](copy_buffer& b, const event_row& r) { put_opt_time(b, r.ended_at_us); }, true},
    {"source", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.source); }, true},
    {"kind", [](copy_buffer& b, const event_row& r) { b.put_text(to_string(r.kind)); }, true},
    {"component", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.component); },
     true},
    {"maintenance_type",
     [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.maintenance_type); }, true},
    {"work_order", [](copy_buffer& b, const event_row& r) { b.put_text_or_null(r.work_order); },
     true},
    FLOAT_COLUMN(event_row, health_before),
    FLOAT_COLUMN(event_row, health_after),
    FLOAT_COLUMN(event_row, duration_h),
};

// {"bearing":0.93,...}: component names are escaped; numbers keep every bit (shortest
// round-trip form).
std::string component_health_json(const truth_row& r) {
  std::string s = "{";
  for (const auto& [name, health] : r.component_health) {
    if (s.size() > 1) s += ',';
    s += '"';
    for (const char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        s += '\\';
        s += c;
      } else if (u < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", u);
        s += esc;
      } else {
        s += c;
      }
    }
    s += "\":";
    char num[32];
    const auto res = std::to_chars(num, num + sizeof num, health);
    s.append(num, res.ptr);
  }
  s += '}';
  return s;
}

void put_string_array(copy_buffer& b, const std::vector<std::string>& v) {
  b.put_text_array(v);
}

constexpr col<truth_row> truth_table[] = {
    {"time", put_time<truth_row>, true},
    {"machine_id", put_machine<truth_row>, true},
    FLOAT_COLUMN(truth_row, health_index),
    {"limiting_component",
     [](copy_buffer& b, const truth_row& r) { b.put_text_or_null(r.limiting_component); }},
    FLOAT_COLUMN(truth_row, rul_operating_h),
    FLOAT_COLUMN(truth_row, rul_calendar_h),
    {"failed",
     [](copy_buffer& b, const truth_row& r) {
       if (r.failed)
         b.put_bool(*r.failed);
       else
         b.put_null();
     }},
    {"active_faults",
     [](copy_buffer& b, const truth_row& r) { put_string_array(b, r.active_faults); }},
    {"faulted_signals",
     [](copy_buffer& b, const truth_row& r) { put_string_array(b, r.faulted_signals); }},
    {"interruption",
     [](copy_buffer& b, const truth_row& r) { b.put_text_or_null(r.interruption); }},
    {"component_health",
     [](copy_buffer& b, const truth_row& r) { b.put_jsonb(component_health_json(r)); }},
    {"seq", put_seq<truth_row>},
};

constexpr col<narrow_row> narrow_table[] = {
    {"time", [](copy_buffer& b, const narrow_row& r) { b.put_timestamptz(r.time_us); }, true},
    {"sensor_id", [](copy_buffer& b, const narrow_row& r) { b.put_uuid(r.sensor_id); }, true},
    {"value", [](copy_buffer& b, const narrow_row& r) { b.put_float8_or_null(r.value); }, true},
};

constexpr col<reject_row> reject_table[] = {
    {"received_at",
     [](copy_buffer& b, const reject_row& r) { b.put_timestamptz(r.received_at_us); }},
    {"topic", [](copy_buffer& b, const reject_row& r) { b.put_text(r.topic); }, true},
    {"payload", [](copy_buffer& b, const reject_row& r) { b.put_text(r.payload); }, true},
    {"reason", [](copy_buffer& b, const reject_row& r) { b.put_text(r.reason); }, true},
    {"detail", [](copy_buffer& b, const reject_row& r) { b.put_text(r.detail); }, true},
    {"payload_sha256",
     [](copy_buffer& b, const reject_row& r) { b.put_text_or_null(r.payload_sha256); }, true},
    {"payload_bytes",
     [](copy_buffer& b, const reject_row& r) { b.put_int8(r.payload_bytes); }, true},
    {"payload_truncated",
     [](copy_buffer& b, const reject_row& r) { b.put_bool(r.payload_truncated); }, true},
};

#undef FLOAT_COLUMN

}  // namespace

std::span<const column_def<energy_row>> energy_columns() noexcept { return energy_table; }
std::span<const column_def<production_row>> production_columns() noexcept {
  return production_table;
}
std::span<const column_def<environmental_row>> environmental_columns() noexcept {
  return environmental_table;
}
std::span<const column_def<truth_row>> truth_columns() noexcept {
  return truth_table;
}
std::span<const column_def<narrow_row>> narrow_columns() noexcept {
  return narrow_table;
}
std::span<const column_def<status_row>> status_stage_columns() noexcept { return status_table; }
std::span<const column_def<event_row>> event_stage_columns() noexcept { return event_table; }
std::span<const column_def<reject_row>> reject_stage_columns() noexcept { return reject_table; }

}  // namespace factorysim::ingest
