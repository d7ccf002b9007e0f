#pragma once
/// A libpq connection for the binary COPY path (libpqxx 6.4 has neither binary COPY nor a
/// way to reach its PGconn). Errors are classified by what the caller can do about them.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;

namespace factorysim::ingest {

/// What a failed statement means for the batch that ran it.
enum class pg_failure : std::uint8_t {
  connection,  ///< the connection is gone or the server is shutting down: reconnect, retry
  data,        ///< the rows are bad (SQLSTATE class 22 or 23): split the batch
  other,       ///< schema or server trouble (e.g. 42P01): keep the batch, retry later
};

/// A failed libpq call, with SQLSTATE and the server's message.
class pg_error : public std::runtime_error {
 public:
  pg_error(pg_failure kind, std::string sqlstate, const std::string& message)
      : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  /// How to react.
  pg_failure kind() const noexcept { return kind_; }
  /// Five-character SQLSTATE, empty when the connection broke before one arrived.
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  pg_failure kind_;
  std::string sqlstate_;
};

/// Session settings applied to every connection of the write path, so that no statement and
/// no connect can hang the writer forever. The user's conninfo wins where it sets the same
/// libpq keyword (connect_timeout, keepalives...).
struct pg_session_settings {
  int connect_timeout_s = 10;       ///< libpq connect_timeout; 0 = libpq's default (none)
  int statement_timeout_ms = 60000;  ///< SET statement_timeout; 0 = the server's setting
  int tcp_keepalive_idle_s = 30;    ///< a dead server is noticed within ~idle + 3 x 10 s
  /// PostgreSQL schema holding the tables (search_path); empty = the server's search_path.
  std::string schema;
};

/// Owns one PGconn. Not thread-safe: one per writer thread.
class pg_connection {
 public:
  /// Connects and applies `settings`; throws pg_error(connection) on failure (pg_error(other)
  /// when the schema does not exist).
  explicit pg_connection(const std::string& conninfo, const pg_session_settings& settings = {});
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// Runs statements without parameters; throws pg_error. Returns the rows affected by the
  /// last one (PQcmdTuples; 0 when it reports none).
  std::int64_t exec(const std::string& sql);
  /// Runs a query and returns its rows as text (NULL becomes "").
  std::vector<std::vector<std::string>> query(const std::string& sql);
  /// COPY ... FROM STDIN (FORMAT binary): sends `data` (header + tuples + trailer) in pieces
  /// and returns the rows copied; throws pg_error.
  std::int64_t copy_in(const std::string& copy_sql, std::string_view data);
  /// True while libpq thinks the connection is usable.
  bool ok() const noexcept;
  /// "host:port" (or the socket folder) the connection went to.
  std::string address() const;

 private:
  [[noreturn]] void fail(const char* what, const void* result);
  void apply_session_settings(const pg_session_settings& settings);

  pg_conn* conn_ = nullptr;
};

/// Classifies a SQLSTATE (and whether the connection is still up).
pg_failure classify_sqlstate(std::string_view sqlstate, bool connection_ok) noexcept;

/// SQL text of an identifier: "name" with quotes doubled.
std::string quote_identifier(std::string_view name);

}  // namespace factorysim::ingest
