// The PostgreSQL harness itself: starts, answers, restarts on the same port, survives a
// crash with its data, isolates databases, reports failures loudly.
#include "tests/support/postgres_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace factorysim::test;

TEST(postgres_server, starts_and_answers_queries) {
  postgres_server pg;
  EXPECT_GT(pg.port(), 0);
  EXPECT_EQ(pg.conninfo(), "host=127.0.0.1 port=" + std::to_string(pg.port()) +
                               " user=postgres dbname=factorysim");
  EXPECT_EQ(query_value(pg.conninfo(), "select current_database()"), "factorysim");
  EXPECT_EQ(query_value(pg.conninfo(), "select current_setting('server_version_num')::int / 10000"),
            "15");
  EXPECT_EQ(query_value(pg.conninfo(), "show timezone"), "UTC");
  EXPECT_EQ(query_int(pg.conninfo(), "select 40 + 2"), 42);
  const auto rows = query_rows(pg.conninfo(), "select 1, null::text union all select 2, 'x'");
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_FALSE(rows[0][1].has_value());
  EXPECT_EQ(rows[1][1].value(), "x");
  EXPECT_THROW(query_value(pg.conninfo(), "select 1 where false"), std::runtime_error);
  EXPECT_NE(run_psql(pg.conninfo(), {"-At", "-c", "select 'psql-ok'"}).find("psql-ok"),
            std::string::npos);
  EXPECT_THROW(run_psql(pg.conninfo(), {"-c", "select * from no_such_table"}), std::runtime_error);
}

TEST(postgres_server, restart_keeps_port_and_data) {
  postgres_server pg;
  exec_sql(pg.conninfo(), "create table t (x int); insert into t values (1), (2)");
  const int port = pg.port();
  pg.stop();
  EXPECT_FALSE(pg.running());
  EXPECT_ANY_THROW(query_value(pg.conninfo(), "select 1"));
  pg.start();
  EXPECT_EQ(pg.port(), port);
  EXPECT_EQ(query_int(pg.conninfo(), "select sum(x) from t"), 3);
}

TEST(postgres_server, crash_then_start_replays_committed_rows) {
  postgres_server pg;
  exec_sql(pg.conninfo(), "create table t (x int); insert into t select generate_series(1, 1000)");
  pg.kill();
  EXPECT_FALSE(pg.running());
  pg.start();
  EXPECT_EQ(query_int(pg.conninfo(), "select count(*) from t"), 1000);
}

TEST(postgres_server, fresh_databases_are_isolated) {
  postgres_server pg;
  const std::string a = pg.create_database();
  const std::string b = pg.create_database();
  EXPECT_NE(a, b);
  exec_sql(a, "create table only_in_a (x int)");
  EXPECT_EQ(query_int(b, "select count(*) from pg_class where relname = 'only_in_a'"), 0);
  EXPECT_EQ(query_int(a, "select count(*) from pg_class where relname = 'only_in_a'"), 1);
}

TEST(postgres_server, destructor_removes_its_folder) {
  std::filesystem::path dir;
  {
    postgres_server pg;
    dir = pg.dir();
    EXPECT_TRUE(std::filesystem::exists(dir / "data" / "PG_VERSION"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(postgres_server, bad_config_fails_loudly_with_the_log) {
  try {
    postgres_server pg("factorysim", {"shared_buffers = 'not-a-size'"});
    FAIL() << "a server with a broken config must not start";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shared_buffers"), std::string::npos) << e.what();
  }
}
