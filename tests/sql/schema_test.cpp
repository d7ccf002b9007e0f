// Migrations: apply twice cleanly (psql and the C++ migrator), are recorded with checksums,
// create the objects of docs/schema.md, and the time-series tables take what the ingestor COPYs.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/sql/sql_fixture.hpp"

using namespace factorysim;
using namespace factorysim::test;

namespace {

std::vector<std::string> sql_files() {
  std::vector<std::string> files;
  for (const auto& f : schema::load_migrations(source_sql_dir())) files.push_back(f.path.string());
  return files;
}

/// Every object of the public schema with its definition, to compare two runs.
std::string schema_fingerprint(const std::string& conninfo) {
  return query_value(conninfo, R"(
    SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
      SELECT format('%s %s %s', c.relkind, c.relname, pg_get_viewdef(c.oid)) AS x
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
      UNION ALL
      SELECT format('col %s.%s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT format('fn %s', pg_get_functiondef(p.oid)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public'
      UNION ALL
      SELECT format('con %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace
      UNION ALL
      SELECT format('trg %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal) s)");
}

}  // namespace

TEST(schema, psql_applies_every_file_twice_cleanly) {
  const std::string db = shared_server().create_database("psql");
  for (int run = 0; run < 2; ++run) {
    for (const auto& f : sql_files()) {
      // -1: one transaction per file, as the migrator does; ON_ERROR_STOP makes psql fail.
      ASSERT_NO_THROW(run_psql(db, {"-1", "-f", f})) << "run " << run << " of " << f;
    }
  }
  EXPECT_EQ(query_value(db, "SELECT factorysim_backend()"), "postgresql");
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM pg_type WHERE typname IN ('machine_type', "
                      "'operating_mode', 'alert_level')"),
            3);
}

TEST(schema, migrator_applies_records_skips_and_reapplies_harmlessly) {
  const std::string db = shared_server().create_database("mig");
  const auto files = schema::load_migrations(source_sql_dir());
  ASSERT_GE(files.size(), 10U);
  pqxx::connection c{db};
  const auto first = schema::apply_migrations(c, files);
  EXPECT_EQ(first.applied.size(), files.size());
  EXPECT_TRUE(first.skipped.empty());
  EXPECT_EQ(first.backend, "postgresql");
  const std::string fingerprint = schema_fingerprint(db);

  // Recorded: one row per file, checksum = md5 of the text.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations"),
            static_cast<long long>(files.size()));
  EXPECT_EQ(query_value(db, "SELECT checksum FROM schema_migrations WHERE version = '030'"),
            query_value(db, "SELECT md5(" +
                                pqxx::connection(db).quote(
                                    std::find_if(files.begin(), files.end(),
                                                 [](const auto& f) { return f.version == "030"; })
                                        ->text) +
                                ")"));

  const auto second = schema::apply_migrations(c, files);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.skipped.size(), files.size());

  // Forced: every idempotent file runs again and the schema stays the same.
  schema::migrate_options force;
  force.force = true;
  const auto third = schema::apply_migrations(c, files, force);
  EXPECT_EQ(third.applied.size(), files.size());
  EXPECT_EQ(schema_fingerprint(db), fingerprint);

  // A changed file (new checksum) is applied again; the others are skipped.
  auto changed = files;
  changed[8].text += "\n-- a comment changes the checksum\n";
  const auto fourth = schema::apply_migrations(c, changed);
  ASSERT_EQ(fourth.applied.size(), 1U);
  EXPECT_EQ(fourth.applied[0], changed[8].name);
}

TEST(schema, failing_migration_rolls_back_and_names_the_file) {
  const std::string db = shared_server().create_database("bad");
  auto files = schema::load_migrations(source_sql_dir());
  files.push_back({"999", "999_broken.sql", "999_broken.sql",
                   "CREATE TABLE half_done (x int); SELECT no_such_function();"});
  pqxx::connection c{db};
  try {
    schema::apply_migrations(c, files);
    FAIL() << "a broken migration must throw";
  } catch (const pqxx::sql_error& e) {
    EXPECT_NE(std::string(e.what()).find("999_broken.sql"), std::string::npos) << e.what();
  }
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pg_class WHERE relname = 'half_done'"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations WHERE version = '999'"), 0);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations"),
            static_cast<long long>(files.size() - 1));
}

TEST(schema, load_migrations_rejects_bad_folders) {
  EXPECT_THROW(schema::load_migrations("/nonexistent/sql"), std::invalid_argument);
  const auto dir =
      std::filesystem::temp_directory_path() / ("fs-sql-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "010_a.sql") << "SELECT 1;"; }
  { std::ofstream(dir / "10_b.sql") << "SELECT 1;"; }
  EXPECT_THROW(schema::load_migrations(dir), std::invalid_argument);  // same version 10
  std::filesystem::remove(dir / "10_b.sql");
  { std::ofstream(dir / "readme_first.sql") << "SELECT 1;"; }
  EXPECT_THROW(schema::load_migrations(dir), std::invalid_argument);  // no version
  std::filesystem::remove_all(dir);
  EXPECT_THROW(schema::find_sql_dir(std::filesystem::path("/nonexistent")), std::invalid_argument);
  EXPECT_EQ(schema::find_sql_dir(source_sql_dir()), source_sql_dir());
}

TEST(schema, spec_tables_and_columns_exist) {
  const std::string db = migrated_database();
  const auto has_columns = [&](const std::string& table, const std::vector<std::string>& cols) {
    for (const auto& col : cols) {
      EXPECT_EQ(
          query_int(db,
                    "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = '" +
                        table + "' AND column_name = '" + col + "'"),
          1)
          << table << "." << col;
    }
  };
  has_columns("factories", {"id", "name", "location", "timezone", "carbon_region"});
  has_columns("machines", {"id", "factory_id", "name", "type", "rated_power_kw", "rated_voltage_v",
                           "rated_current_a", "rated_frequency_hz", "data_interval_seconds",
                           "mqtt_topic", "is_active", "is_critical"});
  has_columns("energy_readings",
              {"time", "machine_id", "energy_type", "power_kw", "energy_kwh", "voltage_v",
               "current_a", "power_factor", "frequency_hz", "voltage_l1_v", "current_l3_a",
               "thd_voltage_percent", "quality_score", "source", "seq", "energy_total_kwh"});
  has_columns("production_data", {"time", "machine_id", "production_count", "production_count_good",
                                  "production_count_bad", "throughput_units_per_hour",
                                  "operating_mode", "speed_percent", "shift", "seq"});
  has_columns("environmental_data",
              {"time", "machine_id", "outdoor_temp_c", "indoor_temp_c", "machine_temp_c",
               "outdoor_humidity_percent", "indoor_humidity_percent", "pressure_bar",
               "pressure_setpoint_bar", "flow_rate_m3h", "supply_air_temp_c", "return_air_temp_c",
               "chilled_water_supply_temp_c", "chilled_water_return_temp_c", "cop",
               "vibration_mm_s", "seq", "bearing_temp_c", "vibration_1x_mm_s",
               "vibration_2x_mm_s", "vibration_accel_peak_g", "vibration_crest_factor",
               "vibration_kurtosis", "vibration_bearing_defect_ge", "current_unbalance_percent",
               "run_hours", "start_count"});
  // ISO 10816-3 zones (sql/044): group 2 rigid, group 1 flexible, NULL for no reading.
  EXPECT_EQ(query_value(db, "SELECT string_agg(iso10816_zone(v), '' ORDER BY v) FROM "
                            "unnest(ARRAY[0.5, 1.4, 2.79, 2.8, 4.49, 4.5, 20]) v"),
            "ABBCCDD");
  EXPECT_EQ(query_value(db, "SELECT iso10816_zone(5.0, 1, true) || iso10816_zone(8.0, 1, true)"), "BC");
  EXPECT_EQ(query_value(db, "SELECT coalesce(iso10816_zone(NULL), 'null')"), "null");
  has_columns("health_truth", {"time", "machine_id", "health_index", "limiting_component",
                               "rul_operating_h", "rul_calendar_h", "failed", "active_faults",
                               "faulted_signals", "interruption", "component_health", "seq"});
  has_columns("maintenance_events",
              {"machine_id", "work_order", "maintenance_type", "component", "started_at",
               "ended_at", "health_before", "health_after", "duration_h"});
  has_columns("machine_status", {"machine_id", "time", "is_running", "operating_mode",
                                 "current_power_kw", "energy_total_kwh", "last_seen"});
  has_columns("anomalies", {"id", "machine_id", "detected_at", "resolved_at", "anomaly_type",
                            "severity", "metric_name", "fault_id", "source", "signals"});
  has_columns("energy_tariffs",
              {"rate_per_kwh", "currency", "is_time_of_use", "start_hour", "end_hour",
               "applicable_days", "demand_charge_per_kw", "valid_from", "valid_to"});
  has_columns("carbon_factors",
              {"region", "emission_factor_kg_co2_per_kwh", "valid_from", "valid_to"});
  has_columns("ingest_rejects", {"id", "received_at", "topic", "payload", "reason"});
  has_columns("audit_log",
              {"changed_at", "changed_by", "table_name", "action", "old_data", "new_data"});
  has_columns("energy_baselines", {"machine_id", "coefficients", "r_squared"});
  for (const char* rollup :
       {"energy_readings_1min", "energy_readings_15min", "energy_readings_1hour",
        "energy_readings_1day", "production_data_1min", "production_data_15min",
        "production_data_1hour", "production_data_1day", "environmental_data_1min",
        "environmental_data_15min", "environmental_data_1hour"}) {
    has_columns(rollup, {"bucket", "machine_id", "sample_count"});
  }
  // Measurement columns are double precision (docs/schema.md).
  EXPECT_EQ(
      query_value(
          db,
          "SELECT data_type FROM information_schema.columns WHERE table_name = 'energy_readings' "
          "AND column_name = 'power_kw'"),
      "double precision");
}

TEST(schema, unique_keys_stop_duplicates_and_enums_check_values) {
  const std::string db = migrated_database();
  exec_sql(db, R"(
    INSERT INTO factories (id, name, timezone) VALUES ('11111111-1111-1111-1111-111111111111', 'F', 'UTC');
    INSERT INTO machines (id, factory_id, name, type, rated_power_kw)
      VALUES ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'M', 'pump', 10);
    SELECT ensure_partitions('2024-07-10', '2024-07-11');
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
      VALUES ('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 1, 1);
    INSERT INTO production_data (time, machine_id, production_count, operating_mode)
      VALUES ('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 1, 'running');
    INSERT INTO environmental_data (time, machine_id, machine_temp_c)
      VALUES ('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 40);)");
  EXPECT_THROW(exec_sql(db,
                        "INSERT INTO energy_readings (time, machine_id, power_kw) VALUES "
                        "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 2)"),
               pqxx::unique_violation);
  // Another energy_type at the same instant is a different reading.
  EXPECT_NO_THROW(exec_sql(
      db,
      "INSERT INTO energy_readings (time, machine_id, energy_type, power_kw) VALUES "
      "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 'compressed_air', 2)"));
  EXPECT_THROW(exec_sql(db,
                        "INSERT INTO production_data (time, machine_id) VALUES "
                        "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001')"),
               pqxx::unique_violation);
  EXPECT_THROW(exec_sql(db,
                        "INSERT INTO environmental_data (time, machine_id) VALUES "
                        "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001')"),
               pqxx::unique_violation);
  // What the ingestor's redelivery path does: ON CONFLICT DO NOTHING keeps one row.
  exec_sql(
      db,
      "INSERT INTO energy_readings (time, machine_id, power_kw) VALUES "
      "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-000000000001', 3) ON CONFLICT DO NOTHING");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings WHERE energy_type = 'electrical'"),
            1);
  EXPECT_THROW(exec_sql(db,
                        "INSERT INTO production_data (time, machine_id, operating_mode) VALUES "
                        "('2024-07-10 12:01Z', 'c0000000-0000-0000-0000-000000000001', 'dancing')"),
               pqxx::data_exception);
  // Unknown machine: the foreign key refuses it.
  EXPECT_THROW(exec_sql(db,
                        "INSERT INTO energy_readings (time, machine_id, power_kw) VALUES "
                        "('2024-07-10 12:00Z', 'c0000000-0000-0000-0000-0000000000ff', 1)"),
               pqxx::foreign_key_violation);
  // An event redelivered: the anomalies key keeps one row; the end fills resolved_at.
  const std::string event =
      "INSERT INTO anomalies (machine_id, detected_at, anomaly_type, severity, fault_id, source) "
      "VALUES ('c0000000-0000-0000-0000-000000000001', '2024-07-10 12:00Z', 'spike', 'critical', "
      "7, "
      "'scenario') ON CONFLICT (machine_id, anomaly_type, detected_at) DO UPDATE SET "
      "resolved_at = coalesce(excluded.resolved_at, anomalies.resolved_at)";
  exec_sql(db, event);
  exec_sql(db, event);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM anomalies"), 1);
}

TEST(schema, binary_copy_of_the_ingest_column_lists_is_accepted) {
  // The exact column lists docs/schema.md promises the ingestor, through COPY ... (FORMAT
  // binary) produced by the server itself (psql \copy round trip).
  const std::string db = migrated_database();
  exec_sql(db, R"(
    INSERT INTO factories (id, name) VALUES ('11111111-1111-1111-1111-111111111111', 'F');
    INSERT INTO machines (id, factory_id, name, type, rated_power_kw)
      VALUES ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'M', 'pump', 10);
    CREATE TABLE src_e AS SELECT timestamptz '2024-07-10 12:00Z' + g * interval '1 second' AS time,
      'c0000000-0000-0000-0000-000000000001'::uuid AS machine_id, 1.5::float8 AS power_kw,
      0.0004::float8 AS energy_kwh, 100.0::float8 + g AS energy_total_kwh, 400::float8 AS voltage_v,
      2.5::float8 AS current_a, 0.86::float8 AS power_factor, 50::float8 AS frequency_hz, g::bigint AS seq
      FROM generate_series(1, 100) g;
    CREATE TABLE src_p AS SELECT timestamptz '2024-07-10 12:00Z' + g * interval '1 second' AS time,
      'c0000000-0000-0000-0000-000000000001'::uuid AS machine_id, 2::bigint AS production_count,
      2::bigint AS production_count_good, 0::bigint AS production_count_bad, 7200::float8 AS throughput_units_per_hour,
      'running'::operating_mode AS operating_mode, 80::float8 AS speed_percent, 'early'::text AS shift, g::bigint AS seq
      FROM generate_series(1, 100) g;)");
  const auto tmp =
      std::filesystem::temp_directory_path() / ("fs-copy-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string e_cols =
      "time, machine_id, power_kw, energy_kwh, energy_total_kwh, voltage_v, current_a, "
      "power_factor, frequency_hz, seq";
  const std::string p_cols =
      "time, machine_id, production_count, production_count_good, production_count_bad, "
      "throughput_units_per_hour, operating_mode, speed_percent, shift, seq";
  run_psql(db, {"-c", "\\copy src_e (" + e_cols + ") TO '" + (tmp / "e.bin").string() +
                          "' (FORMAT binary)"});
  run_psql(db, {"-c", "\\copy energy_readings (" + e_cols + ") FROM '" + (tmp / "e.bin").string() +
                          "' (FORMAT binary)"});
  run_psql(db, {"-c", "\\copy src_p (" + p_cols + ") TO '" + (tmp / "p.bin").string() +
                          "' (FORMAT binary)"});
  run_psql(db, {"-c", "\\copy production_data (" + p_cols + ") FROM '" + (tmp / "p.bin").string() +
                          "' (FORMAT binary)"});
  std::filesystem::remove_all(tmp);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings"), 100);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM production_data WHERE operating_mode = 'running'"),
            100);
  EXPECT_EQ(query_value(db, "SELECT energy_type FROM energy_readings LIMIT 1"), "electrical");
  // No partition for that day yet: the DEFAULT partition took the rows, nothing refused.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings_default"), 100);
}

TEST(schema, time_series_foreign_keys_can_be_left_out_on_the_first_run) {
  const std::string with_fk = migrated_database();
  const std::string fk_count =
      "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
      "('energy_readings'::regclass, 'production_data'::regclass, 'environmental_data'::regclass)";
  EXPECT_EQ(query_int(with_fk, fk_count), 3);
  const std::string without = shared_server().create_database("nofk");
  pqxx::connection c{without};
  schema::migrate_options o;
  o.timeseries_fk = false;
  schema::apply_migrations(c, schema::load_migrations(source_sql_dir()), o);
  EXPECT_EQ(query_int(without, fk_count), 0);
  // machine_status and anomalies keep theirs: they are small and written by upsert.
  EXPECT_EQ(query_int(without,
                      "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = "
                      "'machine_status'::regclass"),
            1);
}
