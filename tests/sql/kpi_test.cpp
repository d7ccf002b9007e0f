// KPI functions against values computed by hand on small fixed data sets (comments show the
// arithmetic). Half-open ranges, time-of-use at the 09:00/21:00 edges in
// America/Los_Angeles, across the March 2024 DST change, weekends, fallbacks.
#include <gtest/gtest.h>

#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

constexpr const char* la =
    "11111111-1111-1111-1111-111111111111";  // Demo plant, America/Los_Angeles
constexpr const char* m_tou = "c0000000-0000-0000-0000-000000000001";   // tariff edge readings
constexpr const char* m_peak = "c0000000-0000-0000-0000-000000000002";  // 5-minute readings

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

/// Demo plant tariffs and carbon factors (docs/plant.md) plus the fixed readings.
std::string kpi_database() {
  const std::string db = migrated_database();
  exec_sql(db, replace_all(replace_all(R"(
    INSERT INTO factories (id, name, timezone, carbon_region) VALUES
      ('11111111-1111-1111-1111-111111111111', 'Demo', 'America/Los_Angeles', 'US-California'),
      ('22222222-2222-2222-2222-222222222222', 'Munich', 'Europe/Berlin', 'Germany');
    INSERT INTO machines (id, factory_id, name, type, rated_power_kw) VALUES
      ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'TOU', 'compressor', 55),
      ('c0000000-0000-0000-0000-000000000002', '11111111-1111-1111-1111-111111111111', 'PEAK', 'pump', 100),
      ('c0000000-0000-0000-0000-000000000006', '22222222-2222-2222-2222-222222222222', 'EU', 'hvac', 200);
    INSERT INTO energy_tariffs (factory_id, name, rate_per_kwh, currency, is_time_of_use, start_hour, end_hour, applicable_days) VALUES
      ('11111111-1111-1111-1111-111111111111', 'peak', 0.25, 'USD', true, 9, 21, '{1,2,3,4,5}'),
      ('11111111-1111-1111-1111-111111111111', 'off-peak', 0.10, 'USD', false, 0, 24, '{}'),
      ('22222222-2222-2222-2222-222222222222', 'flat', 0.18, 'EUR', false, 0, 24, '{}');
    INSERT INTO carbon_factors (region, emission_factor_kg_co2_per_kwh, valid_from, valid_to) VALUES
      ('US-California', 0.22, '-infinity', '2024-07-12 00:00Z'),
      ('US-California', 0.30, '2024-07-12 00:00Z', NULL),
      ('Germany', 0.35, '-infinity', NULL),
      ('default', 0.45, '-infinity', NULL);
    SELECT ensure_partitions('2024-03-01', '2024-07-20');
    -- TOU machine, local (PDT, UTC-7) Wednesday 2024-07-10 and Saturday 2024-07-13:
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) VALUES
      ('2024-07-10 08:59:59.999-07', '%1', 1, 1.0),   -- off-peak 0.10
      ('2024-07-10 09:00:00-07',     '%1', 1, 2.0),   -- peak 0.25 (start_hour inclusive)
      ('2024-07-10 20:59:59.999-07', '%1', 1, 3.0),   -- peak 0.25
      ('2024-07-10 21:00:00-07',     '%1', 1, 4.0),   -- off-peak 0.10 (end_hour exclusive)
      ('2024-07-13 10:00:00-07',     '%1', 1, 5.0),   -- Saturday: off-peak 0.10
      -- 16:30 UTC is 08:30 PST on Friday 2024-03-08 but 09:30 PDT on Monday 2024-03-11.
      ('2024-03-08 16:30:00Z',       '%1', 1, 1.0),
      ('2024-03-11 16:30:00Z',       '%1', 1, 1.0);
    INSERT INTO production_data (time, machine_id, production_count, production_count_good) VALUES
      ('2024-07-10 10:00-07', '%1', 10, 10), ('2024-07-13 10:00-07', '%1', 5, 4);
    -- PEAK machine, Wednesday 2024-07-10 10:00..10:25 local, every 5 minutes:
    --   window 10:00: 90, 0, 0 kW -> 30 kW ; window 10:15: 50, 50, 50 kW -> 50 kW
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT timestamptz '2024-07-10 10:00-07' + i * interval '5 minutes', '%2', p, p * 5 / 60.0
      FROM unnest(ARRAY[90, 0, 0, 50, 50, 50]::float8[]) WITH ORDINALITY AS t(p, n), LATERAL (SELECT n - 1 AS i) x;
    INSERT INTO production_data (time, machine_id, production_count, production_count_good)
    SELECT timestamptz '2024-07-10 10:00-07' + g * interval '5 minutes', '%2', 10, 9 FROM generate_series(0, 5) g;
    -- EU machine: Sunday 2024-07-14 12:00 Berlin, 10 kWh.
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) VALUES
      ('2024-07-14 12:00+02', 'c0000000-0000-0000-0000-000000000006', 10, 10);)",
                                       "%1", m_tou),
                           "%2", m_peak));
  return db;
}

/// Runs a KPI query with %1 = TOU machine, %2 = PEAK machine.
double kpi_value(const std::string& db, const std::string& sql) {
  return query_double(db, replace_all(replace_all(sql, "%1", m_tou), "%2", m_peak));
}
std::string kpi_text(const std::string& db, const std::string& sql) {
  return query_value(db, replace_all(replace_all(sql, "%1", m_tou), "%2", m_peak));
}

class kpi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new std::string(kpi_database()); }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  static std::string* db_;
};
std::string* kpi::db_ = nullptr;

}  // namespace

TEST_F(kpi, energy_cost_honours_time_of_use_edges_and_weekends) {
  const std::string& db = *db_;
  // Wednesday 00:00 .. Sunday 00:00 local: 1 x 0.10 + 2 x 0.25 + 3 x 0.25 + 4 x 0.10 + 5 x 0.10
  // = 2.25
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-07-10 00:00-07', "
                        "'2024-07-14 00:00-07')"),
              2.25, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_energy_kwh FROM calculate_energy_cost('%1', '2024-07-10 "
                        "00:00-07', '2024-07-14 00:00-07')"),
              15.0, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT avg_rate_per_kwh FROM calculate_energy_cost('%1', '2024-07-10 "
                        "00:00-07', '2024-07-14 00:00-07')"),
              0.15, 1e-9);
  EXPECT_EQ(kpi_text(db,
                     "SELECT currency FROM calculate_energy_cost('%1', '2024-07-10 00:00-07', "
                     "'2024-07-14 00:00-07')"),
            "USD");
  // Half-open: [08:00, 21:00) leaves out the 21:00:00 reading: 0.10 + 0.50 + 0.75 = 1.35.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-07-10 08:00-07', "
                        "'2024-07-10 21:00-07')"),
              1.35, 1e-9);
  // ... and [09:00, 21:00:00.001) starts exactly on the 09:00:00 reading and takes the 21:00 one.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_energy_kwh FROM calculate_energy_cost('%1', '2024-07-10 "
                        "09:00-07', '2024-07-10 21:00:00.001-07')"),
              9.0, 1e-9);
  // Empty range: zero cost, not NULL.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-07-11 00:00-07', "
                        "'2024-07-12 00:00-07')"),
              0.0, 1e-12);
}

TEST_F(kpi, energy_cost_follows_daylight_saving_time) {
  const std::string& db = *db_;
  // 16:30Z: 08:30 PST Friday (off-peak 0.10) and 09:30 PDT Monday (peak 0.25) = 0.35.
  // A fixed UTC-8 or UTC-7 offset would give 0.20 or 0.50.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-03-08 00:00Z', "
                        "'2024-03-12 00:00Z')"),
              0.35, 1e-9);
}

TEST_F(kpi, energy_cost_uses_the_given_factory_and_reports_unpriced_energy) {
  const std::string& db = *db_;
  // The EU machine's Sunday 10 kWh under Munich's flat 0.18 EUR.
  EXPECT_NEAR(
      query_double(
          db,
          "SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000006', "
          "'2024-07-14 00:00+02', '2024-07-15 00:00+02')"),
      1.8, 1e-9);
  EXPECT_EQ(
      query_value(
          db,
          "SELECT currency FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000006', "
          "'2024-07-14 00:00+02', '2024-07-15 00:00+02')"),
      "EUR");
  // Priced with another factory's tariffs (p_factory_id): Sunday in LA is off-peak 0.10.
  EXPECT_NEAR(
      query_double(
          db,
          "SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000006', "
          "'2024-07-14 00:00+02', '2024-07-15 00:00+02', '11111111-1111-1111-1111-111111111111')"),
      1.0, 1e-9);
  // Without any tariff, energy is reported as unpriced and costs nothing.
  exec_sql(db, "UPDATE energy_tariffs SET is_active = false WHERE name = 'flat'");
  EXPECT_NEAR(query_double(db,
                           "SELECT unpriced_energy_kwh FROM "
                           "calculate_energy_cost('c0000000-0000-0000-0000-000000000006', "
                           "'2024-07-14 00:00+02', '2024-07-15 00:00+02')"),
              10.0, 1e-9);
  EXPECT_NEAR(
      query_double(
          db,
          "SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000006', "
          "'2024-07-14 00:00+02', '2024-07-15 00:00+02')"),
      0.0, 1e-12);
  exec_sql(db, "UPDATE energy_tariffs SET is_active = true WHERE name = 'flat'");
}

TEST_F(kpi, tariff_validity_and_wrapping_windows) {
  const std::string& db = *db_;
  // A night tariff 21 -> 9 (wraps midnight) at 0.05 on every day, valid only from 2024-07-13:
  // Saturday 10:00 is outside 21..9, so still 0.10; nothing before 07-13 changes.
  exec_sql(db,
           "INSERT INTO energy_tariffs (factory_id, name, rate_per_kwh, is_time_of_use, "
           "start_hour, end_hour, valid_from) "
           "VALUES ('11111111-1111-1111-1111-111111111111', 'night', 0.05, true, 21, 9, "
           "'2024-07-13 00:00-07')");
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-07-10 00:00-07', "
                        "'2024-07-14 00:00-07')"),
              2.25, 1e-9);
  // Valid from the start: 08:59:59.999 (1 kWh) and 21:00 (4 kWh) move to 0.05 -> 2.25 - 0.05 - 0.20
  // = 2.00.
  exec_sql(db, "UPDATE energy_tariffs SET valid_from = '-infinity' WHERE name = 'night'");
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%1', '2024-07-10 00:00-07', "
                        "'2024-07-14 00:00-07')"),
              2.00, 1e-9);
  exec_sql(db, "DELETE FROM energy_tariffs WHERE name = 'night'");
}

TEST_F(kpi, peak_demand_is_the_highest_15_minute_average) {
  const std::string& db = *db_;
  // Windows: 10:00 -> (90 + 0 + 0) / 3 = 30 kW, 10:15 -> 50 kW. Peak 50 kW at 10:15 local.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT peak_demand_kw FROM calculate_peak_demand('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              50.0, 1e-9);
  EXPECT_EQ(kpi_text(db,
                     "SELECT peak_time = '2024-07-10 10:15-07' FROM calculate_peak_demand('%2', "
                     "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
            "t");
  // Average of the six readings: (90 + 150) / 6 = 40.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT avg_power_kw FROM calculate_peak_demand('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              40.0, 1e-9);
  // [10:00, 10:15): only the first window -> 30 kW at 10:00.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT peak_demand_kw FROM calculate_peak_demand('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:15-07')"),
              30.0, 1e-9);
  // No data: one row of NULLs.
  EXPECT_EQ(query_rows(db, "SELECT peak_demand_kw FROM calculate_peak_demand('" +
                               std::string(m_peak) + "', '2025-01-01', '2025-01-02')")[0][0],
            std::nullopt);
}

TEST_F(kpi, load_factor_is_average_over_peak_demand) {
  const std::string& db = *db_;
  // 40 / 50 = 0.8; the single highest reading is 90 kW.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT load_factor FROM calculate_load_factor('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              0.8, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT load_factor_percent FROM calculate_load_factor('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              80.0, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT max_power_kw FROM calculate_load_factor('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              90.0, 1e-9);
  // [10:05, 10:30): readings 0, 0, 50, 50, 50 -> avg 30, windows 0 and 50 -> 0.6.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT load_factor FROM calculate_load_factor('%2', '2024-07-10 "
                        "10:05-07', '2024-07-10 10:30-07')"),
              0.6, 1e-9);
}

TEST_F(kpi, specific_energy_is_energy_per_kg_of_the_part_mass_in_metadata) {
  const std::string& db = *db_;
  const std::string sql =
      "SELECT %s FROM calculate_specific_energy('%2', '2024-07-10 10:00-07', "
      "'2024-07-10 10:30-07')";
  auto col = [&](const char* c) { return replace_all(sql, "%s", c); };
  // No part mass yet: the energy is there, the ratios are NULL.
  EXPECT_NEAR(kpi_value(db, col("total_energy_kwh")), 20.0, 1e-9);
  EXPECT_EQ(query_rows(db, replace_all(col("kwh_per_kg"), "%2", m_peak))[0][0], std::nullopt);
  exec_sql(db, "UPDATE machines SET metadata = metadata || '{\"part_mass_kg\": 0.25}' WHERE id = '" +
                   std::string(m_peak) + "'");
  // 60 units x 0.25 kg = 15 kg (54 good: 13.5 kg); 20 kWh / 15 kg, 20 / 13.5.
  EXPECT_NEAR(kpi_value(db, col("part_mass_kg")), 0.25, 1e-12);
  EXPECT_NEAR(kpi_value(db, col("processed_kg")), 15.0, 1e-12);
  EXPECT_NEAR(kpi_value(db, col("good_kg")), 13.5, 1e-12);
  EXPECT_NEAR(kpi_value(db, col("kwh_per_kg")), 20.0 / 15, 1e-12);
  EXPECT_NEAR(kpi_value(db, col("kwh_per_good_kg")), 20.0 / 13.5, 1e-12);
  exec_sql(db, "UPDATE machines SET metadata = metadata - 'part_mass_kg' WHERE id = '" +
                   std::string(m_peak) + "'");
}

TEST_F(kpi, sec_is_energy_per_unit) {
  const std::string& db = *db_;
  // Energy (90 + 150) kW x 5 min = 20 kWh; 6 x 10 = 60 units (54 good).
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_energy_kwh FROM calculate_sec('%2', '2024-07-10 10:00-07', "
                        "'2024-07-10 10:30-07')"),
              20.0, 1e-9);
  EXPECT_EQ(kpi_value(db,
                      "SELECT total_production_units FROM calculate_sec('%2', '2024-07-10 "
                      "10:00-07', '2024-07-10 10:30-07')"),
            60);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT sec_kwh_per_unit FROM calculate_sec('%2', '2024-07-10 10:00-07', "
                        "'2024-07-10 10:30-07')"),
              20.0 / 60, 1e-12);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT sec_kwh_per_good_unit FROM calculate_sec('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              20.0 / 54, 1e-12);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT time_period_hours FROM calculate_sec('%2', '2024-07-10 10:00-07', "
                        "'2024-07-10 10:30-07')"),
              0.5, 1e-12);
  // Half-open: [10:00, 10:25) leaves out the last reading (50 kW -> 25/6 kWh) and its 10 units.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT sec_kwh_per_unit FROM calculate_sec('%2', '2024-07-10 10:00-07', "
                        "'2024-07-10 10:25-07')"),
              (20.0 - 50 * 5 / 60.0) / 50, 1e-12);
  // No production: NULL, not a division by zero.
  EXPECT_EQ(query_rows(db, "SELECT sec_kwh_per_unit FROM calculate_sec('" + std::string(m_peak) +
                               "', '2024-07-10 11:00-07', '2024-07-10 12:00-07')")[0][0],
            std::nullopt);
}

TEST_F(kpi, carbon_intensity_uses_region_validity_and_fallback) {
  const std::string& db = *db_;
  // Factory region US-California: 07-10 (10 kWh x 0.22) + 07-13 (5 kWh x 0.30, the factor from
  // 07-12) = 3.7 kg.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_co2_kg FROM calculate_carbon_intensity('%1', '2024-07-10 "
                        "00:00-07', '2024-07-14 00:00-07')"),
              3.7, 1e-9);
  EXPECT_EQ(kpi_text(db,
                     "SELECT region FROM calculate_carbon_intensity('%1', '2024-07-10 00:00-07', "
                     "'2024-07-14 00:00-07')"),
            "US-California");
  // Per unit: 3.7 kg / 15 units.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT co2_per_unit_kg FROM calculate_carbon_intensity('%1', '2024-07-10 "
                        "00:00-07', '2024-07-14 00:00-07')"),
              3.7 / 15, 1e-12);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT emission_factor FROM calculate_carbon_intensity('%1', '2024-07-10 "
                        "00:00-07', '2024-07-14 00:00-07')"),
              3.7 / 15.0, 1e-12);
  // Explicit region, and an unknown region falling back to 'default' (0.45).
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_co2_kg FROM calculate_carbon_intensity('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07', 'Germany')"),
              7.0, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_co2_kg FROM calculate_carbon_intensity('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07', 'Atlantis')"),
              9.0, 1e-9);
}

TEST_F(kpi, all_kpis_agree_with_the_single_functions) {
  const std::string& db = *db_;
  const auto rows = query_rows(
      db,
      replace_all("SELECT machine_name, total_energy_kwh, avg_power_kw, peak_demand_kw, "
                  "total_production_units, sec_kwh_per_unit, "
                  "load_factor, total_cost, currency, cost_per_unit, total_co2_kg, co2_per_unit_kg "
                  "FROM calculate_all_kpis('%2', '2024-07-10 10:00-07', '2024-07-10 10:30-07')",
                  "%2", m_peak));
  ASSERT_EQ(rows.size(), 1U);
  const auto& r = rows[0];
  EXPECT_EQ(r[0].value(), "PEAK");
  EXPECT_NEAR(std::stod(r[1].value()), 20.0, 1e-9);
  EXPECT_NEAR(std::stod(r[2].value()), 40.0, 1e-9);
  EXPECT_NEAR(std::stod(r[3].value()), 50.0, 1e-9);
  EXPECT_EQ(r[4].value(), "60");
  EXPECT_NEAR(std::stod(r[5].value()), 1.0 / 3, 1e-12);
  EXPECT_NEAR(std::stod(r[6].value()), 0.8, 1e-9);
  // Wednesday 10:xx local is peak: 20 kWh x 0.25 = 5 USD, 5 / 60 per unit.
  EXPECT_NEAR(std::stod(r[7].value()), 5.0, 1e-9);
  EXPECT_EQ(r[8].value(), "USD");
  EXPECT_NEAR(std::stod(r[9].value()), 5.0 / 60, 1e-12);
  // 20 kWh x 0.22 = 4.4 kg.
  EXPECT_NEAR(std::stod(r[10].value()), 4.4, 1e-9);
  EXPECT_NEAR(std::stod(r[11].value()), 4.4 / 60, 1e-12);
}

TEST_F(kpi, demand_charge_adds_peak_times_rate) {
  const std::string& db = *db_;
  exec_sql(db, "UPDATE energy_tariffs SET demand_charge_per_kw = 12 WHERE name = 'peak'");
  // 50 kW x 12 = 600 on top of the 5 USD of energy.
  EXPECT_NEAR(kpi_value(db,
                        "SELECT demand_charge FROM calculate_energy_cost('%2', '2024-07-10 "
                        "10:00-07', '2024-07-10 10:30-07')"),
              600.0, 1e-9);
  EXPECT_NEAR(kpi_value(db,
                        "SELECT total_cost FROM calculate_energy_cost('%2', '2024-07-10 10:00-07', "
                        "'2024-07-10 10:30-07')"),
              605.0, 1e-9);
  exec_sql(db, "UPDATE energy_tariffs SET demand_charge_per_kw = 0 WHERE name = 'peak'");
}

TEST_F(kpi, factory_energy_of_a_local_day) {
  const std::string& db = *db_;
  // Demo plant, 2024-07-10 local: TOU machine 10 kWh + PEAK machine 20 kWh.
  EXPECT_NEAR(
      query_double(
          db, "SELECT energy_kwh FROM factory_energy_on('2024-07-10') WHERE factory_name = 'Demo'"),
      30.0, 1e-9);
  EXPECT_EQ(query_int(db,
                      "SELECT machines_reporting FROM factory_energy_on('2024-07-10') WHERE "
                      "factory_name = 'Demo'"),
            2);
  // Munich's 2024-07-14 (Berlin midnight to midnight) holds the EU machine's 10 kWh.
  EXPECT_NEAR(
      query_double(
          db,
          "SELECT energy_kwh FROM factory_energy_on('2024-07-14') WHERE factory_name = 'Munich'"),
      10.0, 1e-9);
  // The view answers for every factory (no data today: 0).
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM v_factory_energy_today"), 2);
}
