// Plain-PostgreSQL rollups and partitions: every rollup level equals a direct GROUP BY of the
// raw rows (after a full and after a partial refresh), refreshes are idempotent, rows land in
// the right daily partition, the DEFAULT partition catches the rest, retention drops old days
// and never empties kept rollups.
#include <gtest/gtest.h>

#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

constexpr const char* seed_sql = R"(
  INSERT INTO factories (id, name) VALUES ('11111111-1111-1111-1111-111111111111', 'F');
  INSERT INTO machines (id, factory_id, name, type, rated_power_kw) VALUES
    ('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'A', 'compressor', 55),
    ('c0000000-0000-0000-0000-000000000002', '11111111-1111-1111-1111-111111111111', 'B', 'hvac', 150);
  SELECT ensure_partitions('2024-07-09 22:00Z', '2024-07-11 02:00Z');)";

/// Irregular data over 28 hours (two UTC days and a bit), a few readings without power.
constexpr const char* data_sql = R"(
  INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh, voltage_v, current_a, power_factor, frequency_hz)
  SELECT timestamptz '2024-07-09 22:00Z' + g * interval '7 seconds', m,
         CASE WHEN g % 1000 = 0 THEN NULL ELSE 10 + 5 * sin(g / 100.0) + g % 13 + k END,
         (10 + 5 * sin(g / 100.0) + g % 13 + k) * 7 / 3600,
         CASE WHEN g % 1000 = 0 THEN NULL ELSE 400 + g % 3 END,
         CASE WHEN g % 1000 = 0 THEN NULL ELSE 20 + g % 11 END,
         CASE WHEN g % 1000 = 0 THEN NULL ELSE 0.8 + (g % 10) / 100.0 END,
         CASE WHEN g % 1000 = 0 THEN NULL ELSE 50 END
    FROM generate_series(0, 28 * 3600 / 7 - 1) g,
         (VALUES ('c0000000-0000-0000-0000-000000000001'::uuid, 0), ('c0000000-0000-0000-0000-000000000002'::uuid, 100)) AS mm(m, k);
  INSERT INTO production_data (time, machine_id, production_count, production_count_good, production_count_bad,
                               throughput_units_per_hour, operating_mode, speed_percent)
  SELECT timestamptz '2024-07-09 22:00Z' + g * interval '10 seconds', m, g % 5, g % 5 - (g % 5) / 4, (g % 5) / 4,
         (g % 5) * 360, CASE WHEN g % 7 = 0 THEN 'idle' ELSE 'running' END::operating_mode, 50 + g % 50
    FROM generate_series(0, 28 * 360 - 1) g,
         (VALUES ('c0000000-0000-0000-0000-000000000001'::uuid), ('c0000000-0000-0000-0000-000000000002'::uuid)) AS mm(m);
  INSERT INTO environmental_data (time, machine_id, machine_temp_c, vibration_mm_s, outdoor_temp_c)
  SELECT timestamptz '2024-07-09 22:00Z' + g * interval '30 seconds', m, 40 + g % 20, 1 + (g % 7) * 0.1,
         15 + 10 * sin(g / 500.0)
    FROM generate_series(0, 28 * 120 - 1) g,
         (VALUES ('c0000000-0000-0000-0000-000000000001'::uuid), ('c0000000-0000-0000-0000-000000000002'::uuid)) AS mm(m);)";

std::string close(const std::string& a, const std::string& b) {
  return "(" + a + " IS DISTINCT FROM " + b + " AND (" + a + " IS NULL OR " + b +
         " IS NULL OR abs(" + a + " - " + b + ") > 1e-9 * (1 + abs(" + b + "))))";
}

/// Rows of `rollup` that differ from the direct aggregation of the raw table (missing or
/// extra buckets included).
long long mismatches(const std::string& db, const std::string& rollup, const std::string& width) {
  const std::string bin = "date_bin('" + width + "', time, '2000-01-01 00:00:00+00')";
  std::string direct, keys, diff;
  if (rollup.rfind("energy_readings", 0) == 0) {
    direct =
        "SELECT " + bin +
        " AS b, machine_id, energy_type, count(power_kw) AS sc, avg(power_kw) AS ap, "
        "min(power_kw) AS mn, max(power_kw) AS mx, sum(energy_kwh) AS te, avg(voltage_v) AS av, "
        "avg(power_factor) AS apf FROM energy_readings GROUP BY 1, 2, 3";
    keys = "r.bucket = d.b AND r.machine_id = d.machine_id AND r.energy_type = d.energy_type";
    diff = "r.sample_count <> d.sc OR " + close("r.avg_power_kw", "d.ap") + " OR " +
           close("r.min_power_kw", "d.mn") + " OR " + close("r.max_power_kw", "d.mx") + " OR " +
           close("r.total_energy_kwh", "d.te") + " OR " + close("r.avg_voltage_v", "d.av") +
           " OR " + close("r.avg_power_factor", "d.apf");
  } else if (rollup.rfind("production_data", 0) == 0) {
    direct = "SELECT " + bin +
             " AS b, machine_id, count(*) AS sc, sum(production_count) AS pc, "
             "sum(production_count_good) AS pg, sum(production_count_bad) AS pb, "
             "avg(speed_percent) AS sp, "
             "avg(throughput_units_per_hour) AS tp, count(*) FILTER (WHERE operating_mode = "
             "'running') AS rs "
             "FROM production_data GROUP BY 1, 2";
    keys = "r.bucket = d.b AND r.machine_id = d.machine_id";
    diff =
        "r.sample_count <> d.sc OR r.total_production_count <> d.pc OR r.total_production_good <> "
        "d.pg OR "
        "r.total_production_bad <> d.pb OR r.running_samples <> d.rs OR " +
        close("r.avg_speed_percent", "d.sp") + " OR " +
        close("r.avg_throughput_units_per_hour", "d.tp");
  } else {
    direct = "SELECT " + bin +
             " AS b, machine_id, count(*) AS sc, avg(machine_temp_c) AS mt, "
             "avg(vibration_mm_s) AS vb, max(vibration_mm_s) AS mv, avg(outdoor_temp_c) AS ot, "
             "avg(cop) AS cp "
             "FROM environmental_data GROUP BY 1, 2";
    keys = "r.bucket = d.b AND r.machine_id = d.machine_id";
    diff = "r.sample_count <> d.sc OR " + close("r.avg_machine_temp_c", "d.mt") + " OR " +
           close("r.avg_vibration_mm_s", "d.vb") + " OR " + close("r.max_vibration_mm_s", "d.mv") +
           " OR " + close("r.avg_outdoor_temp_c", "d.ot") + " OR " + close("r.avg_cop", "d.cp");
  }
  return query_int(db, "WITH d AS (" + direct + ") SELECT count(*) FROM d FULL JOIN " + rollup +
                           " r ON " + keys + " WHERE r.bucket IS NULL OR d.b IS NULL OR " + diff);
}

const std::vector<std::pair<std::string, std::string>> all_rollups = {
    {"energy_readings_1min", "1 minute"},    {"energy_readings_15min", "15 minutes"},
    {"energy_readings_1hour", "1 hour"},     {"energy_readings_1day", "1 day"},
    {"production_data_1min", "1 minute"},    {"production_data_15min", "15 minutes"},
    {"production_data_1hour", "1 hour"},     {"production_data_1day", "1 day"},
    {"environmental_data_1min", "1 minute"}, {"environmental_data_15min", "15 minutes"},
    {"environmental_data_1hour", "1 hour"}};

/// Digest of every rollup's keys and integer columns.
std::string rollup_keys(const std::string& db) {
  std::string all;
  for (const auto& [name, width] : all_rollups) {
    all += query_value(
        db,
        "SELECT coalesce(md5(string_agg(format('%s %s %s', bucket, machine_id, sample_count), '|' "
        "ORDER BY bucket, machine_id)), '') FROM " +
            name);
  }
  return all;
}

}  // namespace

TEST(rollups, every_level_equals_a_direct_group_by_of_raw_rows) {
  const std::string db = migrated_database();
  exec_sql(db, seed_sql);
  exec_sql(db, data_sql);
  exec_sql(db, "SELECT * FROM refresh_rollups('2024-07-09 22:00Z', '2024-07-11 02:00Z')");
  for (const auto& [name, width] : all_rollups) {
    EXPECT_GT(query_int(db, "SELECT count(*) FROM " + name), 0) << name;
    EXPECT_EQ(mismatches(db, name, width), 0) << name;
  }
  // A spot check by hand: the 1-day energy of machine A on 2024-07-10 is the raw sum.
  EXPECT_NEAR(
      query_double(
          db,
          "SELECT total_energy_kwh FROM energy_readings_1day WHERE bucket = '2024-07-10 00:00Z' "
          "AND machine_id = 'c0000000-0000-0000-0000-000000000001'"),
      query_double(
          db,
          "SELECT sum(energy_kwh) FROM energy_readings WHERE time >= '2024-07-10 00:00Z' AND "
          "time < '2024-07-11 00:00Z' AND machine_id = 'c0000000-0000-0000-0000-000000000001'"),
      1e-9);
  // Idempotent: refreshing again writes the same buckets (floating-point sums may differ in
  // the last bit with the row order, hence the tolerant comparison, not a byte digest).
  const std::string before = rollup_keys(db);
  exec_sql(db, "SELECT * FROM refresh_rollups('2024-07-09 22:00Z', '2024-07-11 02:00Z')");
  EXPECT_EQ(rollup_keys(db), before);
  for (const auto& [name, width] : all_rollups) EXPECT_EQ(mismatches(db, name, width), 0) << name;
}

TEST(rollups, partial_refresh_of_changed_range_keeps_every_level_exact) {
  const std::string db = migrated_database();
  exec_sql(db, seed_sql);
  exec_sql(db, data_sql);
  exec_sql(db, "SELECT * FROM refresh_rollups('2024-07-09 22:00Z', '2024-07-11 02:00Z')");
  // Late rows inside 10:07..11:53 on 07-10 and deleted rows in the same window.
  exec_sql(db, R"(
    -- (Complete energy messages: averages of a higher level are weighted by sample_count, the
    -- readings with a power value, so they are exact when a reading with power has the rest.)
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh, voltage_v, current_a, power_factor, frequency_hz)
    SELECT timestamptz '2024-07-10 10:07:03.5Z' + g * interval '11 seconds', 'c0000000-0000-0000-0000-000000000001',
           500, 1, 390, 700, 0.95, 49.9
      FROM generate_series(0, 570) g;  -- last one 11:51:33.5
    DELETE FROM production_data WHERE time >= '2024-07-10 10:30Z' AND time < '2024-07-10 11:00Z';
    UPDATE environmental_data SET machine_temp_c = 99 WHERE time >= '2024-07-10 11:00Z' AND time < '2024-07-10 11:53Z';)");
  EXPECT_GT(mismatches(db, "energy_readings_1day", "1 day"), 0)
      << "the change must be visible before the refresh";
  const auto rows = query_rows(
      db, "SELECT rollup, buckets FROM refresh_rollups('2024-07-10 10:07Z', '2024-07-10 11:53Z')");
  EXPECT_EQ(rows.size(), all_rollups.size());
  for (const auto& [name, width] : all_rollups) EXPECT_EQ(mismatches(db, name, width), 0) << name;
}

TEST(partitions, rows_land_in_their_day_and_default_catches_the_rest) {
  const std::string db = migrated_database();
  exec_sql(db,
           "INSERT INTO factories (id, name) VALUES ('11111111-1111-1111-1111-111111111111', 'F'); "
           "INSERT INTO machines (id, factory_id, name, type, rated_power_kw) VALUES "
           "('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'A', "
           "'pump', 5)");
  // Two UTC days x four tables (issue 11 added health_truth).
  EXPECT_EQ(query_int(db, "SELECT ensure_partitions('2024-07-10 05:00Z', '2024-07-11 23:00Z')"), 8);
  EXPECT_EQ(query_int(db, "SELECT ensure_partitions('2024-07-10 00:00Z', '2024-07-12 00:00Z')"), 0);
  const auto where = [&](const std::string& t) {
    exec_sql(db, "INSERT INTO energy_readings (time, machine_id, power_kw) VALUES ('" + t +
                     "', 'c0000000-0000-0000-0000-000000000001', 1)");
    return query_value(
        db, "SELECT tableoid::regclass::text FROM energy_readings WHERE time = '" + t + "'");
  };
  EXPECT_EQ(where("2024-07-10 00:00:00Z"), "energy_readings_p20240710");
  EXPECT_EQ(where("2024-07-10 23:59:59.999Z"), "energy_readings_p20240710");
  EXPECT_EQ(where("2024-07-11 00:00:00Z"), "energy_readings_p20240711");
  EXPECT_EQ(where("2024-07-10 23:30:00-07"), "energy_readings_p20240711");  // 06:30Z on 07-11
  EXPECT_EQ(where("2024-07-15 12:00:00Z"), "energy_readings_default");
  EXPECT_EQ(where("2024-06-01 12:00:00Z"), "energy_readings_default");
  // Creating 07-15 moves its row out of the DEFAULT partition.
  EXPECT_EQ(query_int(db, "SELECT ensure_partitions('2024-07-15 06:00Z', '2024-07-15 07:00Z')"), 4);
  EXPECT_EQ(
      query_value(
          db,
          "SELECT tableoid::regclass::text FROM energy_readings WHERE time = '2024-07-15 12:00Z'"),
      "energy_readings_p20240715");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings_default"), 1);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings"), 6);
}

TEST(partitions, retention_drops_old_days_and_keeps_rollups) {
  const std::string db = migrated_database();
  exec_sql(db,
           "INSERT INTO factories (id, name) VALUES ('11111111-1111-1111-1111-111111111111', 'F'); "
           "INSERT INTO machines (id, factory_id, name, type, rated_power_kw) VALUES "
           "('c0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'A', "
           "'pump', 5); "
           "SELECT ensure_partitions('2024-07-10', '2024-07-13')");
  exec_sql(db, R"(
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT t, 'c0000000-0000-0000-0000-000000000001', 1, 1
      FROM unnest(ARRAY['2024-06-01 12:00Z', '2024-07-10 12:00Z', '2024-07-11 12:00Z', '2024-07-12 12:00Z',
                        '2024-08-01 12:00Z']::timestamptz[]) t;
    SELECT * FROM refresh_rollups('2024-06-01', '2024-08-02');)");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings_1min"), 5);
  // 90 days before 2024-10-10 00:00Z is 2024-07-12 00:00Z: days 07-10 and 07-11 go (x 4
  // tables), 07-12 stays; the DEFAULT partition loses its June row, keeps August.
  EXPECT_EQ(query_int(db, "SELECT apply_retention(interval '90 days', '2024-10-10 00:00Z')"), 8);
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ "
                      "'^energy_readings_p[0-9]{8}$'"),
            1);
  EXPECT_EQ(query_value(db,
                        "SELECT string_agg(to_char(time AT TIME ZONE 'UTC', 'MM-DD'), ',' ORDER BY "
                        "time) FROM energy_readings"),
            "07-12,08-01");
  // Refreshing over the dropped days does not empty their kept rollups.
  exec_sql(db, "SELECT * FROM refresh_rollups('2024-06-01', '2024-08-02')");
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings_1min"), 5);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM energy_readings_1day"), 5);
  // Running it again drops nothing more.
  EXPECT_EQ(query_int(db, "SELECT apply_retention(interval '90 days', '2024-10-10 00:00Z')"), 0);
}
