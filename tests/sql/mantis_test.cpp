// Issue 11: the MANTIS layer on plain PostgreSQL 15. `db init --profile enms,mantis` creates
// schema mantis (metadata with UUID keys, foreign keys and updated_at triggers; partitioned
// series; rollups), fills assets and sensors from the scenario with stable ids and changes
// nothing when run again; the default profile creates none of it; `db maintain` refreshes
// the rollups and applies each series' retention.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/ingest_harness.hpp"
#include "tests/support/child_process.hpp"
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
  EXPECT_NE(first.find("db: mantis layer: applied 5 migrations"), std::string::npos) << first;
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
  // Compressor: 10 energy + 5 production + 6 environmental + 10 condition-monitoring keys
  // (what it publishes).
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensors WHERE asset_id = '" + m1 + "'"), 31);
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
  EXPECT_NE(again.find("0 assets, sensors or rules written"), std::string::npos) << again;
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

TEST(mantis, the_scenarios_maintenance_plans_become_maintenance_rules) {
  const std::string db = shared_server().create_database("mantisrules");
  init(db, {"--profile", "enms,mantis"});
  // The demo plant plans preventive maintenance for both compressors and the molding
  // machine by running hours and for both HVAC units by the calendar (docs/plant.md).
  EXPECT_EQ(query_value(db,
                        "SELECT string_agg(rule_type || ' ' || interval_hours || ' ' || priority,"
                        " ', ' ORDER BY asset_id, rule_type) FROM mantis.maintenance_rules"
                        " WHERE is_active"),
            "usage 8000 high, time 4320 high, usage 5000 high, usage 8000 high, time 4320 medium");
  EXPECT_EQ(query_value(db,
                        "SELECT condition::text || ' ' || action FROM mantis.maintenance_rules"
                        " WHERE asset_id = '" + m1 + "'"),
            R"({"source": "scenario", "restore": 1.0, "components": ["inlet_valve"], )"
            R"("duration_h": 6.0} create_work_order)");

  // The plan leaves the scenario: its rule is kept for the record but no longer active.
  std::string yaml;
  {
    std::ifstream in(demo);
    std::stringstream ss;
    ss << in.rdbuf();
    yaml = ss.str();
  }
  const std::string plan =
      "    maintenance:\n      preventive: { every_run_hours: 8000, duration: 6h, components: "
      "[inlet_valve] }\n";
  const auto at = yaml.find(plan);
  ASSERT_NE(at, std::string::npos);
  yaml.erase(at, plan.size());
  const std::string dir = make_temp_dir("factorysim-rules");
  const std::string changed = dir + "/plant.yaml";
  std::ofstream(changed) << yaml;
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario", changed,
                         "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  EXPECT_NE(out.find("1 asset, sensor or rule written"), std::string::npos) << out;
  EXPECT_EQ(query_value(db, "SELECT is_active::text FROM mantis.maintenance_rules WHERE asset_id = '" +
                                m1 + "'"),
            "false");
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.maintenance_rules WHERE is_active"), 4);
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

// Issue 11: `db maintain` fills sensor_data_windowed (1 min, 5 min, 1 h) and sensor_features
// (rms, peak, peak_to_peak, crest_factor per 5 min and 1 h) from the raw rows: whole windows
// only, never before the raw data's retention horizon, a rerun changing nothing.
TEST(mantis, maintain_fills_windows_and_features_from_the_raw_rows) {
  const std::string db = shared_server().create_database("mantiswin");
  init(db, {"--profile", "enms,mantis"});
  const std::string sensor =
      "mantis.sensor_uuid('c0000000-0000-0000-0000-000000000001', 'vibration_mm_s')";
  // Two whole hours ending at the last whole hour, value g at H - g minutes (g = 1..120), and
  // one reading in the hour in progress, which no window may hold yet.
  exec_sql(db, "INSERT INTO mantis.sensor_data_raw (time, sensor_id, value) SELECT"
               " date_trunc('hour', now()) - g * interval '1 minute', " +
                   sensor +
                   ", g FROM generate_series(1, 120) g;"
                   " INSERT INTO mantis.sensor_data_raw (time, sensor_id, value) VALUES"
                   " (date_trunc('hour', now()) + interval '1 second', " +
                   sensor +
                   ", 1000);"
                   // A window whose raw rows retention already dropped: a refresh reaching
                   // back that far must keep it.
                   " INSERT INTO mantis.sensor_data_windowed (time, sensor_id, window_size,"
                   " sample_count, mean) VALUES (date_trunc('hour', now()) - interval '100 days', " +
                   sensor + ", '1 hour', 60, 42)");
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "maintain", "--db", db, "--refresh-hours",
                         "2500"},
                        out),
            0)
      << out;
  EXPECT_EQ(query_value(db, "SELECT string_agg(window_size || ' ' || n, ', ' ORDER BY window_size)"
                            " FROM (SELECT window_size, count(*) AS n FROM mantis.sensor_data_windowed"
                            " WHERE time > now() - interval '1 day' AND time < date_trunc('hour', now())"
                            " GROUP BY 1) x"),
            "1 hour 2, 1 minute 120, 5 minutes 24");
  EXPECT_NE(out.find(" sensor windows written (EnMS and MANTIS layers)"), std::string::npos) << out;
  // The hour in progress has no window yet (its 1-minute and 5-minute windows may be whole).
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensor_data_windowed WHERE window_size ="
                      " '1 hour' AND time >= date_trunc('hour', now())"),
            0);
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensor_data_windowed WHERE mean = 42"
                      " AND time < now() - interval '50 days'"),
            1);
  // The older whole hour holds g = 61..120, in time order 120 first.
  const double n = 60, lo = 61, hi = 120;
  double sum = 0, squares = 0;
  for (double g = lo; g <= hi; ++g) {
    sum += g;
    squares += g * g;
  }
  const double mean = sum / n;
  const double stddev = std::sqrt((squares - n * mean * mean) / (n - 1));
  const double rms = std::sqrt(squares / n);
  const auto row = query_rows(
      db, "SELECT sample_count, mean, min, max, stddev, first, last FROM mantis.sensor_data_windowed"
          " WHERE window_size = '1 hour' AND time = date_trunc('hour', now()) - interval '2 hours'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].value_or(""), "60");
  EXPECT_NEAR(std::stod(row[0][1].value_or("nan")), mean, 1e-9);
  EXPECT_EQ(std::stod(row[0][2].value_or("nan")), lo);
  EXPECT_EQ(std::stod(row[0][3].value_or("nan")), hi);
  EXPECT_NEAR(std::stod(row[0][4].value_or("nan")), stddev, 1e-9);
  EXPECT_EQ(std::stod(row[0][5].value_or("nan")), hi);  // first in time
  EXPECT_EQ(std::stod(row[0][6].value_or("nan")), lo);
  const auto feature = [&](const std::string& name) {
    return query_double(db, "SELECT value FROM mantis.sensor_features WHERE window_size = '1 hour'"
                            " AND feature_name = '" +
                                name +
                                "' AND time = date_trunc('hour', now()) - interval '2 hours'"
                                " AND asset_id = 'c0000000-0000-0000-0000-000000000001'");
  };
  EXPECT_NEAR(feature("rms"), rms, 1e-9);
  EXPECT_EQ(feature("peak"), hi);
  EXPECT_EQ(feature("peak_to_peak"), hi - lo);
  EXPECT_NEAR(feature("crest_factor"), hi / rms, 1e-12);
  // Features per 5-minute and 1-hour window, none for 1-minute ones: 4 x (24 + 2).
  const std::string features =
      "SELECT count(*) FROM mantis.sensor_features WHERE time < date_trunc('hour', now())";
  EXPECT_EQ(count(db, features), 4 * (24 + 2));
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.sensor_features WHERE window_size = '1 minute'"),
            0);
  // A rerun writes the same rows again.
  const std::string state =
      "SELECT count(*) || ' ' || sum(mean) || ' ' || sum(sample_count) FROM "
      "mantis.sensor_data_windowed";
  const auto before = query_value(db, state + " WHERE time < date_trunc('hour', now())");
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "maintain", "--db", db, "--refresh-hours", "4"},
                        out),
            0)
      << out;
  EXPECT_EQ(query_value(db, state + " WHERE time < date_trunc('hour', now())"), before);
  EXPECT_EQ(count(db, features), 4 * (24 + 2));
}

// Issue 11: docs/examples/mantis_zscore_baseline.sql, as documented: a baseline model
// registered in ml_models writes anomaly_scores over the 5-minute windows; the spike is the
// one anomaly, with the z-score computed here from the same series; a rerun adds nothing.
TEST(mantis, the_documented_zscore_baseline_scores_the_windows_and_flags_the_spike) {
  const std::string db = shared_server().create_database("mantiszscore");
  init(db, {"--profile", "enms,mantis"});
  // Three hours of one reading a minute: a small saw-tooth, and minute 150..154 at 10.
  const auto value_at = [](int minute) {
    return minute >= 150 && minute < 155 ? 10.0 : 2.0 + 0.01 * (minute % 7);
  };
  std::string values;
  for (int k = 0; k < 180; ++k)
    values += (k ? "," : "") + std::string("(") + std::to_string(k) + "," +
              std::to_string(value_at(k)) + ")";
  exec_sql(db, "INSERT INTO mantis.sensor_data_raw (time, sensor_id, value) SELECT"
               " date_trunc('hour', now()) - interval '3 hours' + k * interval '1 minute',"
               " mantis.sensor_uuid('c0000000-0000-0000-0000-000000000001', 'vibration_mm_s'), v"
               " FROM (VALUES " +
                   values + ") AS x (k, v)");
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "maintain", "--db", db, "--refresh-hours", "4"},
                        out),
            0)
      << out;
  const std::string file =
      std::string(FACTORYSIM_SOURCE_DIR) + "/docs/examples/mantis_zscore_baseline.sql";
  run_psql(db, {"-c", "SET search_path = mantis, public", "-f", file});
  EXPECT_EQ(query_value(db, "SELECT model_type || ' ' || is_active FROM mantis.ml_models"
                            " WHERE name = 'baseline_rolling_zscore'"),
            "anomaly_detection true");
  // 36 windows, the first 12 without a full history.
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.anomaly_scores"), 36 - 12);
  // The spike's window (minutes 150..154 = window 30) against windows 18..29.
  std::vector<double> means;
  for (int w = 0; w < 36; ++w) {
    double s = 0;
    for (int k = 5 * w; k < 5 * w + 5; ++k) s += value_at(k);
    means.push_back(s / 5);
  }
  double mu = 0;
  for (int w = 18; w < 30; ++w) mu += means[static_cast<std::size_t>(w)] / 12;
  double var = 0;
  for (int w = 18; w < 30; ++w)
    var += std::pow(means[static_cast<std::size_t>(w)] - mu, 2) / 11;
  const double z = (means[30] - mu) / std::sqrt(var);
  EXPECT_EQ(query_value(db, "SELECT count(*) || ' ' || min(time - date_trunc('hour', now()) +"
                            " interval '3 hours') FROM mantis.anomaly_scores WHERE is_anomaly"),
            "1 02:30:00");
  EXPECT_NEAR(query_double(db, "SELECT score FROM mantis.anomaly_scores WHERE is_anomaly"), z,
              1e-6 * std::fabs(z));
  run_psql(db, {"-c", "SET search_path = mantis, public", "-f", file});
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.anomaly_scores"), 36 - 12);
  EXPECT_EQ(count(db, "SELECT count(*) FROM mantis.ml_models"), 1);
}
