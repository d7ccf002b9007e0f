// Issue 11: the EnMS dashboard layer on plain PostgreSQL 15: the materialized views equal the
// raw data after refresh_enms_views() (also CONCURRENTLY, once populated), the summaries of
// today, cost and carbon, factory and shift comparisons, a baseline fitted back from data
// made by a known formula, its deviation and CUSUM, and the operations helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

const std::string m1 = "c0000000-0000-0000-0000-000000000001";

// One UTC factory with a flat tariff and a carbon factor; machine m1 reports hourly.
std::string plant_database() {
  const std::string db = migrated_database();
  exec_sql(db, R"(
    INSERT INTO factories (id, name, timezone, carbon_region) VALUES
      ('11111111-1111-1111-1111-111111111111', 'F', 'UTC', 'R');
    INSERT INTO machines (id, factory_id, name, type, rated_power_kw, data_interval_seconds) VALUES
      ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'A', 'pump', 50, 3600);
    INSERT INTO energy_tariffs (factory_id, name, rate_per_kwh, currency) VALUES
      ('11111111-1111-1111-1111-111111111111', 'flat', 0.2, 'EUR');
    INSERT INTO carbon_factors (region, emission_factor_kg_co2_per_kwh) VALUES ('R', 0.5);)");
  return db;
}

double number(const std::string& db, const std::string& sql) {
  return std::stod(query_value(db, sql));
}

}  // namespace

TEST(enms_views, summaries_equal_the_raw_data_and_cost_carbon_follow_tariff_and_factor) {
  const std::string db = plant_database();
  // Every hour of today (UTC, the factory's clock), also those still to come, so that the
  // test does not depend on the time of day it runs.
  exec_sql(db, R"(
    SELECT ensure_partitions(date_trunc('day', now()) - interval '1 day', now() + interval '1 day');
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 10 + extract(hour FROM t), 10 + extract(hour FROM t)
      FROM generate_series(date_trunc('day', now()), date_trunc('day', now()) + interval '23 hours', interval '1 hour') t;
    INSERT INTO production_data (time, machine_id, production_count, operating_mode, shift)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 5,
           CASE WHEN extract(hour FROM t) < 2 THEN 'idle' ELSE 'running' END::operating_mode,
           CASE WHEN extract(hour FROM t) < 12 THEN 'early' ELSE 'late' END
      FROM generate_series(date_trunc('day', now()), date_trunc('day', now()) + interval '23 hours', interval '1 hour') t;
    SELECT * FROM refresh_rollups(date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '1 day');)");
  EXPECT_EQ(query_int(db, "SELECT refresh_enms_views()"), 3);
  EXPECT_EQ(query_int(db, "SELECT refresh_enms_views()"), 3);  // CONCURRENTLY this time
  const double raw = number(db, "SELECT sum(energy_kwh) FROM energy_readings");
  const double units = number(db, "SELECT sum(production_count) FROM production_data");
  EXPECT_NEAR(number(db, "SELECT energy_kwh FROM v_factory_summary_today"), raw, 1e-9);
  EXPECT_NEAR(
      number(db, "SELECT energy_kwh FROM v_machine_summary_today WHERE machine_id = '" + m1 + "'"),
      raw, 1e-9);
  EXPECT_NEAR(number(db, "SELECT energy_kwh FROM v_machine_summary_week"), raw, 1e-9);
  EXPECT_NEAR(number(db, "SELECT energy_kwh FROM v_factory_summary_month"), raw, 1e-9);
  EXPECT_NEAR(number(db, "SELECT cost FROM v_factory_summary_today"), raw * 0.2, 1e-9);
  EXPECT_NEAR(number(db, "SELECT co2_kg FROM v_factory_summary_today"), raw * 0.5, 1e-9);
  EXPECT_NEAR(number(db, "SELECT sec_kwh_per_unit FROM v_factory_summary_today"), raw / units,
              1e-9);
  EXPECT_EQ(query_value(db, "SELECT currency FROM v_factory_summary_today"), "EUR");
  EXPECT_NEAR(number(db, "SELECT peak_power_kw FROM v_machine_summary_today"),
              number(db, "SELECT max(power_kw) FROM energy_readings"), 1e-9);
  EXPECT_NEAR(number(db, "SELECT sum(cost) FROM v_cost_emissions_daily"), raw * 0.2, 1e-9);
  EXPECT_NEAR(number(db, "SELECT kg_co2_per_kwh FROM v_cost_emissions_daily"), 0.5, 1e-12);
  EXPECT_NEAR(number(db, "SELECT sum(value) FROM v_grafana_machine_energy_hourly"), raw, 1e-9);
  EXPECT_NEAR(number(db, "SELECT sum(value) FROM v_grafana_factory_cost_hourly"), raw * 0.2, 1e-9);
  // Shifts: every reading in exactly one shift, shares add up to 1.
  EXPECT_NEAR(number(db, "SELECT sum(energy_kwh) FROM v_shift_comparison"), raw, 1e-9);
  EXPECT_NEAR(number(db, "SELECT sum(energy_share) FROM v_shift_comparison"), 1.0, 1e-12);
  EXPECT_NEAR(
      number(db, "SELECT energy_kwh FROM mv_shift_daily WHERE shift = 'early'"),
      number(db, "SELECT sum(energy_kwh) FROM energy_readings WHERE extract(hour FROM time) < 12"),
      1e-9);
  // Operations: hours per mode and the idle energy (hours 0 and 1 idle, 10 + 11 kWh).
  const std::string range =
      "'" + m1 + "', date_trunc('day', now()), date_trunc('day', now()) + interval '1 day'";
  EXPECT_NEAR(
      number(db, "SELECT idle_hours FROM machine_operations(" + range + ") WHERE shift = 'all'"), 2,
      1e-12);
  EXPECT_NEAR(number(db, "SELECT calculate_idle_energy(" + range + ")"), 21, 1e-12);
  EXPECT_NEAR(number(db, "SELECT calculate_operating_hours(" + range + ")"),
              number(db, "SELECT count(*) - 2 FROM production_data"), 1e-12);
  EXPECT_NEAR(number(db, "SELECT sum(total_energy_kwh) FROM machine_operations(" + range +
                             ") WHERE shift <> 'all'"),
              raw, 1e-9);
}

TEST(enms_views, a_fitted_baseline_recovers_the_formula_and_cusum_adds_the_deviation) {
  const std::string db = plant_database();
  // 21 days in 2024-05: energy = 100 + 2 x units + 5 x HDD (base 18 °C), every hour of the day.
  exec_sql(db, R"(
    SELECT ensure_partitions('2024-05-01', '2024-06-01');
    WITH days AS (
      SELECT d::date AS day, 48 + 24 * (extract(day FROM d)::integer % 5) AS units,
             10 + (extract(day FROM d)::integer % 7) AS temp_c
        FROM generate_series(timestamptz '2024-05-01', '2024-05-21', interval '1 day') d),
    hours AS (SELECT day, units, temp_c, day + h * interval '1 hour' AS t
                FROM days CROSS JOIN generate_series(0, 23) h)
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 1,
           (100 + 2 * units + 5 * (18 - temp_c)) / 24.0
             + CASE WHEN day = '2024-05-21' AND extract(hour FROM t) = 0 THEN 10 ELSE 0 END
      FROM hours;
    WITH days AS (
      SELECT d::date AS day, 48 + 24 * (extract(day FROM d)::integer % 5) AS units,
             10 + (extract(day FROM d)::integer % 7) AS temp_c
        FROM generate_series(timestamptz '2024-05-01', '2024-05-21', interval '1 day') d)
    INSERT INTO production_data (time, machine_id, production_count)
    SELECT day + h * interval '1 hour', 'c0000000-0000-0000-0000-000000000001', units / 24
      FROM days CROSS JOIN generate_series(0, 23) h;
    WITH days AS (
      SELECT d::date AS day, 10 + (extract(day FROM d)::integer % 7) AS temp_c
        FROM generate_series(timestamptz '2024-05-01', '2024-05-21', interval '1 day') d)
    INSERT INTO environmental_data (time, machine_id, outdoor_temp_c)
    SELECT day + h * interval '1 hour', 'c0000000-0000-0000-0000-000000000001', temp_c
      FROM days CROSS JOIN generate_series(0, 23) h;
    SELECT * FROM refresh_rollups('2024-05-01', '2024-05-23');
    SELECT refresh_enms_views();)");
  exec_sql(db, "SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-15')");
  EXPECT_NEAR(number(db, "SELECT intercept FROM energy_baselines WHERE is_active"), 100, 1e-6);
  EXPECT_NEAR(
      number(db, "SELECT (coefficients->>'production_units')::float8 FROM energy_baselines"), 2,
      1e-8);
  EXPECT_NEAR(number(db, "SELECT (coefficients->>'hdd')::float8 FROM energy_baselines"), 5, 1e-8);
  EXPECT_EQ(query_value(db,
                        "SELECT array_to_string(features, ',') || ' ' || training_samples ||"
                        " ' ' || model_version FROM energy_baselines"),
            "production_units,hdd 14 1");  // no cooling degree days in May: cdd left out
  EXPECT_NEAR(number(db, "SELECT r_squared FROM energy_baselines"), 1, 1e-9);
  // After training (05-15..05-21): zero deviation, then +10 kWh on 05-21.
  EXPECT_NEAR(number(db,
                     "SELECT max(abs(deviation_kwh)) FROM v_energy_baseline_deviation"
                     " WHERE local_date < '2024-05-21'"),
              0, 1e-6);
  EXPECT_NEAR(
      number(db,
             "SELECT cusum_kwh FROM v_energy_baseline_deviation WHERE local_date = '2024-05-21'"),
      10, 1e-6);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM v_energy_baseline_deviation WHERE in_training"),
            14);
  // A second fit is version 2 and the only active one.
  exec_sql(db, "SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-20')");
  EXPECT_EQ(query_value(db,
                        "SELECT string_agg(model_version || ':' || is_active, ',' ORDER BY"
                        " model_version) FROM energy_baselines"),
            "1:false,2:true");
  // 05-21 is long past "the last 30 days": the comparison views run and show nothing of it.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM v_machine_vs_baseline"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM v_factory_comparison"), 0);
  // Too few days is an error that says so.
  try {
    exec_sql(db, "SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-03')");
    ADD_FAILURE() << "fitted on 2 days";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("need at least"), std::string::npos) << e.what();
  }
}
