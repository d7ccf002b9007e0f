// Issue 11: the EnMS document's own test commands (../shared/seeds/enms-session-2-schema.md,
// "Testing Commands", copied below verbatim) run through psql against a database made by
// `factorysim db init` with the demo plant and an hour of readings. The one that cannot run
// on plain PostgreSQL is the TimescaleDB catalog query; it runs in timescale_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/ingest_harness.hpp"
#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

// The psql part of the document's block; its first line (`docker-compose exec postgres psql
// -U enms_user -d enms`) is our run_psql connection.
const std::vector<std::string> document_commands = {
    R"(\dt)",
    R"(\dv)",
    R"(\df)",
    R"(SELECT * FROM timescaledb_information.hypertables;)",
    R"(SELECT * FROM v_machines_current_status;)",
    R"(SELECT * FROM calculate_all_kpis(
    'c0000000-0000-0000-0000-000000000001',
    NOW() - INTERVAL '1 hour',
    NOW()
);)",
};

std::string demo_database() {
  const std::string db = shared_server().create_database("enms");
  std::string out;
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario",
                         std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml"},
                        out),
            0)
      << out;
  // An hour of Compressor-1 at 50 kW, one reading a minute, ending now.
  exec_sql(db, R"(
    INSERT INTO energy_readings (time, machine_id, power_kw, energy_kwh)
    SELECT now() - g * interval '1 minute', 'c0000000-0000-0000-0000-000000000001', 50, 50.0 / 60
      FROM generate_series(1, 59) g;)");
  return db;
}

}  // namespace

TEST(enms_document, its_test_commands_run_verbatim_on_postgresql) {
  const std::string db = demo_database();
  const auto psql = [&](const std::string& command) {
    return run_psql(db, {"-P", "pager=off", "-c", command});
  };
  const std::string tables = psql(document_commands[0]);
  for (const char* t : {"energy_readings", "production_data", "environmental_data", "machines",
                        "factories", "machine_status", "anomalies", "energy_baselines",
                        "energy_tariffs", "carbon_factors", "audit_log", "health_truth"})
    EXPECT_NE(tables.find(std::string(" ") + t + " "), std::string::npos) << t << "\n" << tables;
  EXPECT_NE(psql(document_commands[1]).find("v_machines_current_status"), std::string::npos);
  const std::string functions = psql(document_commands[2]);
  for (const char* f :
       {"calculate_sec", "calculate_peak_demand", "calculate_load_factor", "calculate_energy_cost",
        "calculate_carbon_intensity", "calculate_all_kpis"})
    EXPECT_NE(functions.find(f), std::string::npos) << f;
  // Plain PostgreSQL has no TimescaleDB catalog: the one command that cannot run here.
  try {
    psql(document_commands[3]);
    ADD_FAILURE() << "timescaledb_information exists on plain PostgreSQL";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("timescaledb_information"), std::string::npos) << e.what();
  }
  const std::string status = psql(document_commands[4]);
  EXPECT_NE(status.find("(7 rows)"), std::string::npos) << status;
  EXPECT_NE(status.find("Compressor-1"), std::string::npos) << status;
  EXPECT_NE(status.find("HVAC-EU-North"), std::string::npos) << status;
  const std::string kpis = psql(document_commands[5]);
  EXPECT_NE(kpis.find("Compressor-1"), std::string::npos) << kpis;
  EXPECT_NE(kpis.find("(1 row)"), std::string::npos) << kpis;
  // 59 minutes at 50 kW.
  EXPECT_NEAR(std::stod(query_value(db,
                                    "SELECT total_energy_kwh FROM calculate_all_kpis("
                                    "'c0000000-0000-0000-0000-000000000001',"
                                    " NOW() - INTERVAL '1 hour', NOW())")),
              59 * 50.0 / 60, 1e-9);
}
