#pragma once
/// Test harness: a private PostgreSQL 15 (Debian's /usr/lib/postgresql/15/bin) on a free
/// loopback port, with its data folder and unix socket folder under a fresh /tmp folder owned
/// by the `postgres` user, plus small query helpers (libpqxx) and a psql runner.
///
/// PostgreSQL refuses to run as root: when the test runs as root, initdb and the server run
/// as `postgres` (fork + setuid in the child; the server stays our direct child). Nothing the
/// server needs lives under the repository, whose parent folders `postgres` may not enter.
///
/// For test speed the server runs with fsync=off and full_page_writes=off: a crash of the
/// *machine* could corrupt it, which a throw-away test cluster does not care about.
/// synchronous_commit stays on, so a server kill (kill()) loses no acknowledged commit (the
/// WAL reached the kernel; the next start replays it), which restart tests rely on.
///
/// Everything throws std::runtime_error with the server log when the server cannot start:
/// tests fail, they never skip.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factorysim::test {

/// A private PostgreSQL 15 cluster on 127.0.0.1:<free port>, trust authentication, user
/// `postgres`, server time zone UTC, one database created at start-up. stop() + start() is a
/// database restart on the same port and data folder. The destructor stops the server and
/// removes the whole folder (unless FACTORYSIM_KEEP_TMP is set).
class postgres_server {
 public:
  /// Runs initdb, starts the server, creates `dbname`. Extra lines go to postgresql.conf.
  explicit postgres_server(std::string dbname = "factorysim",
                           std::vector<std::string> extra_config = {});
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  /// Starts the server (same port, same data folder) and waits until it accepts queries;
  /// throws with the log on failure. No-op when already running.
  void start();
  /// Fast shutdown (SIGINT: sessions are disconnected, a checkpoint is written); waits.
  void stop();
  /// Crash (SIGKILL to the postmaster and, through the lost postmaster, its backends): the
  /// next start() replays the WAL.
  void kill();
  /// True while the postmaster process runs.
  bool running() const noexcept { return pid_ > 0; }

  /// Loopback port (fixed for the object's life).
  int port() const noexcept { return port_; }
  /// Always "127.0.0.1".
  std::string host() const { return "127.0.0.1"; }
  /// Name of the database created at start-up.
  const std::string& dbname() const noexcept { return dbname_; }
  /// "host=127.0.0.1 port=P user=postgres dbname=<dbname()>".
  std::string conninfo() const { return conninfo(dbname_); }
  /// Same for another database of this cluster.
  std::string conninfo(std::string_view database) const;
  /// "postgresql://postgres@127.0.0.1:P/<dbname()>" for tools that want a URI.
  std::string uri() const;
  /// The private folder: data/, sock/, server.log.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  /// Content of the server log so far (for failure messages).
  std::string log() const;

  /// Creates a fresh, uniquely named database (`<prefix>_<pid>_<n>`) and returns its
  /// conninfo, so that each test in a process works in isolation.
  std::string create_database(std::string_view prefix = "test");
  /// Drops a database (WITH (FORCE): open sessions are terminated).
  void drop_database(std::string_view database);

 private:
  void initdb();
  void write_config() const;
  void wait_until_ready(std::chrono::milliseconds timeout);
  void terminate(int signal_number, std::chrono::milliseconds timeout);

  std::filesystem::path dir_;
  std::string dbname_;
  std::vector<std::string> extra_config_;
  int port_ = 0;
  pid_t pid_ = -1;
  int databases_created_ = 0;
};

/// One result row: NULL is std::nullopt, everything else PostgreSQL's text form.
using sql_row = std::vector<std::optional<std::string>>;

/// Runs one or more SQL statements in one transaction (libpqxx); throws on any error.
void exec_sql(const std::string& conninfo, const std::string& sql);
/// Runs one statement outside a transaction block (CREATE DATABASE, VACUUM, CALL of
/// procedures that commit, e.g. refresh_continuous_aggregate). Several statements in one
/// string would form an implicit transaction again: call it once per statement.
void exec_sql_autocommit(const std::string& conninfo, const std::string& sql);
/// All rows of a query, as text.
std::vector<sql_row> query_rows(const std::string& conninfo, const std::string& sql);
/// The single value of a one-row, one-column query; throws if there is not exactly one row
/// or the value is NULL.
std::string query_value(const std::string& conninfo, const std::string& sql);
/// query_value converted with std::stod / std::stoll.
double query_double(const std::string& conninfo, const std::string& sql);
long long query_int(const std::string& conninfo, const std::string& sql);

/// Runs /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -d <conninfo> <args...>,
/// returns its stdout+stderr; throws with that output if psql exits non-zero.
std::string run_psql(const std::string& conninfo, const std::vector<std::string>& args);

}  // namespace factorysim::test
