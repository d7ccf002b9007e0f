// `factorysim db init` end to end (the real binary against a real PostgreSQL 15): upserts the
// demo plant, re-running changes nothing, edits are applied and audited, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "tests/sql/sql_fixture.hpp"

using namespace factorysim;
using namespace factorysim::test;

namespace {

const std::string demo_scenario = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml";

struct run_result {
  int exit_code = -1;
  std::string output;
};

/// Runs the factorysim binary with `args` (shell-quoted here), stdout+stderr captured.
run_result run_factorysim(const std::vector<std::string>& args) {
  std::string cmd = std::string("'") + FACTORYSIM_BINARY + "'";
  for (const auto& a : args) {
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    cmd += " " + q + "'";
  }
  cmd += " 2>&1";
  run_result r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// Every row of the plant tables (updated_at included) plus the audit log size.
std::string plant_fingerprint(const std::string& db) {
  std::string all;
  for (const char* t :
       {"factories", "machines", "energy_tariffs", "carbon_factors", "schema_migrations"}) {
    all += query_value(
        db,
        std::string("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ") +
            t + " t");
  }
  return all + "/" + query_value(db, "SELECT count(*) FROM audit_log");
}

}  // namespace

TEST(db_init, upserts_the_demo_plant_and_rerunning_changes_nothing) {
  const std::string db = shared_server().create_database("init");
  const auto first = run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM factories"), 2);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM machines"), 7);
  EXPECT_EQ(
      query_value(
          db, "SELECT timezone FROM factories WHERE id = '11111111-1111-1111-1111-111111111111'"),
      "America/Los_Angeles");
  EXPECT_EQ(
      query_value(
          db,
          "SELECT carbon_region FROM factories WHERE id = '22222222-2222-2222-2222-222222222222'"),
      "Germany");
  EXPECT_EQ(
      query_value(db,
                  "SELECT name || ' ' || type || ' ' || rated_power_kw || ' ' || "
                  "data_interval_seconds || ' ' || "
                  "mqtt_topic FROM machines WHERE id = 'c0000000-0000-0000-0000-000000000004'"),
      "Hydraulic-Pump-1 pump 45 30 factory/demo/hydraulic-pump-1");
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM machines WHERE factory_id = "
                      "'22222222-2222-2222-2222-222222222222'"),
            2);
  EXPECT_EQ(
      query_value(
          db,
          "SELECT string_agg(name || '=' || rate_per_kwh || currency || CASE WHEN is_time_of_use "
          "THEN "
          "' ' || start_hour || '-' || end_hour || ' ' || applicable_days::text ELSE '' END, '; ' "
          "ORDER BY name) FROM energy_tariffs"),
      "flat=0.18EUR; off-peak=0.1USD; peak=0.25USD 9-21 {1,2,3,4,5}");
  EXPECT_EQ(query_value(db,
                        "SELECT string_agg(region || '=' || emission_factor_kg_co2_per_kwh, '; ' "
                        "ORDER BY region) "
                        "FROM carbon_factors"),
            "Germany=0.35; US-California=0.22; default=0.45");
  // Partitions exist for today (real time scenario) on plain PostgreSQL.
  EXPECT_GT(query_int(db,
                      "SELECT count(*) FROM pg_class WHERE relname = 'energy_readings_p' || "
                      "to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')"),
            0);
  // Every insert was audited.
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM audit_log WHERE action = 'INSERT'"), 2 + 7 + 3 + 3);

  const std::string before = plant_fingerprint(db);
  const auto second = run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(plant_fingerprint(db), before) << second.output;
  // The molding machine's part mass goes into its metadata, for calculate_specific_energy; a
  // user's own metadata keys survive the next init, which changes nothing.
  EXPECT_EQ(query_value(db,
                        "SELECT count(*) || ' ' || min(metadata ->> 'part_mass_kg') FROM machines "
                        "WHERE metadata ? 'part_mass_kg'"),
            "1 0.102");  // 0.85 g per rated kW x 120 kW
  exec_sql(db, "UPDATE machines SET metadata = metadata || '{\"asset_tag\": \"A-17\"}'");
  const std::string tagged = plant_fingerprint(db);
  const auto third = run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario});
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_NE(third.output.find("0 machines"), std::string::npos) << third.output;
  EXPECT_EQ(plant_fingerprint(db), tagged);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM machines WHERE metadata ->> 'asset_tag' = 'A-17'"),
            7);
  // Issue 13: counts with their plural, not "factory(ies)".
  EXPECT_NE(second.output.find("upserted 0 factories, 0 machines, 0 tariffs"), std::string::npos)
      << second.output;
  EXPECT_NE(first.output.find("upserted 2 factories, 7 machines, 3 tariffs"), std::string::npos)
      << first.output;
}

TEST(db_init, changed_scenario_is_applied_and_audited) {
  const std::string db = shared_server().create_database("edit");
  ASSERT_EQ(run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario}).exit_code, 0);
  // The same plant with Munich's flat tariff repriced and renamed.
  std::ifstream in(demo_scenario);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string old_tariff = "- { name: flat, rate_per_kwh: 0.18, currency: EUR }";
  const auto at = text.find(old_tariff);
  ASSERT_NE(at, std::string::npos) << "demo-plant.yaml changed: update this test";
  text.replace(at, old_tariff.size(), "- { name: flat-2025, rate_per_kwh: 0.21, currency: EUR }");
  const auto edited =
      std::filesystem::temp_directory_path() / ("fs-demo-" + std::to_string(::getpid()) + ".yaml");
  { std::ofstream(edited) << text; }
  const auto r = run_factorysim({"db", "init", "--db", db, "--scenario", edited.string()});
  std::filesystem::remove(edited);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(
      query_value(
          db,
          "SELECT string_agg(name || '=' || rate_per_kwh || ' ' || is_active, '; ' ORDER BY name) "
          "FROM energy_tariffs WHERE factory_id = '22222222-2222-2222-2222-222222222222'"),
      "flat=0.18 false; flat-2025=0.21 true");
  EXPECT_EQ(query_int(db,
                      "SELECT count(*) FROM audit_log WHERE table_name = 'energy_tariffs' AND "
                      "action = 'UPDATE'"),
            1);
}

// Regression (issue 3): a backfill years in the past made db init create every day between
// the scenario and today in one transaction, which ran out of lock slots ("out of shared
// memory") at PostgreSQL's default max_locks_per_transaction.
TEST(db_init, long_backfill_in_the_past_gets_its_own_partitions_in_slices) {
  const std::string db = shared_server().create_database("history");
  std::ifstream in(demo_scenario);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string old_time = "mode: realtime";
  const auto at = text.find(old_time);
  ASSERT_NE(at, std::string::npos) << "demo-plant.yaml changed: update this test";
  text.replace(at, old_time.size(),
               "mode: backfill\n  from: 2020-01-01T00:00:00Z\n  to: 2021-03-01T00:00:00Z");
  const auto edited = std::filesystem::temp_directory_path() /
                      ("fs-history-" + std::to_string(::getpid()) + ".yaml");
  { std::ofstream(edited) << text; }
  const auto r = run_factorysim({"db", "init", "--db", db, "--scenario", edited.string()});
  std::filesystem::remove(edited);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 2019-12-31 .. 2021-03-01 is 427 days, plus yesterday .. 7 days ahead and DEFAULT; not
  // the ~2,000 days up to today.
  const long long parts = query_int(
      db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'energy_readings'::regclass");
  EXPECT_GE(parts, 427 + 8);
  EXPECT_LE(parts, 427 + 11);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pg_class WHERE relname = 'energy_readings_p20200615'"),
            1)
      << "a day inside the backfill has its partition";
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pg_class WHERE relname = 'energy_readings_p20230615'"),
            0)
      << "a day between the backfill and today has none";
}

TEST(db_init, bad_input_exits_2_and_unreachable_database_exits_1) {
  const std::string db = shared_server().create_database("codes");
  EXPECT_EQ(run_factorysim({"db", "init", "--db", db, "--scenario", "/nonexistent.yaml"}).exit_code,
            2);
  EXPECT_EQ(run_factorysim({"db", "init", "--db", db}).exit_code, 2);  // --scenario missing
  EXPECT_EQ(run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario, "--sql-dir",
                            "/nonexistent"})
                .exit_code,
            2);
  // A port nobody listens on (the server's own port after a stop would race with others).
  postgres_server other;
  const std::string gone = other.conninfo();
  other.stop();
  const auto r = run_factorysim(
      {"db", "init", "--db", gone + " connect_timeout=3", "--scenario", demo_scenario});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pg_class WHERE relname = 'machines'"), 0);
}

TEST(db_init, library_upsert_counts_only_real_changes) {
  const std::string db = migrated_database();
  const auto s = scenarios::load_scenario(demo_scenario);
  pqxx::connection c{db};
  const auto first = schema::upsert_scenario(c, s);
  EXPECT_EQ(first.factories, 2);
  EXPECT_EQ(first.machines, 7);
  EXPECT_EQ(first.tariffs, 3);
  EXPECT_EQ(first.carbon_factors, 3);
  const auto second = schema::upsert_scenario(c, s);
  EXPECT_EQ(second.factories + second.machines + second.tariffs + second.carbon_factors +
                second.tariffs_deactivated,
            0);
}

TEST(db_init, maintain_creates_partitions_refreshes_rollups_and_applies_retention) {
  const std::string db = shared_server().create_database("maint");
  ASSERT_EQ(run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario}).exit_code, 0);
  exec_sql(db,
           "INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh) "
           "SELECT date_trunc('minute', now()) - g * interval '1 minute', "
           "'c0000000-0000-0000-0000-000000000001', 10, 0.1 "
           "FROM generate_series(1, 30) g");
  const auto r = run_factorysim({"db", "maintain", "--db", db, "--refresh-hours", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_int(db, "SELECT sum(sample_count) FROM energy_readings_1min"), 30);
  EXPECT_NEAR(query_double(db, "SELECT sum(total_energy_kwh) FROM energy_readings_1hour"), 3.0,
              1e-9);
  EXPECT_GE(query_int(db,
                      "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ "
                      "'^energy_readings_p[0-9]{8}$'"),
            8);
}

// Issue 13: `db init --replicas N` upserts the machines that `run --replicas N` publishes,
// and a bare scenario name is found among the shipped scenarios.
TEST(db_init, replicas_upsert_the_replicated_machines) {
  const std::string db = shared_server().create_database("replicas");
  const auto r = run_factorysim({"db", "init", "--db", db, "--scenario", "demo-plant",
                                 "--replicas", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM machines"), 14);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM machines WHERE mqtt_topic = "
                          "'factory/demo/compressor-1-00002'"),
            1);
  EXPECT_NE(r.output.find("upserted 2 factories, 14 machines"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("db: migrations from "), std::string::npos) << r.output;
}

// Issue 11: asking for TimescaleDB where it cannot be used fails with the reason, and the
// database is not half made; without the request the same server is plain PostgreSQL.
TEST(db_init, timescaledb_requested_but_unusable_is_refused_with_the_reason) {
  const std::string db = shared_server().create_database("forcets");
  const auto r = run_factorysim(
      {"db", "init", "--db", db, "--scenario", demo_scenario, "--backend", "timescaledb"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("TimescaleDB cannot be used: the extension is not available"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM pg_class WHERE relname = 'machines'"), 0);
  EXPECT_EQ(run_factorysim({"db", "init", "--db", db, "--scenario", demo_scenario}).exit_code, 0);
  EXPECT_EQ(query_value(db, "SELECT factorysim_backend()"), "postgresql");
}
