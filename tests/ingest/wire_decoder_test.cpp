// Unit tests of the pure decoder: every reject class, a valid payload of each stream,
// unknown keys ignored, and the hand-written scanner against nlohmann::json on a corpus.
#include "ingest/wire_decoder.hpp"

#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "ingest/json_scanner.hpp"

namespace factorysim::ingest {
namespace {

constexpr std::string_view machine = "c0000000-0000-0000-0000-000000000001";
constexpr unix_us t_2024_06_01 = 1717200000LL * 1000000;

decode_options options() {
  decode_options o;
  o.now_us = t_2024_06_01;
  return o;
}

template <typename Row>
Row expect_row(std::string_view topic, std::string_view payload) {
  const auto r = decode_message(topic, payload, options());
  if (const auto* rej = std::get_if<reject>(&r)) {
    ADD_FAILURE() << "rejected " << to_string(rej->reason) << ": " << rej->detail << "\n"
                  << payload;
    return Row{};
  }
  const auto& row = std::get<decoded_row>(r);
  EXPECT_TRUE(std::holds_alternative<Row>(row)) << payload;
  return std::holds_alternative<Row>(row) ? std::get<Row>(row) : Row{};
}

reject expect_reject(std::string_view topic, std::string_view payload,
                     const decode_options& o = options()) {
  const auto r = decode_message(topic, payload, o);
  EXPECT_TRUE(std::holds_alternative<reject>(r)) << "accepted: " << payload;
  return std::holds_alternative<reject>(r) ? std::get<reject>(r) : reject{};
}

TEST(wire_decoder, energy_payload_decodes_every_field) {
  const auto r = expect_row<energy_row>(
      "factory/demo/compressor-1/energy",
      R"({"time":"2024-06-01T00:00:01.250Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":42,"power_kw":41.5,"energy_kwh":0.011527,"energy_total_kwh":1234.5,)"
      R"("voltage_v":400.2,"current_a":70.1,"power_factor":0.85,"frequency_hz":50.01,)"
      R"("current_l1_a":69.8,"current_l2_a":70.0,"current_l3_a":70.5})");
  EXPECT_EQ(r.h.time_us, t_2024_06_01 + 1250000);
  EXPECT_EQ(to_string(r.h.machine_id), machine);
  ASSERT_TRUE(r.h.seq.has_value());
  EXPECT_EQ(*r.h.seq, 42);
  EXPECT_DOUBLE_EQ(r.power_kw, 41.5);
  EXPECT_DOUBLE_EQ(r.energy_kwh, 0.011527);
  EXPECT_DOUBLE_EQ(r.energy_total_kwh, 1234.5);
  EXPECT_DOUBLE_EQ(r.voltage_v, 400.2);
  EXPECT_DOUBLE_EQ(r.current_a, 70.1);
  EXPECT_DOUBLE_EQ(r.power_factor, 0.85);
  EXPECT_DOUBLE_EQ(r.frequency_hz, 50.01);
  EXPECT_DOUBLE_EQ(r.current_l1_a, 69.8);
  EXPECT_DOUBLE_EQ(r.current_l2_a, 70.0);
  EXPECT_DOUBLE_EQ(r.current_l3_a, 70.5);
}

TEST(wire_decoder, condition_monitoring_keys_land_in_their_columns) {
  const auto r = expect_row<environmental_row>(
      "factory/demo/compressor-1/environmental",
      R"({"time":"2024-06-01T00:00:10.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":7,"vibration_mm_s":2.6,"bearing_temp_c":78.5,"vibration_kurtosis":3.1,)"
      R"("vibration_bearing_defect_ge":0.041,"current_unbalance_percent":1.2,)"
      R"("run_hours":12.5,"start_count":3})");
  const std::map<std::string_view, double> want{
      {"vibration_mm_s", 2.6}, {"bearing_temp_c", 78.5},          {"vibration_kurtosis", 3.1},
      {"vibration_bearing_defect_ge", 0.041}, {"current_unbalance_percent", 1.2},
      {"run_hours", 12.5},     {"start_count", 3}};
  for (std::size_t i = 0; i < environmental_keys.size(); ++i) {
    const auto it = want.find(environmental_keys[i]);
    if (it != want.end()) EXPECT_DOUBLE_EQ(r.values[i], it->second) << it->first;
    else EXPECT_TRUE(std::isnan(r.values[i])) << environmental_keys[i];
  }
}

TEST(wire_decoder, production_payload_decodes_every_field) {
  const auto r = expect_row<production_row>(
      "factory/demo/conveyor-a/production",
      R"({"time":"2024-06-01T00:00:10.000Z","machine_id":"c0000000-0000-0000-0000-000000000003",)"
      R"("seq":1,"production_count":12,"production_count_good":11,"production_count_bad":1,)"
      R"("throughput_units_per_hour":4320.5,"operating_mode":"running","speed_percent":87.5,)"
      R"("shift":"morning"})");
  EXPECT_EQ(r.production_count, 12);
  EXPECT_EQ(r.production_count_good, 11);
  EXPECT_EQ(r.production_count_bad, 1);
  EXPECT_DOUBLE_EQ(r.throughput_units_per_hour, 4320.5);
  EXPECT_EQ(r.operating_mode, "running");
  EXPECT_DOUBLE_EQ(r.speed_percent, 87.5);
  EXPECT_EQ(r.shift, "morning");
}

TEST(wire_decoder, environmental_payload_takes_any_subset) {
  const auto r = expect_row<environmental_row>(
      "factory/demo/hvac-main/environmental",
      R"({"time":"2024-06-01T00:00:10.000Z","machine_id":"c0000000-0000-0000-0000-000000000002",)"
      R"("seq":7,"indoor_temp_c":21.5,"cop":3.25,"vibration_mm_s":1.5e0})");
  for (std::size_t i = 0; i < environmental_keys.size(); ++i) {
    if (environmental_keys[i] == "indoor_temp_c") EXPECT_DOUBLE_EQ(r.values[i], 21.5);
    else if (environmental_keys[i] == "cop") EXPECT_DOUBLE_EQ(r.values[i], 3.25);
    else if (environmental_keys[i] == "vibration_mm_s") EXPECT_DOUBLE_EQ(r.values[i], 1.5);
    else EXPECT_TRUE(std::isnan(r.values[i])) << environmental_keys[i];
  }
}

TEST(wire_decoder, status_and_last_will) {
  const auto r = expect_row<status_row>(
      "factory/demo/compressor-1/status",
      R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":3,"is_running":true,"operating_mode":"running","current_power_kw":41.2,)"
      R"("energy_total_kwh":100.5})");
  EXPECT_EQ(r.is_running, true);
  EXPECT_EQ(r.operating_mode, "running");
  EXPECT_DOUBLE_EQ(r.current_power_kw, 41.2);
  const auto will = expect_row<status_row>(
      "factory/demo/compressor-1/status",
      R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("is_running":false,"operating_mode":"offline"})");
  EXPECT_EQ(will.operating_mode, "offline");
  EXPECT_FALSE(will.h.seq.has_value());
  EXPECT_TRUE(std::isnan(will.current_power_kw));
}

TEST(wire_decoder, event_start_and_end) {
  const auto start = expect_row<event_row>(
      "factory/demo/compressor-1/events",
      R"({"time":"2024-06-01T00:00:05.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":1,"event":"start","fault_id":17,"anomaly_type":"air_leak","severity":"warning",)"
      R"("severity_value":0.6,"metric_name":"power_kw","signals":["power_kw","pressure_bar"],)"
      R"("started_at":"2024-06-01T00:00:05.000Z","source":"scenario"})");
  EXPECT_TRUE(start.is_start);
  EXPECT_EQ(start.fault_id, 17);
  EXPECT_EQ(start.anomaly_type, "air_leak");
  EXPECT_EQ(start.severity, "warning");
  EXPECT_DOUBLE_EQ(start.severity_value, 0.6);
  EXPECT_EQ(start.metric_name, "power_kw");
  EXPECT_EQ(start.signals, (std::vector<std::string>{"power_kw", "pressure_bar"}));
  EXPECT_EQ(start.started_at_us, t_2024_06_01 + 5000000);
  EXPECT_FALSE(start.ended_at_us.has_value());
  EXPECT_EQ(start.source, "scenario");
  const auto end = expect_row<event_row>(
      "factory/demo/compressor-1/events",
      R"({"time":"2024-06-01T00:10:05.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":2,"event":"end","fault_id":17,"anomaly_type":"air_leak","severity":"warning",)"
      R"("started_at":"2024-06-01T00:00:05.000Z","ended_at":"2024-06-01T00:10:05.000Z"})");
  EXPECT_FALSE(end.is_start);
  EXPECT_EQ(end.ended_at_us, t_2024_06_01 + 605000000);
}

// Contract item 2 (issue 11): failure and maintenance events are accepted, not dead-lettered.
TEST(wire_decoder, failure_event_opens_a_critical_component_failure) {
  const auto f = expect_row<event_row>(
      "factory/demo/compressor-1/events",
      R"({"time":"2024-06-01T03:00:00.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":9,"event":"failure","component":"bearing","anomaly_type":"bearing_failure",)"
      R"("severity":"critical"})");
  EXPECT_EQ(f.kind, event_kind::failure);
  EXPECT_TRUE(f.is_start);
  EXPECT_EQ(f.component, "bearing");
  EXPECT_EQ(f.anomaly_type, "bearing_failure");
  EXPECT_EQ(f.severity, "critical");
  EXPECT_EQ(f.started_at_us, t_2024_06_01 + 3 * 3600 * 1000000LL);
  EXPECT_EQ(f.source, "failure");
  // anomaly_type and severity follow from the component when a publisher leaves them out.
  const auto bare = expect_row<event_row>(
      "f/m/events",
      R"({"time":"2024-06-01T03:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("event":"failure","component":"seal"})");
  EXPECT_EQ(bare.anomaly_type, "seal_failure");
  EXPECT_EQ(bare.severity, "critical");
}

TEST(wire_decoder, maintenance_start_and_end_carry_the_work_order) {
  const auto start = expect_row<event_row>(
      "factory/demo/compressor-1/events",
      R"({"time":"2024-06-01T04:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":10,"event":"maintenance_start","maintenance_type":"corrective","component":"bearing",)"
      R"("health_before":0.12,"work_order":"WO-42-0001","duration_h":4})");
  EXPECT_EQ(start.kind, event_kind::maintenance_start);
  EXPECT_TRUE(start.is_start);
  EXPECT_EQ(start.maintenance_type, "corrective");
  EXPECT_EQ(start.component, "bearing");
  EXPECT_EQ(start.work_order, "WO-42-0001");
  EXPECT_DOUBLE_EQ(start.health_before, 0.12);
  EXPECT_TRUE(std::isnan(start.health_after));
  EXPECT_DOUBLE_EQ(start.duration_h, 4.0);
  const auto end = expect_row<event_row>(
      "f/m/events",
      R"({"time":"2024-06-01T08:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":11,"event":"maintenance_end","maintenance_type":"preventive",)"
      R"("health_before":0.5,"health_after":1.0,"work_order":"WO-42-0002","duration_h":3.5})");
  EXPECT_EQ(end.kind, event_kind::maintenance_end);
  EXPECT_FALSE(end.is_start);
  EXPECT_EQ(end.component, "all");  // absent component = the whole machine
  EXPECT_DOUBLE_EQ(end.health_after, 1.0);
}

// Contract item 1 (issue 11): T/truth is a stream of its own, never a dead letter.
TEST(wire_decoder, truth_payload_decodes_every_field_and_component_health) {
  const auto t = expect_row<truth_row>(
      "factory/demo/compressor-1/truth",
      R"({"time":"2024-06-01T00:00:01Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("seq":3,"health_index":0.81,"limiting_component":"bearing","rul_operating_h":1234.5,)"
      R"("rul_calendar_h":2000,"failed":false,"active_faults":["bearing_wear"],)"
      R"("faulted_signals":["vibration_mm_s","power_kw"],"interruption":"micro_stop",)"
      R"("health_bearing":0.81,"health_valve":0.97,"future":{"x":1}})");
  EXPECT_EQ(*t.h.seq, 3);
  EXPECT_DOUBLE_EQ(t.health_index, 0.81);
  EXPECT_EQ(t.limiting_component, "bearing");
  EXPECT_DOUBLE_EQ(t.rul_operating_h, 1234.5);
  EXPECT_DOUBLE_EQ(t.rul_calendar_h, 2000.0);
  ASSERT_TRUE(t.failed.has_value());
  EXPECT_FALSE(*t.failed);
  EXPECT_EQ(t.active_faults, (std::vector<std::string>{"bearing_wear"}));
  EXPECT_EQ(t.faulted_signals, (std::vector<std::string>{"vibration_mm_s", "power_kw"}));
  EXPECT_EQ(t.interruption, "micro_stop");
  ASSERT_EQ(t.component_health.size(), 2u);
  EXPECT_EQ(t.component_health[0].first, "bearing");
  EXPECT_DOUBLE_EQ(t.component_health[0].second, 0.81);
  EXPECT_EQ(t.component_health[1].first, "valve");
  const auto failed = expect_row<truth_row>(
      "f/m/truth",
      R"({"time":"2024-06-01T00:00:01Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
      R"("health_index":0,"failed":true,"rul_operating_h":0,"active_faults":[],"faulted_signals":[]})");
  EXPECT_TRUE(*failed.failed);
  EXPECT_TRUE(failed.active_faults.empty());
  EXPECT_TRUE(failed.component_health.empty());
  EXPECT_TRUE(failed.limiting_component.empty());
  EXPECT_TRUE(failed.interruption.empty());  // absent: producing, or not scheduled to
}

TEST(wire_decoder, unknown_keys_are_ignored_whatever_their_shape) {
  const auto r = expect_row<energy_row>(
      "factory/x/m/energy",
      R"({"future_key":{"nested":[1,2,{"a":null}]},"time":"2024-06-01T00:00:00Z",)"
      R"("note":"h\u00e9llo \"quoted\"","machine_id":"C0000000-0000-0000-0000-000000000001",)"
      R"("power_kw":1,"list":[true,false,null,-1.5e-3],"power_kw_avg":"text"})");
  EXPECT_DOUBLE_EQ(r.power_kw, 1.0);
  EXPECT_EQ(to_string(r.h.machine_id), machine);  // upper case accepted, stored canonical
  EXPECT_TRUE(std::isnan(r.voltage_v));
}

TEST(wire_decoder, rfc3339_offsets_and_fractions) {
  unix_us t = 0;
  ASSERT_TRUE(parse_rfc3339("2024-06-01T02:00:01.5+02:00", t));
  EXPECT_EQ(t, t_2024_06_01 + 1500000);
  ASSERT_TRUE(parse_rfc3339("2024-05-31T19:00:00-05:00", t));
  EXPECT_EQ(t, t_2024_06_01);
  ASSERT_TRUE(parse_rfc3339("2024-06-01T00:00:00.1234567Z", t));
  EXPECT_EQ(t, t_2024_06_01 + 123456);
  ASSERT_TRUE(parse_rfc3339("2000-01-01T00:00:00Z", t));
  EXPECT_EQ(t, 946684800LL * 1000000);
  ASSERT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z", t));
  EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z", t));
  EXPECT_FALSE(parse_rfc3339("2024-06-01T00:00:00", t));       // no offset
  EXPECT_FALSE(parse_rfc3339("2024-06-01 00:00", t));
  EXPECT_FALSE(parse_rfc3339("2024-13-01T00:00:00Z", t));
  EXPECT_FALSE(parse_rfc3339("2024-06-01T24:00:00Z", t));
  EXPECT_FALSE(parse_rfc3339("2024-06-01T00:00:00.Z", t));
  EXPECT_FALSE(parse_rfc3339("2024-06-01T00:00:00Zjunk", t));
  EXPECT_EQ(format_rfc3339_ms(t_2024_06_01 + 1250000), "2024-06-01T00:00:01.250Z");
  EXPECT_EQ(format_rfc3339_ms(946684800LL * 1000000), "2000-01-01T00:00:00.000Z");
}

struct reject_case {
  std::string_view name;
  std::string topic;
  std::string payload;
  reject_reason reason;
};

std::string energy_with(std::string_view extra) {
  return std::string(R"({"time":"2024-06-01T00:00:00.000Z","machine_id":")") +
         std::string(machine) + "\"" + std::string(extra) + "}";
}

TEST(wire_decoder, every_reject_class) {
  const std::string e = "factory/demo/compressor-1/energy";
  const std::vector<reject_case> cases = {
      {"empty", e, "", reject_reason::not_json},
      {"garbage", e, "hello", reject_reason::not_json},
      {"truncated", e, R"({"time":"2024-06-01T00:00:00.000Z")", reject_reason::not_json},
      {"trailing comma", e, energy_with(R"(,"power_kw":1,)"), reject_reason::not_json},
      {"trailing text", e, energy_with("") + "x", reject_reason::not_json},
      {"single quotes", e, "{'time':1}", reject_reason::not_json},
      {"raw newline in string", e, "{\"a\":\"x\ny\"}", reject_reason::not_json},
      {"NaN deep", e, energy_with(R"(,"x":[NaN])"), reject_reason::not_json},
      {"array", e, "[1,2]", reject_reason::not_object},
      {"number", e, "42", reject_reason::not_object},
      {"string", e, R"("text")", reject_reason::not_object},
      {"bad suffix", "factory/demo/compressor-1/energies", energy_with(""),
       reject_reason::unknown_stream},
      {"no machine topic", "energy", energy_with(""), reject_reason::unknown_stream},
      {"no time", e, R"({"machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::missing_field},
      {"no machine", e, R"({"time":"2024-06-01T00:00:00.000Z"})", reject_reason::missing_field},
      {"event without fault_id", "f/m/events",
       energy_with(R"(,"event":"start","started_at":"2024-06-01T00:00:00Z")"),
       reject_reason::missing_field},
      {"string power", e, energy_with(R"(,"power_kw":"12.5")"), reject_reason::wrong_type},
      {"bool power", e, energy_with(R"(,"power_kw":true)"), reject_reason::wrong_type},
      {"time number", e,
       R"({"time":1717200000,"machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::wrong_type},
      {"fractional count", "f/m/production", energy_with(R"(,"production_count":1.5)"),
       reject_reason::wrong_type},
      {"fractional seq", e, energy_with(R"(,"seq":1.0)"), reject_reason::wrong_type},
      {"is_running string", "f/m/status", energy_with(R"(,"is_running":"yes")"),
       reject_reason::wrong_type},
      {"signals numbers", "f/m/events",
       energy_with(
           R"(,"event":"end","fault_id":1,"started_at":"2024-06-01T00:00:00Z","signals":[1])"),
       reject_reason::wrong_type},
      {"NaN", e, energy_with(R"(,"power_kw":NaN)"), reject_reason::non_finite},
      {"Infinity", e, energy_with(R"(,"voltage_v":Infinity)"), reject_reason::non_finite},
      {"-Infinity", e, energy_with(R"(,"voltage_v":-Infinity)"), reject_reason::non_finite},
      {"overflow", e, energy_with(R"(,"current_a":1e999)"), reject_reason::non_finite},
      {"bad uuid", e, R"({"time":"2024-06-01T00:00:00Z","machine_id":"c0000000-0000-0000-0000"})",
       reject_reason::invalid_value},
      {"bad mode", "f/m/production", energy_with(R"(,"operating_mode":"sleeping")"),
       reject_reason::invalid_value},
      {"bad severity", "f/m/events",
       energy_with(
           R"(,"event":"start","fault_id":1,"started_at":"2024-06-01T00:00:00Z","severity":"meh")"),
       reject_reason::invalid_value},
      {"bad event", "f/m/events",
       energy_with(R"(,"event":"middle","fault_id":1,"started_at":"2024-06-01T00:00:00Z")"),
       reject_reason::invalid_value},
      {"negative seq", e, energy_with(R"(,"seq":-1)"), reject_reason::invalid_value},
      {"huge int", "f/m/production", energy_with(R"(,"production_count":99999999999999999999)"),
       reject_reason::invalid_value},
      {"NUL in string", "f/m/production", energy_with(R"(,"shift":"a\u0000b")"),
       reject_reason::invalid_value},
      {"bad UTF-8", "f/m/production", energy_with(",\"shift\":\"\xff\xfe\""),
       reject_reason::not_json},
      {"overlong UTF-8", "f/m/production", energy_with(",\"shift\":\"\xc0\xaf\""),
       reject_reason::not_json},
      {"event without anomaly_type", "f/m/events",
       energy_with(R"(,"event":"start","fault_id":1,"started_at":"2024-06-01T00:00:00Z")"),
       reject_reason::missing_field},
      {"lone surrogate", "f/m/production", energy_with(R"(,"shift":"\ud800")"),
       reject_reason::invalid_value},
      {"time garbage", e,
       R"({"time":"yesterday","machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::bad_time},
      {"time no zone", e,
       R"({"time":"2024-06-01T00:00:00","machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::bad_time},
      {"time 1999", e,
       R"({"time":"1999-12-31T23:59:59.999Z","machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::time_out_of_range},
      {"time next week", e,
       R"({"time":"2024-06-08T00:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001"})",
       reject_reason::time_out_of_range},
      {"event without event", "f/m/events",
       energy_with(R"(,"fault_id":1,"anomaly_type":"x","started_at":"2024-06-01T00:00:00Z")"),
       reject_reason::missing_field},
      {"failure without component", "f/m/events", energy_with(R"(,"event":"failure")"),
       reject_reason::missing_field},
      {"maintenance without work order", "f/m/events",
       energy_with(R"(,"event":"maintenance_start","maintenance_type":"preventive")"),
       reject_reason::missing_field},
      {"maintenance without type", "f/m/events",
       energy_with(R"(,"event":"maintenance_end","work_order":"WO-1")"),
       reject_reason::missing_field},
      {"bad maintenance type", "f/m/events",
       energy_with(R"(,"event":"maintenance_end","work_order":"WO-1","maintenance_type":"x")"),
       reject_reason::invalid_value},
      {"truth without health_index", "f/m/truth", energy_with(R"(,"failed":false)"),
       reject_reason::missing_field},
      {"truth faults not strings", "f/m/truth",
       energy_with(R"(,"health_index":1,"active_faults":[1])"), reject_reason::wrong_type},
      {"truth component health string", "f/m/truth",
       energy_with(R"(,"health_index":1,"health_bearing":"ok")"), reject_reason::wrong_type},
      {"truth health NaN", "f/m/truth", energy_with(R"(,"health_index":NaN)"),
       reject_reason::non_finite},
      {"started_at 1990", "f/m/events",
       energy_with(R"(,"event":"start","fault_id":1,"started_at":"1990-01-01T00:00:00Z")"),
       reject_reason::time_out_of_range},
  };
  for (const auto& c : cases) {
    const auto r = expect_reject(c.topic, c.payload);
    EXPECT_EQ(to_string(r.reason), to_string(c.reason)) << c.name << ": " << r.detail;
    EXPECT_FALSE(r.detail.empty()) << c.name;
  }
}

TEST(wire_decoder, oversized_payload_is_rejected_before_parsing) {
  auto o = options();
  o.max_payload_bytes = 100;
  std::string big = energy_with(R"(,"pad":")" + std::string(200, 'x') + "\"");
  EXPECT_EQ(expect_reject("f/m/energy", big, o).reason, reject_reason::oversized);
  o.max_payload_bytes = big.size();
  EXPECT_TRUE(std::holds_alternative<decoded_row>(decode_message("f/m/energy", big, o)));
}

TEST(wire_decoder, the_time_window_bounds_are_inclusive) {
  auto o = options();
  EXPECT_TRUE(std::holds_alternative<decoded_row>(decode_message(
      "f/m/energy",
      R"({"time":"2024-06-02T00:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001"})",
      o)));
  EXPECT_TRUE(std::holds_alternative<reject>(decode_message(
      "f/m/energy",
      R"({"time":"2024-06-02T00:00:00.001Z","machine_id":"c0000000-0000-0000-0000-000000000001"})",
      o)));
  o.now_us = 0;  // no upper bound
  EXPECT_TRUE(std::holds_alternative<decoded_row>(decode_message(
      "f/m/energy",
      R"({"time":"2090-01-01T00:00:00Z","machine_id":"c0000000-0000-0000-0000-000000000001"})",
      o)));
}

TEST(wire_decoder, null_measurements_mean_not_measured) {
  const auto r = expect_row<energy_row>("f/m/energy", energy_with(R"(,"power_kw":null,"seq":null)"));
  EXPECT_TRUE(std::isnan(r.power_kw));
  EXPECT_FALSE(r.h.seq.has_value());
}

TEST(wire_decoder, uuid_round_trip) {
  const auto id = parse_uuid("0123abcd-ef01-4567-89AB-cdef01234567");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ((*id)[0], 0x01);
  EXPECT_EQ((*id)[15], 0x67);
  EXPECT_EQ(to_string(*id), "0123abcd-ef01-4567-89ab-cdef01234567");
  EXPECT_FALSE(parse_uuid("0123abcd-ef01-4567-89AB-cdef0123456g").has_value());
  EXPECT_FALSE(parse_uuid("0123abcdef0145670089ABcdef01234567").has_value());
}

// The scanner must accept exactly what a conforming parser accepts (except NaN/Infinity
// tokens at the top level, which it reads so it can name the problem).
TEST(json_scanner, agrees_with_nlohmann_on_a_corpus) {
  const std::vector<std::string> corpus = {
      "{}", " { } ", R"({"a":1})", R"({"a":-0})", R"({"a":01})", R"({"a":1.})", R"({"a":.5})",
      R"({"a":1e5})", R"({"a":1E+5})", R"({"a":1e})", R"({"a":-})", R"({"a":+1})",
      R"({"a":"\u12"})", R"({"a":"\x"})", R"({"a":"\/"})", R"({"a":[]})", R"({"a":[1,]})",
      R"({"a":{"b":{"c":[[]]}}})", R"({"a":{"b":}})", R"({"a" 1})", R"({"a":1 "b":2})",
      R"({"a":1}})", R"({"a":tru})", R"({"a":true})", R"({"a":nul})", R"({1:2})",
      "{\"a\":\"\t\"}", R"({"a":"ok"} )", "{\"a\":1}\n", R"([1,{"a":2}])", "null", "",
      R"({"a":[1,2,[3,[4,{"x":"y"}]]]})", R"({"\u0061":1})", R"({"a":1,"a":2})",
      R"({"a":-12.5e-3,"b":false,"c":null})", "{\"a\":\"caf\xc3\xa9\"}",
      "{\"a\":\"\xff\"}", "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\xf0\x9f\x98\x80\"}",
      "{\"\xc3\xa9\":1}", "{\"a\":\"\xed\xa0\x80\"}",
  };
  for (const auto& doc : corpus) {
    const bool reference = nlohmann::json::accept(doc);
    json::scan_error err;
    std::string key_buffer;
    const auto st = json::scan_object(
        doc, [](std::string_view, const json::value&) { return true; }, err, key_buffer);
    const bool ours = st != json::scan_status::not_json;
    EXPECT_EQ(ours, reference) << doc;
    if (reference && ours) {
      EXPECT_EQ(st == json::scan_status::ok, nlohmann::json::parse(doc).is_object()) << doc;
    }
  }
}

}  // namespace
}  // namespace factorysim::ingest
