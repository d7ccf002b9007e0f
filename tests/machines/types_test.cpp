// Names on the wire and in YAML, fault applicability and affected signals.
#include "machines/types.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace factorysim::machines {
namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(types, names_round_trip) {
  for (auto t : {machine_type::compressor, machine_type::hvac, machine_type::motor,
                 machine_type::pump, machine_type::injection_molding}) {
    EXPECT_EQ(parse_machine_type(to_string(t)), t);
  }
  EXPECT_EQ(to_string(machine_type::injection_molding), "injection_molding");
  for (int m = 0; m <= static_cast<int>(operating_mode::offline); ++m) {
    const auto mode = static_cast<operating_mode>(m);
    EXPECT_EQ(parse_operating_mode(to_string(mode)), mode);
  }
  for (int f = 0; f <= static_cast<int>(fault_type::fouled_coil); ++f) {
    const auto ft = static_cast<fault_type>(f);
    EXPECT_EQ(parse_fault_type(to_string(ft)), ft);
  }
  EXPECT_EQ(to_string(fault_type::stuck_sensor), "stuck_sensor");
  EXPECT_FALSE(parse_machine_type("Compressor"));
  EXPECT_FALSE(parse_fault_type("leak"));
  EXPECT_FALSE(parse_operating_mode(""));
}

TEST(types, fault_applies_to_the_right_machines) {
  EXPECT_TRUE(fault_applies(fault_type::spike, machine_type::hvac));
  EXPECT_TRUE(fault_applies(fault_type::air_leak, machine_type::compressor));
  EXPECT_FALSE(fault_applies(fault_type::air_leak, machine_type::pump));
  EXPECT_TRUE(fault_applies(fault_type::bearing_wear, machine_type::motor));
  EXPECT_FALSE(fault_applies(fault_type::bearing_wear, machine_type::injection_molding));
  EXPECT_TRUE(fault_applies(fault_type::belt_slip, machine_type::motor));
  EXPECT_TRUE(fault_applies(fault_type::cavitation, machine_type::pump));
  EXPECT_TRUE(fault_applies(fault_type::heater_failure, machine_type::injection_molding));
  EXPECT_TRUE(fault_applies(fault_type::refrigerant_leak, machine_type::hvac));
  EXPECT_FALSE(fault_applies(fault_type::fouled_coil, machine_type::compressor));
}

TEST(types, affected_signals_name_payload_keys) {
  const auto leak = affected_signals(fault_type::air_leak, machine_type::compressor, "");
  EXPECT_TRUE(contains(leak, "power_kw"));
  EXPECT_TRUE(contains(leak, "pressure_bar"));
  EXPECT_TRUE(contains(leak, "flow_rate_m3h"));
  const auto spike = affected_signals(fault_type::spike, machine_type::pump, "");
  EXPECT_TRUE(contains(spike, "power_kw"));
  EXPECT_EQ(affected_signals(fault_type::drift, machine_type::pump, "pressure_bar"),
            std::vector<std::string>{"pressure_bar"});
  const auto all = affected_signals(fault_type::dropout, machine_type::hvac, "");
  EXPECT_TRUE(contains(all, "power_kw"));
  EXPECT_TRUE(contains(all, "production_count"));
  EXPECT_TRUE(contains(all, "cop"));
  EXPECT_TRUE(
      contains(affected_signals(fault_type::refrigerant_leak, machine_type::hvac, ""), "cop"));
}

}  // namespace
}  // namespace factorysim::machines
