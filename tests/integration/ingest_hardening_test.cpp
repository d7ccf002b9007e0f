// Issues 12 and 13: `factorysim ingest` on bad days, as the real binary against a real
// mosquitto and a real PostgreSQL 15. Each case was reproduced before its fix: a typo'd
// database at start, a spool replayed into another database, two ingestors on one spool
// folder, dead letters stored once per redelivery, a database that hangs or fails every
// statement, --schema, and --exit-when-idle-s counting time spent disconnected.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <regex>
#include <thread>

#include "tests/integration/ingest_harness.hpp"
#include "tests/support/free_port.hpp"

namespace factorysim::test {
namespace {

using namespace std::chrono_literals;

const std::string m1 = "c0000000-0000-0000-0000-000000000001";

/// An energy message `seconds_ahead` of now (or at 2024-06-01 + i s when nullopt).
std::string energy_at(const std::string& time, int seq) {
  return R"({"time":")" + time + R"(","machine_id":")" + m1 + R"(","seq":)" +
         std::to_string(seq) + R"(,"power_kw":12.5,"energy_kwh":0.0035,"energy_total_kwh":)" +
         std::to_string(seq) + R"(,"voltage_v":480.1,"current_a":17.3,"power_factor":0.87,)"
         R"("frequency_hz":60.0})";
}

std::string iso(int second) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2024-06-01T%02d:%02d:%02d.000Z", second / 3600 % 24,
                second / 60 % 60, second % 60);
  return buf;
}

std::string iso_days_from_now(int days) {
  const auto t = std::chrono::system_clock::now() + std::chrono::hours(24 * days);
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::size_t occurrences(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

class ingest_hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = std::make_unique<postgres_server>();
    db_ = pg_->conninfo();
    init_schema(db_);
    broker_ = std::make_unique<mosquitto_server>();
    dir_ = std::filesystem::temp_directory_path() /
           ("fs-ingest-hard-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ingest_.reset();
    second_.reset();
    std::filesystem::remove_all(dir_);
  }

  void init_schema(const std::string& conninfo) {
    std::string out;
    const int rc = run_command({FACTORYSIM_BINARY, "db", "init", "--db", conninfo, "--scenario",
                                std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml"},
                               out);
    ASSERT_EQ(rc, 0) << out;
  }

  std::vector<std::string> ingest_argv(const std::string& db, const std::string& client_id,
                                       const std::filesystem::path& spool,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {FACTORYSIM_BINARY, "ingest", "--db", db, "--mqtt-host",
                                     "127.0.0.1", "--mqtt-port", std::to_string(broker_->port()),
                                     "--topic", "t/#", "--client-id", client_id, "--spool-dir",
                                     spool.string(), "--status-interval-s", "0.5",
                                     "--flush-ms", "50"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::unique_ptr<child_process> start(const std::vector<std::string>& argv) {
    return std::make_unique<child_process>(argv, dir_ / ("ingest-" + std::to_string(++runs_) + ".log"));
  }

  /// Waits for the ingestor's subscription.
  void wait_subscribed(child_process& p) {
    ASSERT_TRUE(p.wait_for_log("subscribed", 20s) || p.wait_for_log("session resumed", 1s))
        << p.log();
  }

  long count(const std::string& sql) { return static_cast<long>(query_int(db_, sql)); }

  bool wait_rows(const std::string& sql, long n, std::chrono::milliseconds timeout = 30s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (count(sql) >= n) return true;
      std::this_thread::sleep_for(100ms);
    }
    return count(sql) >= n;
  }

  void publish_energy(int from, int to) {
    qos1_publisher p(broker_->host(), broker_->port());
    for (int i = from; i <= to; ++i) p.publish("t/c1/energy", energy_at(iso(i), i));
    ASSERT_TRUE(p.wait_acked(30s));
  }

  std::unique_ptr<postgres_server> pg_;
  std::string db_;
  std::unique_ptr<mosquitto_server> broker_;
  std::filesystem::path dir_;
  std::unique_ptr<child_process> ingest_;
  std::unique_ptr<child_process> second_;
  int runs_ = 0;
};

// Issue 13: `ingest --db` with a wrong port connected to MQTT, acknowledged, spooled and
// exited 0. Now it stops at once naming the database, and acknowledges nothing: the broker
// keeps every message for the run with the right database.
TEST_F(ingest_hardening, an_unreachable_database_at_start_is_an_error_and_loses_nothing) {
  const std::string typo = "host=127.0.0.1 port=" + std::to_string(pick_free_port()) +
                           " user=postgres dbname=factorysim";
  // The session exists at the broker first, so that what is published meanwhile waits for it.
  ingest_ = start(ingest_argv(db_, "typo", dir_ / "spool"));
  wait_subscribed(*ingest_);
  ingest_->signal(SIGTERM);
  ASSERT_EQ(ingest_->wait(30s), 0) << ingest_->log();
  publish_energy(1, 20);

  ingest_ = start(ingest_argv(typo, "typo", dir_ / "spool"));
  EXPECT_EQ(ingest_->wait(30s), 1) << ingest_->log();
  const auto log = ingest_->log();
  EXPECT_NE(log.find("cannot use the database"), std::string::npos) << log;
  EXPECT_NE(log.find("--start-without-db"), std::string::npos) << log;
  EXPECT_EQ(log.find("subscribed"), std::string::npos) << "it must not consume: " << log;

  ingest_ = start(ingest_argv(db_, "typo", dir_ / "spool", {"--exit-when-idle-s", "1"}));
  EXPECT_EQ(ingest_->wait(60s), 0) << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 20) << ingest_->log();
}

// Issue 13: a spool filled for one database was replayed into whichever the next run named.
TEST_F(ingest_hardening, a_spool_is_never_replayed_into_another_database) {
  const std::string typo = "host=127.0.0.1 port=" + std::to_string(pick_free_port()) +
                           " user=postgres dbname=factorysim";
  ingest_ = start(ingest_argv(typo, "bound", dir_ / "spool", {"--start-without-db"}));
  wait_subscribed(*ingest_);
  publish_energy(1, 10);
  ASSERT_TRUE(ingest_->wait_for_log("batches/", 20s));
  const auto until = std::chrono::steady_clock::now() + 20s;
  bool spooled = false;
  while (!spooled && std::chrono::steady_clock::now() < until) {
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "spool"))
      spooled = spooled || e.path().extension() == ".batch";
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(spooled) << ingest_->log();
  ingest_->signal(SIGTERM);
  ASSERT_EQ(ingest_->wait(30s), 0) << ingest_->log();

  ingest_ = start(ingest_argv(db_, "bound", dir_ / "spool"));
  EXPECT_EQ(ingest_->wait(30s), 1) << ingest_->log();
  const auto log = ingest_->log();
  EXPECT_NE(log.find("holds"), std::string::npos) << log;
  EXPECT_NE(log.find("move the folder away"), std::string::npos) << log;
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 0) << "nothing replayed into it";
}

// Issue 12: two ingestors given one spool folder overwrote each other's files.
TEST_F(ingest_hardening, a_second_ingestor_on_the_same_spool_folder_is_refused) {
  ingest_ = start(ingest_argv(db_, "first", dir_ / "spool"));
  wait_subscribed(*ingest_);
  second_ = start(ingest_argv(db_, "second", dir_ / "spool"));
  EXPECT_EQ(second_->wait(30s), 1) << second_->log();
  EXPECT_NE(second_->log().find("in use by another ingestor"), std::string::npos) << second_->log();
  publish_energy(1, 5);
  EXPECT_TRUE(wait_rows("SELECT count(*) FROM energy_readings", 5)) << ingest_->log();
}

// Issue 12: every redelivery or replay of a bad message added a dead letter.
TEST_F(ingest_hardening, a_dead_letter_is_stored_once_however_often_it_comes) {
  ingest_ = start(ingest_argv(db_, "dead", dir_ / "spool"));
  wait_subscribed(*ingest_);
  {
    qos1_publisher p(broker_->host(), broker_->port());
    for (int k = 0; k < 3; ++k) {
      p.publish("t/c1/energy", "not json");
      p.publish("t/c1/energy", std::string(100 * 1024, 'z'));  // oversized: prefix + digest
    }
    p.publish("t/c1/energy", energy_at(iso(1), 1));
    ASSERT_TRUE(p.wait_acked(30s));
  }
  ASSERT_TRUE(wait_rows("SELECT count(*) FROM energy_readings", 1)) << ingest_->log();
  EXPECT_TRUE(ingest_->wait_for_log("rejects 6", 20s)) << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects"), 2) << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM ingest_rejects WHERE payload_truncated AND "
                  "payload_bytes = 102400 AND length(payload) = 4096"),
            1);
}

// Issue 12: nothing bounded a connect: a database that accepts TCP and never answers hung
// the writer (and the start) for good.
TEST_F(ingest_hardening, a_database_that_never_answers_times_out) {
  int port = 0;
  const int fd = listen_on_loopback(port);
  const std::string silent = "host=127.0.0.1 port=" + std::to_string(port) +
                             " user=postgres dbname=factorysim";
  ingest_ = start(ingest_argv(silent, "silent", dir_ / "spool", {"--db-connect-timeout-s", "2"}));
  EXPECT_EQ(ingest_->wait(60s), 1) << ingest_->log();
  EXPECT_NE(ingest_->log().find("timeout"), std::string::npos) << ingest_->log();
  ::close(fd);
}

// Issue 12: a persistent non-data error (here a trigger that refuses every row) turned into
// a reconnect-and-replay loop about ten times a second, because every reconnect reset the
// backoff. Only a committed write resets it now.
TEST_F(ingest_hardening, a_database_that_fails_every_write_is_retried_with_backoff) {
  exec_sql(db_,
           "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
           "EXCEPTION 'refused for the test'; END $$;"
           "CREATE TRIGGER refuse BEFORE INSERT ON energy_readings FOR EACH ROW EXECUTE "
           "FUNCTION refuse();");
  ingest_ = start(ingest_argv(db_, "failing", dir_ / "spool"));
  wait_subscribed(*ingest_);
  publish_energy(1, 5);
  ASSERT_TRUE(ingest_->wait_for_log("spooling", 20s)) << ingest_->log();
  std::this_thread::sleep_for(6s);
  const auto log = ingest_->log();
  // With a backoff from 100 ms doubling to 10 s, 6 s allow about 6 attempts; the old loop
  // made about 60.
  const auto attempts = occurrences(log, "connected to PostgreSQL");
  EXPECT_LE(attempts, 10u) << log;
  EXPECT_GE(attempts, 2u) << "it does retry: " << log;
  exec_sql(db_, "DROP TRIGGER refuse ON energy_readings");
  EXPECT_TRUE(wait_rows("SELECT count(*) FROM energy_readings", 5, 30s)) << ingest_->log();
}

// Issue 13: ingest could not target a schema other than the first on the search path.
TEST_F(ingest_hardening, schema_selects_where_the_rows_go) {
  const std::string other = pg_->create_database("schemas");
  exec_sql(other, "CREATE SCHEMA plant_b");
  // The migrations create their objects in the first schema of the search path.
  init_schema(other + " options='-csearch_path=plant_b'");
  ingest_ = start(ingest_argv(other, "schema", dir_ / "spool", {"--schema", "plant_b"}));
  wait_subscribed(*ingest_);
  publish_energy(1, 7);
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until &&
         query_int(other, "SELECT count(*) FROM plant_b.energy_readings") < 7)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(query_int(other, "SELECT count(*) FROM plant_b.energy_readings"), 7) << ingest_->log();
  EXPECT_EQ(query_int(other, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                             "tablename = 'energy_readings'"),
            0);

  second_ = start(ingest_argv(other, "schema2", dir_ / "spool2", {"--schema", "nowhere"}));
  EXPECT_EQ(second_->wait(30s), 1) << second_->log();
  EXPECT_NE(second_->log().find("schema \"nowhere\" does not exist"), std::string::npos)
      << second_->log();
}

// Issue 12: --exit-when-idle-s counted time spent disconnected from the broker.
TEST_F(ingest_hardening, idle_time_counts_only_while_connected_to_the_broker) {
  ingest_ = start(ingest_argv(db_, "idle", dir_ / "spool", {"--exit-when-idle-s", "2"}));
  wait_subscribed(*ingest_);
  broker_->stop();
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(ingest_->wait(10ms), -1) << "exited while the broker was away: " << ingest_->log();
  broker_->start();
  publish_energy(1, 3);
  EXPECT_EQ(ingest_->wait(30s), 0) << ingest_->log();
  EXPECT_EQ(count("SELECT count(*) FROM energy_readings"), 3) << ingest_->log();
}

// Issue 12: accelerated runs from now at speed 3600 reach days ahead of the wall clock and
// had 60 % of their readings dead-lettered as time_out_of_range (the window was one day).
TEST_F(ingest_hardening, readings_days_ahead_are_stored_unless_the_window_says_otherwise) {
  ingest_ = start(ingest_argv(db_, "future", dir_ / "spool"));
  wait_subscribed(*ingest_);
  {
    qos1_publisher p(broker_->host(), broker_->port());
    p.publish("t/c1/energy", energy_at(iso_days_from_now(30), 1));
    ASSERT_TRUE(p.wait_acked(30s));
  }
  EXPECT_TRUE(wait_rows("SELECT count(*) FROM energy_readings", 1)) << ingest_->log();
  ingest_->signal(SIGTERM);
  ASSERT_EQ(ingest_->wait(30s), 0);

  ingest_ = start(ingest_argv(db_, "future", dir_ / "spool", {"--max-future-days", "1"}));
  wait_subscribed(*ingest_);
  {
    qos1_publisher p(broker_->host(), broker_->port());
    p.publish("t/c1/energy", energy_at(iso_days_from_now(30), 2));
    ASSERT_TRUE(p.wait_acked(30s));
  }
  EXPECT_TRUE(wait_rows("SELECT count(*) FROM ingest_rejects WHERE reason = 'time_out_of_range'", 1))
      << ingest_->log();
}

}  // namespace
}  // namespace factorysim::test
