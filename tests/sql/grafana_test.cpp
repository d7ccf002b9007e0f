// Issue 11: every SQL of the provisioned Grafana dashboards (deploy/grafana/dashboards/*.json:
// panel targets, annotation queries, template variable queries) runs against the schema of
// `db init --profile enms,mantis`, with Grafana's macros filled in as its PostgreSQL data
// source fills them; time-series targets return a `time` column.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/integration/ingest_harness.hpp"
#include "tests/sql/grafana_queries.hpp"
#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

using namespace factorysim::test::grafana;

TEST(grafana, every_dashboard_query_runs_against_the_schema) {
  const std::string db = shared_server().create_database("grafana");
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario",
                         std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml",
                         "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  const auto queries = dashboard_queries();
  EXPECT_GE(queries.size(), 25u);  // six dashboards
  pqxx::connection c{db};
  const std::string factory =
      query_value(db, "SELECT id::text FROM factories ORDER BY name LIMIT 1");
  const std::string machine = "c0000000-0000-0000-0000-000000000001";
  for (const auto& q : queries) {
    const std::string sql = fill_macros(q.sql, factory, machine);
    try {
      pqxx::work w{c};
      const auto r = w.exec(sql);
      if (q.time_series) {
        bool has_time = false;
        for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
          has_time = has_time || std::string(r.column_name(i)) == "time";
        EXPECT_TRUE(has_time) << q.where << ": a time series needs a `time` column\n" << sql;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << q.where << ": " << e.what() << "\n" << sql;
    }
  }
}
