// The TimescaleDB backend against a real TimescaleDB (FACTORYSIM_TEST_TIMESCALE, a
// connection string; .ci/run starts ../shared/tsdb and sets it): migrations, KPIs, the
// hierarchical continuous aggregates (refresh_continuous_aggregate and run_job), compression
// and retention. That server takes ONE session at a time: each test holds exactly one
// connection and works in a schema of its own, dropped at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>

#include "schema/db_init.hpp"
#include "tests/sql/grafana_queries.hpp"
#include "tests/support/postgres_server.hpp"

using namespace factorysim;

namespace {

std::filesystem::path source_sql_dir() {
  return std::filesystem::path(FACTORYSIM_SOURCE_DIR) / "sql";
}

class timescale : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conninfo = std::getenv("FACTORYSIM_TEST_TIMESCALE");
    if (conninfo == nullptr || *conninfo == '\0') {
      GTEST_SKIP()
          << "FACTORYSIM_TEST_TIMESCALE is not set (.ci/run sets it when ../shared/tsdb exists)";
    }
    c_ = std::make_unique<pqxx::connection>(conninfo);
    schema_ = "fs_ts_" + std::to_string(::getpid());
    {
      pqxx::nontransaction n{*c_};
      n.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
    options_.schema = schema_;
    files_ = schema::load_migrations(source_sql_dir());
    report_ = schema::apply_migrations(*c_, files_, options_);
  }
  void TearDown() override {
    if (!c_) return;
    try {
      pqxx::nontransaction n{*c_};
      n.exec("DROP SCHEMA IF EXISTS " + schema_ + "_mantis CASCADE");
      n.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    } catch (const pqxx::failure& e) {
      ADD_FAILURE() << "cannot drop schema " << schema_ << ": " << e.what();
    }
  }

  void exec(const std::string& sql) {
    pqxx::work w{*c_};
    w.exec(sql);
    w.commit();
  }
  void exec_autocommit(const std::string& sql) {
    pqxx::nontransaction n{*c_};
    n.exec(sql);
  }
  std::string value(const std::string& sql) {
    pqxx::nontransaction n{*c_};
    const auto r = n.exec(sql);
    if (r.size() != 1 || r[0][0].is_null())
      throw std::runtime_error("expected one non-NULL value from: " + sql);
    return r[0][0].c_str();
  }
  double number(const std::string& sql) { return std::stod(value(sql)); }
  /// Every rollup level over [from, to) (SQL expressions), lowest level first.
  void refresh_all_rollups(const std::string& from, const std::string& to) {
    const std::string names =
        value("SELECT string_agg(name, ' ' ORDER BY level, name) FROM rollup_definitions()");
    std::istringstream in(names);
    for (std::string name; in >> name;)
      exec_autocommit("CALL refresh_continuous_aggregate('" + name + "', " + from + ", " + to +
                      ")");
  }
  long long count(const std::string& sql) { return std::stoll(value(sql)); }

  void seed_plant() {
    exec(R"(
      INSERT INTO factories (id, name, timezone, carbon_region) VALUES
        ('11111111-1111-1111-1111-111111111111', 'Demo', 'America/Los_Angeles', 'US-California');
      INSERT INTO machines (id, factory_id, name, type, rated_power_kw) VALUES
        ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'TOU', 'compressor', 55),
        ('c0000000-0000-0000-0000-000000000002', '11111111-1111-1111-1111-111111111111', 'PEAK', 'pump', 100);
      INSERT INTO energy_tariffs (factory_id, name, rate_per_kwh, is_time_of_use, start_hour, end_hour, applicable_days) VALUES
        ('11111111-1111-1111-1111-111111111111', 'peak', 0.25, true, 9, 21, '{1,2,3,4,5}'),
        ('11111111-1111-1111-1111-111111111111', 'off-peak', 0.10, false, 0, 24, '{}');
      INSERT INTO carbon_factors (region, emission_factor_kg_co2_per_kwh) VALUES ('US-California', 0.22), ('default', 0.45);)");
  }

  std::unique_ptr<pqxx::connection> c_;
  std::string schema_;
  schema::migrate_options options_;
  std::vector<schema::migration_file> files_;
  schema::migrate_report report_;
};

}  // namespace

TEST_F(timescale, migrations_create_hypertables_aggregates_and_policies_and_rerun_cleanly) {
  EXPECT_EQ(report_.backend, "timescaledb");
  EXPECT_EQ(report_.applied.size(), files_.size());
  EXPECT_EQ(
      count("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_schema = '" +
            schema_ + "' AND compression_enabled"),
      4);
  EXPECT_EQ(value("SELECT d.time_interval::text FROM timescaledb_information.dimensions d WHERE "
                  "hypertable_schema = '" +
                  schema_ + "' AND hypertable_name = 'energy_readings'"),
            "1 day");
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.continuous_aggregates WHERE "
                  "view_schema = '" +
                  schema_ + "'"),
            11);
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
                  schema_ + "' AND proc_name = 'policy_refresh_continuous_aggregate'"),
            11);
  // Compression and retention policies on the four raw tables (three measured streams and
  // health_truth, issue 11; the job names vary by version) and on the rollups (issue 11:
  // every level compressed, the 1-minute and 15-minute levels dropped after 1 and 3 years).
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
                  schema_ + "' AND proc_name IN ('policy_compression', 'policy_columnstore')"),
            4 + 11);
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
                  schema_ + "' AND proc_name = 'policy_retention'"),
            4 + 6);
  // Every level reads in real time; the policies end where the level below is complete.
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.continuous_aggregates WHERE "
                  "view_schema = '" +
                  schema_ + "' AND NOT materialized_only"),
            11);
  const std::string day_end_offset =
      "SELECT config->>'end_offset' FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
      schema_ +
      "' AND hypertable_name = 'energy_readings_1day'"
      " AND proc_name = 'policy_refresh_continuous_aggregate'";
  EXPECT_EQ(value(day_end_offset), "02:00:00");
  // A database made before: its older policy (end 1 day) is replaced by the migration.
  exec_autocommit("SELECT remove_continuous_aggregate_policy('energy_readings_1day')");
  exec_autocommit(
      "SELECT add_continuous_aggregate_policy('energy_readings_1day', interval '7 days',"
      " interval '1 day', interval '1 hour')");
  EXPECT_EQ(value(day_end_offset), "1 day");
  exec_autocommit("DELETE FROM schema_migrations WHERE version = '095'");
  schema::apply_migrations(*c_, files_, options_);
  EXPECT_EQ(value(day_end_offset), "02:00:00");
  const auto again = schema::apply_migrations(*c_, files_, options_);
  EXPECT_EQ(again.skipped.size(), files_.size());
  auto force = options_;
  force.force = true;
  const auto forced = schema::apply_migrations(*c_, files_, force);
  EXPECT_EQ(forced.applied.size(), files_.size());
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
                  schema_ + "'"),
            11 + 15 + 10);
  // refresh_rollups is the plain-PostgreSQL refresh and says what to use instead.
  EXPECT_THROW(exec("SELECT * FROM refresh_rollups(now() - interval '1 hour', now())"),
               pqxx::sql_error);
}

TEST_F(timescale, kpis_match_hand_computed_values) {
  seed_plant();
  exec(R"(
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) VALUES
      ('2024-07-10 08:59:59.999-07', 'c0000000-0000-0000-0000-000000000001', 1, 1.0),
      ('2024-07-10 09:00:00-07',     'c0000000-0000-0000-0000-000000000001', 1, 2.0),
      ('2024-07-10 20:59:59.999-07', 'c0000000-0000-0000-0000-000000000001', 1, 3.0),
      ('2024-07-10 21:00:00-07',     'c0000000-0000-0000-0000-000000000001', 1, 4.0),
      ('2024-07-13 10:00:00-07',     'c0000000-0000-0000-0000-000000000001', 1, 5.0),
      ('2024-03-08 16:30:00Z',       'c0000000-0000-0000-0000-000000000001', 1, 1.0),
      ('2024-03-11 16:30:00Z',       'c0000000-0000-0000-0000-000000000001', 1, 1.0);
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT timestamptz '2024-07-10 10:00-07' + (n - 1) * interval '5 minutes', 'c0000000-0000-0000-0000-000000000002', p, p * 5 / 60.0
      FROM unnest(ARRAY[90, 0, 0, 50, 50, 50]::float8[]) WITH ORDINALITY AS t(p, n);
    INSERT INTO production_data (time, machine_id, production_count, production_count_good)
    SELECT timestamptz '2024-07-10 10:00-07' + g * interval '5 minutes', 'c0000000-0000-0000-0000-000000000002', 10, 9
      FROM generate_series(0, 5) g;)");
  // Same arithmetic as tests/sql/kpi_test.cpp.
  EXPECT_NEAR(
      number("SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000001', "
             "'2024-07-10 00:00-07', '2024-07-14 00:00-07')"),
      2.25, 1e-9);
  EXPECT_NEAR(
      number("SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000001', "
             "'2024-07-10 08:00-07', '2024-07-10 21:00-07')"),
      1.35, 1e-9);
  EXPECT_NEAR(
      number("SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000001', "
             "'2024-03-08 00:00Z', '2024-03-12 00:00Z')"),
      0.35, 1e-9);
  EXPECT_NEAR(number("SELECT peak_demand_kw FROM "
                     "calculate_peak_demand('c0000000-0000-0000-0000-000000000002', "
                     "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
              50.0, 1e-9);
  EXPECT_NEAR(
      number(
          "SELECT load_factor FROM calculate_load_factor('c0000000-0000-0000-0000-000000000002', "
          "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
      0.8, 1e-9);
  EXPECT_NEAR(
      number("SELECT sec_kwh_per_unit FROM calculate_sec('c0000000-0000-0000-0000-000000000002', "
             "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
      20.0 / 60, 1e-12);
  EXPECT_NEAR(number("SELECT total_co2_kg FROM "
                     "calculate_carbon_intensity('c0000000-0000-0000-0000-000000000002', "
                     "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
              4.4, 1e-9);
  EXPECT_NEAR(
      number("SELECT total_cost FROM calculate_all_kpis('c0000000-0000-0000-0000-000000000002', "
             "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
      5.0, 1e-9);
  // Compressed chunks answer the same (compression after 7 days, here forced).
  exec_autocommit(
      "SELECT compress_chunk(c) FROM show_chunks('energy_readings', older_than => now() - interval "
      "'7 days') c");
  EXPECT_GT(
      count("SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_schema = '" +
            schema_ + "' AND hypertable_name = 'energy_readings' AND is_compressed"),
      0);
  EXPECT_NEAR(
      number("SELECT total_cost FROM calculate_energy_cost('c0000000-0000-0000-0000-000000000001', "
             "'2024-07-10 00:00-07', '2024-07-14 00:00-07')"),
      2.25, 1e-9);
  EXPECT_NEAR(number("SELECT peak_demand_kw FROM "
                     "calculate_peak_demand('c0000000-0000-0000-0000-000000000002', "
                     "'2024-07-10 10:00-07', '2024-07-10 10:30-07')"),
              50.0, 1e-9);
}

TEST_F(timescale, continuous_aggregates_stack_and_equal_a_direct_group_by) {
  seed_plant();
  exec(R"(
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh, voltage_v)
    SELECT timestamptz '2024-07-09 22:00Z' + g * interval '37 seconds', m, 10 + g % 13 + k, (10 + g % 13 + k) * 37 / 3600.0, 400
      FROM generate_series(0, 28 * 3600 / 37) g,
           (VALUES ('c0000000-0000-0000-0000-000000000001'::uuid, 0), ('c0000000-0000-0000-0000-000000000002'::uuid, 50)) mm(m, k);
    INSERT INTO production_data (time, machine_id, production_count, production_count_good, operating_mode)
    SELECT timestamptz '2024-07-09 22:00Z' + g * interval '60 seconds', 'c0000000-0000-0000-0000-000000000001', g % 4, g % 4,
           CASE WHEN g % 5 = 0 THEN 'idle' ELSE 'running' END::operating_mode
      FROM generate_series(0, 28 * 60) g;)");
  for (const char* level : {"1min", "15min", "1hour", "1day"}) {
    for (const char* family : {"energy_readings", "production_data"}) {
      exec_autocommit(std::string("CALL refresh_continuous_aggregate('") + schema_ + "." + family +
                      "_" + level + "', '2024-07-09', '2024-07-12')");
    }
  }
  exec_autocommit("CALL refresh_continuous_aggregate('" + schema_ +
                  ".environmental_data_1min', '2024-07-09', '2024-07-12')");
  const std::vector<std::pair<std::string, std::string>> levels = {
      {"1min", "1 minute"}, {"15min", "15 minutes"}, {"1hour", "1 hour"}, {"1day", "1 day"}};
  for (const auto& [suffix, width] : levels) {
    EXPECT_GT(count("SELECT count(*) FROM energy_readings_" + suffix), 0) << suffix;
    EXPECT_EQ(count("WITH d AS (SELECT time_bucket('" + width +
                    "', time) b, machine_id, count(power_kw) sc, avg(power_kw) ap, "
                    "max(power_kw) mx, sum(energy_kwh) te FROM energy_readings GROUP BY 1, 2) "
                    "SELECT count(*) FROM d FULL JOIN energy_readings_" +
                    suffix +
                    " r ON r.bucket = d.b AND "
                    "r.machine_id = d.machine_id WHERE r.bucket IS NULL OR d.b IS NULL OR "
                    "r.sample_count <> d.sc OR "
                    "abs(r.avg_power_kw - d.ap) > 1e-9 * (1 + d.ap) OR r.max_power_kw <> d.mx OR "
                    "abs(r.total_energy_kwh - d.te) > 1e-9 * (1 + d.te)"),
              0)
        << "energy_readings_" << suffix;
    EXPECT_EQ(
        count("WITH d AS (SELECT time_bucket('" + width +
              "', time) b, machine_id, count(*) sc, "
              "sum(production_count) pc, count(*) FILTER (WHERE operating_mode = 'running') rs "
              "FROM production_data GROUP BY 1, 2) SELECT count(*) FROM d FULL JOIN "
              "production_data_" +
              suffix +
              " r ON r.bucket = d.b AND r.machine_id = d.machine_id WHERE r.bucket IS NULL OR d.b "
              "IS NULL OR "
              "r.sample_count <> d.sc OR r.total_production_count <> d.pc OR r.running_samples <> "
              "d.rs"),
        0)
        << "production_data_" << suffix;
  }
}

TEST_F(timescale, policies_run_by_run_job_and_maintain_keep_rollups_fresh) {
  seed_plant();
  // Recent data, inside the 1-minute policy's window (3 hours back to 1 minute ago).
  exec(
      "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) "
      "SELECT date_trunc('minute', now()) - g * interval '1 minute', "
      "'c0000000-0000-0000-0000-000000000001', 6, 0.1 "
      "FROM generate_series(2, 61) g");
  const std::string job = value(
      "SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_schema = '" + schema_ +
      "' AND hypertable_name = 'energy_readings_1min'"
      " AND proc_name = 'policy_refresh_continuous_aggregate'");
  exec_autocommit("CALL run_job(" + job + ")");
  EXPECT_EQ(count("SELECT coalesce(sum(sample_count), 0) FROM energy_readings_1min"), 60);
  // One maintenance pass refreshes every level (CALL refresh_continuous_aggregate per level).
  schema::maintain_options o;
  o.refresh_window = std::chrono::hours{3};
  const auto r = schema::maintain(*c_, o, std::chrono::system_clock::now());
  EXPECT_EQ(r.partitions_created, 0);
  EXPECT_NEAR(number("SELECT sum(total_energy_kwh) FROM energy_readings_1hour"), 6.0, 1e-9);
  EXPECT_NEAR(number("SELECT sum(total_energy_kwh) FROM energy_readings_1day"), 6.0, 1e-9);
  // Retention: data 100 days old goes, the recent hour stays.
  exec(
      "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) VALUES "
      "(now() - interval '100 days', 'c0000000-0000-0000-0000-000000000001', 1, 1)");
  EXPECT_GE(count("SELECT apply_retention()"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 60);
}

// Issue 11: the SQL statements of the EnMS document's test commands, verbatim, on TimescaleDB
// (the psql meta-commands \dt, \dv, \df need a second session, which this server does not
// take while the fixture holds one; enms_document_test.cpp runs them on PostgreSQL).
TEST_F(timescale, enms_document_statements_run_verbatim) {
  seed_plant();
  exec(
      "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)"
      " SELECT now() - g * interval '1 minute', 'c0000000-0000-0000-0000-000000000001', 50, 50.0 / "
      "60"
      " FROM generate_series(1, 59) g");
  pqxx::nontransaction n{*c_};
  const auto hypertables = n.exec("SELECT * FROM timescaledb_information.hypertables;");
  int ours = 0;
  for (const auto& row : hypertables)
    if (std::string(row["hypertable_schema"].c_str()) == schema_) ++ours;
  EXPECT_EQ(ours, 4);  // energy_readings, production_data, environmental_data, health_truth
  const auto status = n.exec("SELECT * FROM v_machines_current_status;");
  EXPECT_EQ(status.size(), 2u);
  const auto kpis = n.exec(R"(SELECT * FROM calculate_all_kpis(
    'c0000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '1 hour',
    NOW()
);)");
  ASSERT_EQ(kpis.size(), 1u);
  EXPECT_NEAR(kpis[0]["total_energy_kwh"].as<double>(), 59 * 50.0 / 60, 1e-9);
}

// Issue 11: the MANTIS layer on TimescaleDB: hypertables with compression and per-table
// retention, continuous aggregates read in real time, assets from the plant, maintain.
TEST_F(timescale, mantis_layer_uses_hypertables_policies_and_real_time_rollups) {
  seed_plant();
  const auto mantis = schema::apply_mantis_migrations(*c_, source_sql_dir(), options_);
  EXPECT_EQ(mantis.applied.size(), 5u);
  const std::string ms = schema_ + "_mantis";
  EXPECT_EQ(schema::recorded_mantis_schema(*c_), ms);
  EXPECT_EQ(
      count("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_schema = '" +
            ms + "'"),
      6);
  EXPECT_EQ(
      count("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_schema = '" +
            ms + "' AND compression_enabled"),
      1);
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '" +
                  ms + "' AND proc_name = 'policy_retention'"),
            6);
  EXPECT_EQ(count("SELECT count(*) FROM timescaledb_information.continuous_aggregates WHERE "
                  "view_schema = '" +
                  ms + "' AND NOT materialized_only"),
            2);
  // 2 assets; a compressor measures 31 keys, a pump 30 (13 of them condition monitoring).
  EXPECT_EQ(schema::seed_mantis(*c_, ms, {}), 2 + 31 + 30);
  exec("INSERT INTO " + ms +
       ".sensor_data_raw (time, sensor_id, value) SELECT date_trunc('hour', now()) - g *"
       " interval '1 minute', " +
       ms +
       ".sensor_uuid('c0000000-0000-0000-0000-000000000001', 'power_kw'), g"
       " FROM generate_series(1, 120) g");
  // Real time: the hourly rollup shows the rows before any refresh.
  EXPECT_EQ(
      value("SELECT string_agg(sample_count || ':' || value_min || '-' || value_max, ' ' ORDER BY"
            " bucket) FROM " +
            ms + ".sensor_data_hourly"),
      "60:61-120 60:1-60");
  const auto r =
      schema::maintain(*c_, schema::maintain_options{}, std::chrono::system_clock::now());
  EXPECT_TRUE(r.mantis);
  EXPECT_EQ(value("SELECT sum(sample_count)::text FROM " + ms + ".sensor_data_daily"), "120");
  // Replaying the migrations changes nothing.
  const auto again = schema::apply_mantis_migrations(*c_, source_sql_dir(), options_);
  EXPECT_EQ(again.skipped.size(), 5u);
}

// Issue 11: the EnMS dashboard views on TimescaleDB (materialized over the continuous
// aggregates, refreshed CONCURRENTLY): the same totals as the raw rows, cost at the tariff.
TEST_F(timescale, enms_dashboard_views_equal_the_raw_data) {
  seed_plant();
  exec(
      "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)"
      " SELECT timestamptz '2024-07-10 12:00Z' + g * interval '1 minute',"
      " 'c0000000-0000-0000-0000-000000000002', 60, 1 FROM generate_series(0, 179) g");
  for (const char* agg :
       {"energy_readings_1min", "energy_readings_15min", "energy_readings_1hour",
        "production_data_1min", "production_data_15min", "production_data_1hour",
        "environmental_data_1min", "environmental_data_15min", "environmental_data_1hour"})
    exec_autocommit(std::string("CALL refresh_continuous_aggregate('") + agg +
                    "', '2024-07-10', '2024-07-11')");
  EXPECT_EQ(count("SELECT refresh_enms_views()"), 3);
  EXPECT_EQ(count("SELECT refresh_enms_views()"), 3);
  EXPECT_EQ(value("SELECT sum(energy_kwh)::text FROM mv_machine_hourly"), "180");
  EXPECT_EQ(
      value("SELECT sum(energy_kwh)::text || ' ' || max(local_date)::text FROM mv_machine_daily"),
      "180 2024-07-10");
  // 12:00-15:00 UTC = 05:00-08:00 PDT on a Wednesday: off-peak, 0.10/kWh.
  EXPECT_NEAR(number("SELECT sum(cost) FROM v_cost_emissions_daily"), 18.0, 1e-9);
  EXPECT_NEAR(number("SELECT sum(co2_kg) FROM v_cost_emissions_daily"), 180 * 0.22, 1e-9);
}

// Issue 11: `db maintain --refresh-hours` reaching past the retention horizon must not erase
// the kept rollups of days whose raw rows were dropped; it refreshes only complete buckets
// and says how many.
TEST_F(timescale, maintain_never_refreshes_before_the_retention_horizon_and_counts_buckets) {
  seed_plant();
  exec(
      "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)"
      " SELECT date_trunc('day', now()) - interval '100 days' + g * interval '1 minute',"
      " 'c0000000-0000-0000-0000-000000000001', 6, 0.1 FROM generate_series(0, 59) g");
  exec_autocommit(
      "CALL refresh_continuous_aggregate('energy_readings_1min', now() - interval '101 days',"
      " now() - interval '99 days')");
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings_1min"), 60);
  exec("SELECT apply_retention()");
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 0);
  schema::maintain_options o;
  o.refresh_window = std::chrono::hours(24 * 200);
  const auto now = std::chrono::system_clock::now();
  const auto r = schema::maintain(*c_, o, now);
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings_1min"), 60);  // kept
  // 90 days of minutes, quarters, hours and days of 4 rollups each (energy, production,
  // environmental; no 1-day environmental level), whole buckets only: about 130,000 minutes
  // per 1-minute rollup.
  EXPECT_GT(r.rollup_buckets, 3 * 90 * 1440 - 3 * 1440);
  EXPECT_LT(r.rollup_buckets, 3 * 91 * (1440 + 96 + 24 + 1));
}

// Issue 11: every query of deploy/grafana's dashboards runs on TimescaleDB too (the same SQL
// as on PostgreSQL; grafana_queries.hpp fills in Grafana's macros).
TEST_F(timescale, every_grafana_dashboard_query_runs) {
  seed_plant();
  schema::apply_mantis_migrations(*c_, source_sql_dir(), options_);
  schema::seed_mantis(*c_, schema_ + "_mantis", {});
  // The MANTIS board names mantis.*: point that name at this test's MANTIS schema.
  const auto queries = test::grafana::dashboard_queries();
  EXPECT_GE(queries.size(), 25u);
  for (const auto& q : queries) {
    std::string sql = test::grafana::fill_macros(q.sql, "11111111-1111-1111-1111-111111111111",
                                                 "c0000000-0000-0000-0000-000000000001");
    test::grafana::replace_all(sql, "mantis.", schema_ + "_mantis.");
    try {
      pqxx::work w{*c_};
      const auto r = w.exec(sql);
      if (q.time_series) {
        bool has_time = false;
        for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
          has_time = has_time || std::string(r.column_name(i)) == "time";
        EXPECT_TRUE(has_time) << q.where << "\n" << sql;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << q.where << ": " << e.what() << "\n" << sql;
    }
  }
}

namespace {

// The EnMS views tests' plant (tests/sql/enms_views_test.cpp): one UTC factory with a flat
// tariff and a carbon factor, pump m1 reporting hourly.
void seed_utc_plant(const std::function<void(const std::string&)>& exec) {
  exec(R"(
    INSERT INTO factories (id, name, timezone, carbon_region) VALUES
      ('11111111-1111-1111-1111-111111111111', 'F', 'UTC', 'R');
    INSERT INTO machines (id, factory_id, name, type, rated_power_kw, data_interval_seconds) VALUES
      ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'A', 'pump', 50, 3600);
    INSERT INTO energy_tariffs (factory_id, name, rate_per_kwh, currency) VALUES
      ('11111111-1111-1111-1111-111111111111', 'flat', 0.2, 'EUR');
    INSERT INTO carbon_factors (region, emission_factor_kg_co2_per_kwh) VALUES ('R', 0.5);)");
}

}  // namespace

// Issue 11: the shift views and the operations helpers on TimescaleDB (mv_shift_daily over the
// continuous aggregates, v_shift_comparison, machine_operations, calculate_operating_hours,
// calculate_idle_energy): the same figures as on PostgreSQL (enms_views_test.cpp).
TEST_F(timescale, shift_views_and_operations_helpers_equal_the_raw_data) {
  seed_utc_plant([this](const std::string& sql) { exec(sql); });
  exec(R"(
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 10 + extract(hour FROM t), 10 + extract(hour FROM t)
      FROM generate_series(date_trunc('day', now()), date_trunc('day', now()) + interval '23 hours', interval '1 hour') t;
    INSERT INTO production_data (time, machine_id, production_count, operating_mode, shift)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 5,
           CASE WHEN extract(hour FROM t) < 2 THEN 'idle' ELSE 'running' END::operating_mode,
           CASE WHEN extract(hour FROM t) < 12 THEN 'early' ELSE 'late' END
      FROM generate_series(date_trunc('day', now()), date_trunc('day', now()) + interval '23 hours', interval '1 hour') t;)");
  refresh_all_rollups("date_trunc('day', now()) - interval '1 day'",
                      "date_trunc('day', now()) + interval '2 days'");
  EXPECT_EQ(count("SELECT refresh_enms_views()"), 3);
  const double raw = number("SELECT sum(energy_kwh) FROM energy_readings");
  EXPECT_NEAR(number("SELECT sum(energy_kwh) FROM v_shift_comparison"), raw, 1e-9);
  EXPECT_NEAR(number("SELECT sum(energy_share) FROM v_shift_comparison"), 1.0, 1e-12);
  EXPECT_NEAR(
      number("SELECT energy_kwh FROM mv_shift_daily WHERE shift = 'early'"),
      number("SELECT sum(energy_kwh) FROM energy_readings WHERE extract(hour FROM time) < 12"),
      1e-9);
  const std::string range =
      "'c0000000-0000-0000-0000-000000000001', date_trunc('day', now()),"
      " date_trunc('day', now()) + interval '1 day'";
  EXPECT_NEAR(number("SELECT idle_hours FROM machine_operations(" + range + ") WHERE shift = 'all'"),
              2, 1e-12);
  EXPECT_NEAR(number("SELECT calculate_idle_energy(" + range + ")"), 21, 1e-12);
  EXPECT_NEAR(number("SELECT calculate_operating_hours(" + range + ")"),
              number("SELECT count(*) - 2 FROM production_data"), 1e-12);
  EXPECT_NEAR(number("SELECT sum(total_energy_kwh) FROM machine_operations(" + range +
                     ") WHERE shift <> 'all'"),
              raw, 1e-9);
}

// Issue 11: the energy baseline on TimescaleDB: fit_energy_baseline() recovers the formula the
// data was made by, v_energy_baseline_deviation's CUSUM adds the deviation, a second fit is
// version 2, too few days is an error (the PostgreSQL twin: enms_views_test.cpp).
TEST_F(timescale, a_fitted_baseline_recovers_the_formula_and_cusum_adds_the_deviation) {
  seed_utc_plant([this](const std::string& sql) { exec(sql); });
  exec(R"(
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
      SELECT d::date AS day, 48 + 24 * (extract(day FROM d)::integer % 5) AS units
        FROM generate_series(timestamptz '2024-05-01', '2024-05-21', interval '1 day') d)
    INSERT INTO production_data (time, machine_id, production_count)
    SELECT day + h * interval '1 hour', 'c0000000-0000-0000-0000-000000000001', units / 24
      FROM days CROSS JOIN generate_series(0, 23) h;
    WITH days AS (
      SELECT d::date AS day, 10 + (extract(day FROM d)::integer % 7) AS temp_c
        FROM generate_series(timestamptz '2024-05-01', '2024-05-21', interval '1 day') d)
    INSERT INTO environmental_data (time, machine_id, outdoor_temp_c)
    SELECT day + h * interval '1 hour', 'c0000000-0000-0000-0000-000000000001', temp_c
      FROM days CROSS JOIN generate_series(0, 23) h;)");
  refresh_all_rollups("'2024-05-01'", "'2024-05-23'");
  EXPECT_EQ(count("SELECT refresh_enms_views()"), 3);
  const std::string m1 = "c0000000-0000-0000-0000-000000000001";
  exec("SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-15')");
  EXPECT_NEAR(number("SELECT intercept FROM energy_baselines WHERE is_active"), 100, 1e-6);
  EXPECT_NEAR(number("SELECT (coefficients->>'production_units')::float8 FROM energy_baselines"),
              2, 1e-8);
  EXPECT_NEAR(number("SELECT (coefficients->>'hdd')::float8 FROM energy_baselines"), 5, 1e-8);
  EXPECT_EQ(value("SELECT array_to_string(features, ',') || ' ' || training_samples || ' ' ||"
                  " model_version FROM energy_baselines"),
            "production_units,hdd 14 1");
  EXPECT_NEAR(number("SELECT max(abs(deviation_kwh)) FROM v_energy_baseline_deviation"
                     " WHERE local_date < '2024-05-21'"),
              0, 1e-6);
  EXPECT_NEAR(
      number("SELECT cusum_kwh FROM v_energy_baseline_deviation WHERE local_date = '2024-05-21'"),
      10, 1e-6);
  EXPECT_EQ(count("SELECT count(*) FROM v_energy_baseline_deviation WHERE in_training"), 14);
  exec("SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-20')");
  EXPECT_EQ(value("SELECT string_agg(model_version || ':' || is_active, ',' ORDER BY"
                  " model_version) FROM energy_baselines"),
            "1:false,2:true");
  EXPECT_EQ(count("SELECT count(*) FROM v_machine_vs_baseline"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM v_factory_comparison"), 0);
  try {
    exec("SELECT fit_energy_baseline('" + m1 + "', '2024-05-01', '2024-05-03')");
    ADD_FAILURE() << "fitted on 2 days";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("need at least"), std::string::npos) << e.what();
  }
}

// Issue 11: the MANTIS windows and features (mantis/040, the same plain function as on
// PostgreSQL) over hypertables, through schema::maintain, and the documented z-score baseline
// through psql: values as computed here from the raw series.
TEST_F(timescale, mantis_windows_features_and_the_zscore_baseline) {
  seed_plant();
  schema::apply_mantis_migrations(*c_, source_sql_dir(), options_);
  const std::string ms = schema_ + "_mantis";
  schema::seed_mantis(*c_, ms, {});
  const auto value_at = [](int minute) {
    return minute >= 150 && minute < 155 ? 10.0 : 2.0 + 0.01 * (minute % 7);
  };
  std::string values;
  for (int k = 0; k < 180; ++k)
    values += (k ? "," : "") + std::string("(") + std::to_string(k) + "," +
              std::to_string(value_at(k)) + ")";
  exec("INSERT INTO " + ms +
       ".sensor_data_raw (time, sensor_id, value) SELECT date_trunc('hour', now()) - interval"
       " '3 hours' + k * interval '1 minute', " +
       ms + ".sensor_uuid('c0000000-0000-0000-0000-000000000001', 'vibration_mm_s'), v FROM (VALUES " +
       values + ") AS x (k, v)");
  schema::maintain_options o;
  o.refresh_window = std::chrono::hours(4);
  const auto r = schema::maintain(*c_, o, std::chrono::system_clock::now());
  EXPECT_TRUE(r.mantis);
  const std::string past = " AND time < date_trunc('hour', now())";
  EXPECT_EQ(value("SELECT string_agg(window_size || ' ' || n, ', ' ORDER BY window_size) FROM"
                  " (SELECT window_size, count(*) AS n FROM " +
                  ms + ".sensor_data_windowed WHERE true" + past + " GROUP BY 1) x"),
            "1 hour 3, 1 minute 180, 5 minutes 36");
  // The hour of the spike (minutes 120..179).
  double sum = 0, squares = 0, peak = 0;
  for (int k = 120; k < 180; ++k) {
    sum += value_at(k);
    squares += value_at(k) * value_at(k);
    peak = std::max(peak, value_at(k));
  }
  const std::string last_hour =
      " AND window_size = '1 hour' AND time = date_trunc('hour', now()) - interval '1 hour'";
  EXPECT_NEAR(number("SELECT mean FROM " + ms + ".sensor_data_windowed WHERE true" + last_hour),
              sum / 60, 1e-9);
  EXPECT_NEAR(number("SELECT value FROM " + ms +
                     ".sensor_features WHERE feature_name = 'crest_factor'" + last_hour),
              peak / std::sqrt(squares / 60), 1e-9);
  EXPECT_EQ(count("SELECT count(*) FROM " + ms + ".sensor_features WHERE true" + past),
            4 * (36 + 3));
  const std::string file =
      std::string(FACTORYSIM_SOURCE_DIR) + "/docs/examples/mantis_zscore_baseline.sql";
  const char* conninfo = std::getenv("FACTORYSIM_TEST_TIMESCALE");
  // The engine serves one session at a time: psql gets it while ours is closed.
  c_.reset();
  test::run_psql(conninfo, {"-c", "SET search_path = " + ms + ", " + schema_ + ", public", "-f", file});
  c_ = std::make_unique<pqxx::connection>(conninfo);
  EXPECT_EQ(value("SELECT count(*) || ' ' || count(*) FILTER (WHERE is_anomaly) FROM " + ms +
                  ".anomaly_scores"),
            "24 1");
  EXPECT_EQ(value("SELECT model_type FROM " + ms + ".ml_models WHERE name = 'baseline_rolling_zscore'"),
            "anomaly_detection");
}
