// The wire encoding of docs/topics.md, byte for byte.
#include "sim/payload.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

namespace {

using namespace factorysim;
using machines::sim_time;
using sim::payload_head;

sim_time at(int y, int mo, int d, int h, int mi, int s, int ms) {
  using namespace std::chrono;
  const sys_days date = year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)};
  return time_point_cast<milliseconds>(date) + hours{h} + minutes{mi} + seconds{s} +
         milliseconds{ms};
}

std::string time_text(sim_time t) {
  std::string out;
  sim::append_time(out, t);
  return out;
}

constexpr std::string_view id = "c0000000-0000-0000-0000-000000000001";

TEST(payload_time, formats_utc_with_milliseconds) {
  EXPECT_EQ(time_text(at(2024, 6, 1, 0, 0, 1, 0)), "2024-06-01T00:00:01.000Z");
  EXPECT_EQ(time_text(at(2024, 6, 1, 23, 59, 59, 999)), "2024-06-01T23:59:59.999Z");
  EXPECT_EQ(time_text(at(1970, 1, 1, 0, 0, 0, 7)), "1970-01-01T00:00:00.007Z");
  EXPECT_EQ(time_text(at(1969, 12, 31, 23, 59, 59, 500)), "1969-12-31T23:59:59.500Z");
}

TEST(payload_time, leap_years) {
  EXPECT_EQ(time_text(at(2024, 2, 29, 12, 0, 0, 250)), "2024-02-29T12:00:00.250Z");
  EXPECT_EQ(time_text(at(2024, 2, 29, 23, 59, 59, 999) + std::chrono::milliseconds(1)),
            "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(time_text(at(2023, 2, 28, 23, 59, 59, 999) + std::chrono::milliseconds(1)),
            "2023-03-01T00:00:00.000Z");
  EXPECT_EQ(time_text(at(2000, 2, 29, 0, 0, 0, 0)), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(time_text(at(2100, 2, 28, 0, 0, 0, 0) + std::chrono::hours(24)),
            "2100-03-01T00:00:00.000Z");
  EXPECT_EQ(time_text(at(2024, 12, 31, 23, 59, 59, 0)), "2024-12-31T23:59:59.000Z");
}

TEST(payload_time, every_day_of_four_years_round_trips_through_chrono) {
  using namespace std::chrono;
  const sim_time start = at(2023, 1, 1, 0, 0, 0, 0);
  for (int d = 0; d < 4 * 366; ++d) {
    const sim_time t = start + days{d} + milliseconds{d * 997 % 86'400'000};
    const std::string text = time_text(t);
    sim_time back{};
    ASSERT_TRUE(sim::parse_time(text, back)) << text;
    ASSERT_EQ(back, t) << text;
    const year_month_day ymd{floor<days>(t)};
    ASSERT_EQ(std::stoi(text.substr(0, 4)), static_cast<int>(ymd.year()));
    ASSERT_EQ(std::stoi(text.substr(5, 2)), static_cast<int>(static_cast<unsigned>(ymd.month())));
    ASSERT_EQ(std::stoi(text.substr(8, 2)), static_cast<int>(static_cast<unsigned>(ymd.day())));
  }
}

TEST(payload_time, parse_rejects_malformed) {
  sim_time t{};
  EXPECT_FALSE(sim::parse_time("2023-02-29T00:00:00.000Z", t));
  EXPECT_FALSE(sim::parse_time("2024-06-01 00:00:00Z", t));
  EXPECT_FALSE(sim::parse_time("2024-06-01T00:00:00.Z", t));
  EXPECT_FALSE(sim::parse_time("2024-06-01T24:00:00Z", t));
  EXPECT_FALSE(sim::parse_time("2024-06-01T00:00:00+01:00", t));
  EXPECT_TRUE(sim::parse_time("2024-06-01T00:00:00Z", t));
  EXPECT_EQ(t, at(2024, 6, 1, 0, 0, 0, 0));
}

TEST(payload_numbers, fixed_decimals_and_no_negative_zero) {
  auto fixed = [](double v, int d) {
    std::string out;
    sim::append_fixed(out, v, d);
    return out;
  };
  EXPECT_EQ(fixed(41.2345, 3), "41.234");  // binary 41.2345 is just below the half
  EXPECT_EQ(fixed(41.2355, 3), "41.236");
  EXPECT_EQ(fixed(0.0000004, 6), "0.000000");
  EXPECT_EQ(fixed(-0.0004, 3), "0.000");
  EXPECT_EQ(fixed(-0.0, 1), "0.0");
  EXPECT_EQ(fixed(-1.5, 1), "-1.5");
  EXPECT_EQ(fixed(400, 1), "400.0");
  EXPECT_EQ(fixed(123456789.125, 3), "123456789.125");
}

TEST(payload_strings, json_escaping) {
  std::string out;
  sim::append_json_string(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, R"("a\"b\\c\nd\u0001")");
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), "a\"b\\c\nd\x01");
}

TEST(payload_energy, exact_bytes) {
  machines::energy_reading r;
  r.power_kw = 41.25;
  r.energy_kwh = 41.25 / 3600;
  r.energy_total_kwh = 1234.5678;
  r.voltage_v = 399.87;
  r.current_a = 69.123;
  r.power_factor = 0.8614;
  r.frequency_hz = 49.9987;
  std::string out = "left over from the previous message";
  sim::write_energy(out, {id, at(2024, 6, 1, 0, 0, 1, 0), 1}, r);
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("seq":1,"power_kw":41.250,"energy_kwh":0.011458,"energy_total_kwh":1234.568,)"
            R"("voltage_v":399.9,"current_a":69.12,"power_factor":0.861,"frequency_hz":49.999})");
  const auto j = nlohmann::json::parse(out);
  for (const char* k : {"time", "machine_id", "seq", "power_kw", "energy_kwh", "voltage_v",
                        "current_a", "power_factor", "frequency_hz", "energy_total_kwh"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.size(), 10u);
}

TEST(payload_energy, absent_fields_are_omitted) {
  machines::energy_reading r;
  r.power_kw = 1;
  r.voltage_v = machines::absent;
  r.current_a = std::numeric_limits<double>::infinity();
  std::string out;
  sim::write_energy(out, {id, at(2024, 6, 1, 0, 0, 1, 0), 2}, r);
  EXPECT_EQ(out.find("voltage_v"), std::string::npos);
  EXPECT_EQ(out.find("current_a"), std::string::npos);
  EXPECT_NE(out.find("\"power_kw\":1.000,"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(out).is_object());
}

TEST(payload_production, exact_bytes_with_and_without_shift) {
  machines::production_reading r;
  r.production_count = 12;
  r.production_count_good = 11;
  r.production_count_bad = 1;
  r.throughput_units_per_hour = 1440.04;
  r.mode = machines::operating_mode::running;
  r.speed_percent = 87.25;
  std::string out;
  sim::write_production(out, {id, at(2024, 6, 1, 6, 0, 10, 0), 7}, r, "early");
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T06:00:10.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("seq":7,"production_count":12,"production_count_good":11,"production_count_bad":1,)"
            R"("throughput_units_per_hour":1440.0,"operating_mode":"running","speed_percent":87.2,)"
            R"("shift":"early"})");
  sim::write_production(out, {id, at(2024, 6, 1, 6, 0, 10, 0), 8}, r, "");
  EXPECT_EQ(out.find("shift"), std::string::npos);
  const auto j = nlohmann::json::parse(out);
  for (const char* k : {"production_count", "production_count_good", "production_count_bad",
                        "throughput_units_per_hour", "operating_mode", "speed_percent"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["seq"], 8);
}

TEST(payload_production, unicode_shift_name_passes_through) {
  machines::production_reading r;
  std::string out;
  sim::write_production(out, {id, at(2024, 6, 1, 6, 0, 0, 0), 1}, r, "Frühschicht");
  EXPECT_EQ(nlohmann::json::parse(out)["shift"], "Frühschicht");
  EXPECT_EQ(nlohmann::json::parse(out)["operating_mode"], "idle");
}

TEST(payload_environmental, present_keys_in_spec_order_with_their_decimals) {
  machines::environmental_reading r;
  r.outdoor_temp_c = 18.456;
  r.machine_temp_c = 71.2;
  r.outdoor_humidity_percent = 61.26;
  r.pressure_bar = 7.0049;
  r.pressure_setpoint_bar = 7;
  r.cop = 3.14159;
  r.vibration_mm_s = 2.345;
  std::string out;
  sim::write_environmental(out, {id, at(2024, 6, 1, 0, 0, 30, 0), 3}, r);
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T00:00:30.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("seq":3,"outdoor_temp_c":18.46,"machine_temp_c":71.20,"outdoor_humidity_percent":61.3,)"
            R"("pressure_bar":7.00,"pressure_setpoint_bar":7.00,"cop":3.142,"vibration_mm_s":2.35})");
}

TEST(payload_environmental, all_keys_are_spec_keys) {
  machines::environmental_reading r;
  double* fields[] = {&r.outdoor_temp_c, &r.indoor_temp_c, &r.machine_temp_c,
                      &r.outdoor_humidity_percent, &r.indoor_humidity_percent, &r.pressure_bar,
                      &r.pressure_setpoint_bar, &r.flow_rate_m3h, &r.supply_air_temp_c,
                      &r.return_air_temp_c, &r.chilled_water_supply_temp_c,
                      &r.chilled_water_return_temp_c, &r.cop, &r.vibration_mm_s};
  for (double* f : fields) *f = 1;
  std::string out;
  sim::write_environmental(out, {id, at(2024, 6, 1, 0, 0, 30, 0), 3}, r);
  const auto j = nlohmann::json::parse(out);
  const std::vector<std::string> spec = {
      "outdoor_temp_c", "indoor_temp_c", "machine_temp_c", "outdoor_humidity_percent",
      "indoor_humidity_percent", "pressure_bar", "pressure_setpoint_bar", "flow_rate_m3h",
      "supply_air_temp_c", "return_air_temp_c", "chilled_water_supply_temp_c",
      "chilled_water_return_temp_c", "cop", "vibration_mm_s"};
  std::size_t last = 0;
  for (const auto& k : spec) {
    ASSERT_TRUE(j.contains(k)) << k;
    const std::size_t pos = out.find("\"" + k + "\":");
    EXPECT_GT(pos, last) << k << " out of docs/topics.md order";
    last = pos;
  }
  EXPECT_EQ(j.size(), spec.size() + 3);
}

TEST(payload_status, exact_bytes_and_will_without_seq) {
  sim::status_fields s;
  s.is_running = true;
  s.mode = machines::operating_mode::running;
  s.current_power_kw = 42.0004;
  s.energy_total_kwh = 10;
  std::string out;
  sim::write_status(out, {id, at(2024, 6, 1, 0, 0, 1, 0), 1}, s);
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("seq":1,"is_running":true,"operating_mode":"running","current_power_kw":42.000,)"
            R"("energy_total_kwh":10.000})");
  sim::status_fields will;
  sim::write_status(out, {id, at(2024, 6, 1, 0, 0, 0, 0), 0}, will);
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T00:00:00.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("is_running":false,"operating_mode":"offline","current_power_kw":0.000})");
}

TEST(payload_events, start_and_end_exact_bytes) {
  machines::fault_event e;
  e.what = machines::fault_event::kind::start;
  e.at = at(2024, 6, 1, 1, 0, 0, 0);
  e.f.id = 3;
  e.f.type = machines::fault_type::air_leak;
  e.f.severity = 0.456;
  e.f.start = e.at;
  e.f.source = "scenario";
  e.signals = {"power_kw", "pressure_bar"};
  std::string out;
  sim::write_event(out, {id, e.at, 1}, e);
  EXPECT_EQ(out,
            R"({"time":"2024-06-01T01:00:00.000Z","machine_id":"c0000000-0000-0000-0000-000000000001",)"
            R"("seq":1,"event":"start","fault_id":3,"anomaly_type":"air_leak","severity":"warning",)"
            R"("severity_value":0.46,"metric_name":"power_kw","signals":["power_kw","pressure_bar"],)"
            R"("started_at":"2024-06-01T01:00:00.000Z","source":"scenario"})");

  e.f.end = at(2024, 6, 1, 1, 30, 0, 0);
  sim::write_event(out, {id, e.at, 1}, e);
  EXPECT_NE(out.find(R"("started_at":"2024-06-01T01:00:00.000Z","ended_at":"2024-06-01T01:30:00.000Z")"),
            std::string::npos);

  e.what = machines::fault_event::kind::end;
  e.at = *e.f.end;
  e.f.severity = 0.9;
  e.f.source = "api";
  sim::write_event(out, {id, e.at, 2}, e);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["event"], "end");
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["ended_at"], "2024-06-01T01:30:00.000Z");
  EXPECT_EQ(j["source"], "api");
  EXPECT_EQ(j["seq"], 2);
}

TEST(payload_events, end_without_planned_end_uses_the_event_time) {
  machines::fault_event e;
  e.what = machines::fault_event::kind::end;
  e.at = at(2024, 6, 1, 2, 0, 0, 0);
  e.f.type = machines::fault_type::spike;
  e.f.severity = 0.1;
  e.f.start = at(2024, 6, 1, 1, 0, 0, 0);
  std::string out;
  sim::write_event(out, {id, e.at, 5}, e);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["ended_at"], "2024-06-01T02:00:00.000Z");
  EXPECT_EQ(j["severity"], "warning");  // issue 10: a faint fault is not "normal"
  EXPECT_FALSE(j.contains("metric_name"));
  EXPECT_TRUE(j["signals"].is_array());
}

TEST(payload_severity, thresholds) {
  // Issue 10: an active fault at severity 0.2 was published as "normal".
  EXPECT_EQ(sim::severity_level(0.0), "warning");
  EXPECT_EQ(sim::severity_level(0.2), "warning");
  EXPECT_EQ(sim::severity_level(0.3), "warning");
  EXPECT_EQ(sim::severity_level(0.6999), "warning");
  EXPECT_EQ(sim::severity_level(0.7), "critical");
  EXPECT_EQ(sim::severity_level(1.0), "critical");
}

TEST(payload_buffer, steady_state_reuses_capacity) {
  machines::energy_reading r;
  std::string out;
  out.reserve(512);
  const auto* data = out.data();
  for (int i = 1; i < 1000; ++i) {
    r.power_kw = i * 1.5;
    sim::write_energy(out, {id, at(2024, 6, 1, 0, 0, 0, 0) + std::chrono::seconds(i),
                            static_cast<std::uint64_t>(i)}, r);
  }
  EXPECT_EQ(out.data(), data);  // no reallocation
}

}  // namespace
