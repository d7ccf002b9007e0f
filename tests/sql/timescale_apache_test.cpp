// Issue 11: an Apache-2-only TimescaleDB (no continuous aggregates, no compression) made
// `db init` choose TimescaleDB for good and then fail in 060. Here ../shared/tsdb is started
// with timescaledb.license = 'apache' (ALTER SYSTEM, then a restart on the same data folder);
// that build does not even know the license setting afterwards, so db init must find out by
// trying: it falls back to plain PostgreSQL and says why, and `--backend timescaledb` is
// refused with that reason. Label timescale (runs where .ci/run finds ../shared/tsdb).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/integration/ingest_harness.hpp"
#include "tests/support/free_port.hpp"

using namespace factorysim::test;
using namespace std::chrono_literals;

namespace {

/// ../shared/tsdb/start-tsdb.sh on `port` with its data in `data_dir`; returns the server's pid.
pid_t start_tsdb(int port, const std::filesystem::path& data_dir) {
  const std::string script = std::string(FACTORYSIM_SOURCE_DIR) + "/../shared/tsdb/start-tsdb.sh";
  const std::string cmd = "PGPORT=" + std::to_string(port) + " PGLITE_DATA='" + data_dir.string() +
                          "' TSDB_LOG='" + data_dir.string() + ".log' '" + script + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + script);
  char buf[64] = {};
  const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
  const int rc = ::pclose(p);
  if (!got || rc != 0) throw std::runtime_error(script + " failed (exit " + std::to_string(rc) + ")");
  return static_cast<pid_t>(std::stol(buf));
}

/// Stops a server started by start_tsdb (not our child: poll until it is gone).
void stop_tsdb(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (const auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until;) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return;
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
}

}  // namespace

TEST(timescale_apache, db_init_falls_back_to_plain_postgresql_and_says_why) {
  const char* shared = std::getenv("FACTORYSIM_TEST_TIMESCALE");
  if (shared == nullptr || *shared == '\0')
    GTEST_SKIP() << "FACTORYSIM_TEST_TIMESCALE is not set (.ci/run sets it when ../shared/tsdb "
                    "exists)";
  const auto dir = std::filesystem::temp_directory_path() /
                   ("fs-tsdb-apache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int port = pick_free_port();
  const std::string db = "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres";
  pid_t pid = start_tsdb(port, dir / "data");
  exec_sql_autocommit(db, "ALTER SYSTEM SET timescaledb.license = 'apache'");
  stop_tsdb(pid);
  pid = start_tsdb(port, dir / "data");
  struct stopper {
    pid_t pid;
    ~stopper() { stop_tsdb(pid); }
  } stop{pid};
  ASSERT_EQ(query_value(db, "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"), "1");

  const std::string scenario = std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/quick-test.yaml";
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--schema", "fs_apache",
                         "--scenario", scenario, "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  EXPECT_NE(out.find("db: backend postgresql;"), std::string::npos) << out;
  EXPECT_NE(out.find("db: TimescaleDB is installed but not used: version "), std::string::npos)
      << out;
  EXPECT_NE(out.find("cannot make continuous aggregates and compression"), std::string::npos)
      << out;
  EXPECT_EQ(query_value(db, "SELECT value FROM fs_apache.factorysim_settings WHERE key = 'backend'"),
            "postgresql");
  // The plain-PostgreSQL layout: partitions, no hypertables, the probe left nothing behind.
  EXPECT_EQ(query_value(db, "SELECT count(*) FROM timescaledb_information.hypertables"), "0");
  EXPECT_EQ(query_value(db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid ="
                            " c.relnamespace WHERE n.nspname = 'fs_apache' AND c.relname LIKE"
                            " 'factorysim_probe%'"),
            "0");
  EXPECT_EQ(query_value(db, "SELECT relkind::text FROM pg_class WHERE oid ="
                            " 'fs_apache.energy_readings'::regclass"),
            "p");
  // A rerun keeps the choice and still says why.
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--schema", "fs_apache",
                         "--scenario", scenario},
                        out),
            0)
      << out;
  EXPECT_NE(out.find("db: backend postgresql;"), std::string::npos) << out;
  // Asked for by name, it is refused with the reason.
  EXPECT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--schema", "fs_apache_ts",
                         "--scenario", scenario, "--backend", "timescaledb"},
                        out),
            1)
      << out;
  EXPECT_NE(out.find("TimescaleDB cannot be used: version "), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}
