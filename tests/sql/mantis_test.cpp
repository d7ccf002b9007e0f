// Issue 11: the MANTIS layer on plain PostgreSQL 15. `db init --profile enms,mantis` creates
// schema mantis (metadata with UUID keys, foreign keys and updated_at triggers; partitioned
// series; rollups), fills assets and sensors from the scenario with stable ids and changes
// nothing when run again; the default profile creates none of it; `db maintain` refreshes
// the rollups and applies each series' retention.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/ingest_harness.hpp"
#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

const std::string demo = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";
const std::string m1 = "c0000000-0000-0000-0000-000000000001";

std::string init(const std::string& db, const std::vector<std::string>& extra, int expect = 0) {
  std::vector<std::string> argv{FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario", demo};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string out;
  EXPECT_EQ(run_command(argv, out), expect) << out;
  return out;
}

long long count(const std::string& db, const std::string& sql) {
  return query_int(db, sql);
}

}  // namespace

TEST(mantis, the_default_profile_creates_no_mantis_schema) {
  const std::string db = shared_server().create_database("enmsonly");
  init(db, {});
  EXPECT_EQ(count(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mantis'"), 0);
  EXPECT_NE(init(db, {"--profile", "enms,nosuch"}, 2).find("unknown profile \"nosuch\""),
            std::string::npos);
}

TEST(mantis, db_init_creates_every_object_and_assets_with_stable_ids) {
  const std::string db = shared_server().create_database("mantis");
  const std::string first = init(db, {"--profile", "enms,mantis"});
  EXPECT_NE(first.find("db: mantis layer: applied 4 migrations"), std::string::npos) << first;
  for (const char* t : {"assets",
                        "sensors",
                        "spare_parts",
                        "work_orders",
                        "anomalies",
                        "rul_predictions",
                        "maintenance_rules",
                        "asset_spare_parts",
                        "work_order_parts",
                        "maintenance_history",
                        "ml_models",
                        "kpi_snapshots",
                        "sensor_data_raw",
                        "sensor_data_windowed",
                        "sensor_features",
                        "anomaly_scores",
                        "rul_predictions_ts",
                        "system_events",
                        "sensor_data_hourly",
                        "sensor_data_daily",
                        "anomalies_hourly"})
    EXPECT_EQ(
        count(db, std::string("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid ="
                              " c.relnamespace WHERE n.nspname = 'mantis' AND c.relname = '") +
                      t + "' AND c.relkind IN ('r', 'p')"),
        1)
        << t;
  // The EnMS anomalies table is untouched beside MANTIS's own.
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                  " 'public' AND table_name = 'anomalies' AND column_name = 'fault_id'"),
            1);
  // Time series partitioned by day like the EnMS ones, with a DEFAULT partition.
  EXPECT_EQ(query_value(db,
                        "SELECT partstrat FROM pg_partitioned_table WHERE partrelid ="
                        " 'mantis.sensor_data_raw'::regclass"),
            "r");
  EXPECT_GT(count(db,
                  "SELECT count(*) FROM pg_inherits WHERE inhparent ="
                  " 'mantis.sensor_data_raw'::regclass"),
            1);
  // UUID keys and foreign keys.
  EXPECT_EQ(query_value(db,
                        "SELECT data_type FROM information_schema.columns WHERE table_schema ="
                        " 'mantis' AND table_name = 'work_orders' AND column_name = 'id'"),
            "uuid");
  EXPECT_GE(count(db,
                  "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid ="
                  " c.connamespace WHERE n.nspname = 'mantis' AND c.contype = 'f'"),
            15);
  // Assets: the 7 demo machines, same ids; sensors per type, ids derived from (machine, key).
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.assets a JOIN machines m ON m.id = a.id"), 7);
  EXPECT_EQ(query_value(db,
                        "SELECT asset_code || ' ' || asset_type || ' ' || site FROM"
                        " mantis.assets WHERE id = '" +
                            m1 + "'"),
            "factory/demo/compressor-1 compressor Demo Manufacturing Plant");
  // Compressor: 7 energy + 5 production + 6 environmental keys (what it publishes).
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensors WHERE asset_id = '" + m1 + "'"), 18);
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM mantis.sensors WHERE id <> mantis.sensor_uuid(asset_id,"
                  " signal_key)"),
            0);
  EXPECT_EQ(query_value(db,
                        "SELECT sensor_type || ' ' || unit || ' ' || warning_high || ' ' ||"
                        " critical_high || ' ' || (protocol_config->>'topic') FROM mantis.sensors"
                        " WHERE asset_id = '" +
                            m1 + "' AND signal_key = 'vibration_mm_s'"),
            "vibration mm/s 4.5 7.1 factory/demo/compressor-1/environmental");
  const std::string ids =
      query_value(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM mantis.sensors");
  // Again: nothing written, same ids.
  const std::string again = init(db, {"--profile", "enms,mantis"});
  EXPECT_NE(again.find("0 assets or sensors written"), std::string::npos) << again;
  EXPECT_EQ(query_value(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM mantis.sensors"),
            ids);
  // updated_at triggers: a real change bumps it, a no-op does not.
  const std::string stamp = "SELECT updated_at::text FROM mantis.assets WHERE id = '" + m1 + "'";
  const std::string before = query_value(db, stamp);
  exec_sql(db, "UPDATE mantis.assets SET status = status WHERE id = '" + m1 + "'");
  EXPECT_EQ(query_value(db, stamp), before);
  exec_sql(db, "UPDATE mantis.assets SET status = 'degraded' WHERE id = '" + m1 + "'");
  EXPECT_GT(query_value(db, stamp), before);
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                  " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mantis'"
                  " AND t.tgname LIKE '%_set_updated_at'"),
            12);
}

TEST(mantis, maintain_refreshes_rollups_and_keeps_each_series_for_its_period) {
  const std::string db = shared_server().create_database("mantismaint");
  init(db, {"--profile", "enms,mantis"});
  // Two hours of one sensor, one reading a minute, ending at the last whole hour.
  exec_sql(db, R"(
    INSERT INTO mantis.sensor_data_raw (time, sensor_id, value)
    SELECT date_trunc('hour', now()) - g * interval '1 minute',
           mantis.sensor_uuid('c0000000-0000-0000-0000-000000000001', 'vibration_mm_s'), g
      FROM generate_series(1, 120) g;
    INSERT INTO mantis.system_events (time, asset_id, event_type) VALUES
      (now() - interval '100 days', 'c0000000-0000-0000-0000-000000000001', 'failure'),
      (now() - interval '10 days', 'c0000000-0000-0000-0000-000000000001', 'failure');
    INSERT INTO mantis.rul_predictions_ts (time, asset_id, rul_hours) VALUES
      (now() - interval '100 days', 'c0000000-0000-0000-0000-000000000001', 500);)");
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "maintain", "--db", db}, out), 0) << out;
  EXPECT_NE(out.find("(EnMS and MANTIS layers)"), std::string::npos) << out;
  // Hourly buckets equal the raw rows: 60 readings each, values 1..60 and 61..120.
  EXPECT_EQ(query_value(db,
                        "SELECT string_agg(sample_count || ':' || value_min || '-' || value_max,"
                        " ' ' ORDER BY bucket) FROM mantis.sensor_data_hourly"),
            "60:61-120 60:1-60");
  EXPECT_EQ(query_value(db, "SELECT sum(sample_count)::text FROM mantis.sensor_data_daily"), "120");
  // system_events keep 90 days, rul_predictions_ts a year.
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.system_events"), 1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.rul_predictions_ts"), 1);
}

// `loadgen --narrow` writes the energy values of each reading as narrow rows of the MANTIS
// table, with the ids db init gave the sensors (its speed is bench/narrow_copy_bench.sh's).
TEST(mantis, loadgen_narrow_writes_seven_rows_per_reading_with_the_sensor_ids) {
  const std::string db = shared_server().create_database("mantisload");
  init(db, {"--profile", "enms,mantis"});
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "loadgen", "--db", db, "--scenario", demo, "--narrow",
                         "--rows", "7000", "--batch-rows", "700"},
                        out),
            0)
      << out;
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensor_data_raw"), 7000);
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM mantis.sensor_data_raw r JOIN mantis.sensors s ON"
                  " s.id = r.sensor_id AND s.sensor_type IN ('power', 'energy', 'energy_meter',"
                  " 'voltage', 'current', 'power_factor', 'frequency')"),
            7000);
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM (SELECT time, s.asset_id FROM mantis.sensor_data_raw r"
                  " JOIN mantis.sensors s ON s.id = r.sensor_id GROUP BY 1, 2"
                  " HAVING count(*) <> 7) x"),
            0);
  // Without the layer it says what to do.
  const std::string plain = shared_server().create_database("plainload");
  init(plain, {});
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "loadgen", "--db", plain, "--scenario", demo,
                         "--narrow", "--rows", "70"},
                        out),
            1);
  EXPECT_NE(out.find("--profile enms,mantis"), std::string::npos) << out;
}
