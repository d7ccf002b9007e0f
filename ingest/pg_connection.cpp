#include "ingest/pg_connection.hpp"

#include <libpq-fe.h>

#include <cstdlib>

namespace factorysim::ingest {

pg_failure classify_sqlstate(std::string_view s, bool connection_ok) noexcept {
  if (!connection_ok || s.empty()) return pg_failure::connection;
  // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
  if (s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03")
    return pg_failure::connection;
  if (s.starts_with("22") || s.starts_with("23")) return pg_failure::data;
  return pg_failure::other;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

pg_connection::pg_connection(const std::string& conninfo, const pg_session_settings& settings) {
  // Our defaults come first: libpq takes the last value of a repeated keyword, and the
  // expanded conninfo (dbname, expand_dbname = 1) follows them, so the user's own settings
  // win.
  const std::string timeout = std::to_string(settings.connect_timeout_s);
  const std::string idle = std::to_string(settings.tcp_keepalive_idle_s);
  const char* keys[] = {"connect_timeout", "keepalives",  "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "dbname",     nullptr};
  const char* values[] = {settings.connect_timeout_s > 0 ? timeout.c_str() : nullptr,
                          "1",
                          settings.tcp_keepalive_idle_s > 0 ? idle.c_str() : nullptr,
                          "10",
                          "3",
                          conninfo.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = "cannot connect to PostgreSQL: ";
    msg += PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw pg_error(pg_failure::connection, "", msg);
  }
  // A constructor that throws runs no destructor: the session settings below close the
  // connection themselves when they fail (LeakSanitizer found each failed retry leaking one).
  try {
    apply_session_settings(settings);
  } catch (...) {
    PQfinish(conn_);
    conn_ = nullptr;
    throw;
  }
}

void pg_connection::apply_session_settings(const pg_session_settings& settings) {
  if (settings.statement_timeout_ms > 0)
    exec("SET statement_timeout = " + std::to_string(settings.statement_timeout_ms));
  if (!settings.schema.empty()) {
    const auto found = query("SELECT 1 FROM pg_namespace WHERE nspname = '" +
                             [&] {
                               std::string q;
                               for (const char c : settings.schema) {
                                 if (c == '\'') q += '\'';
                                 q += c;
                               }
                               return q;
                             }() +
                             "'");
    if (found.empty())
      throw pg_error(pg_failure::other, "3F000",
                     "schema " + quote_identifier(settings.schema) +
                         " does not exist (create it with `factorysim db init --schema " +
                         settings.schema + "`)");
    exec("SET search_path = " + quote_identifier(settings.schema));
  }
}

std::string pg_connection::address() const {
  if (!conn_) return {};
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  return std::string(host ? host : "") + ":" + (port ? port : "");
}

pg_connection::~pg_connection() {
  if (conn_) PQfinish(conn_);
}

bool pg_connection::ok() const noexcept { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void pg_connection::fail(const char* what, const void* result) {
  const auto* res = static_cast<const PGresult*>(result);
  std::string state;
  if (res) {
    if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) state = s;
  }
  std::string msg = what;
  msg += ": ";
  const char* detail = res ? PQresultErrorMessage(res) : nullptr;
  msg += (detail && *detail) ? detail : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const bool up = PQstatus(conn_) == CONNECTION_OK;
  PQclear(const_cast<PGresult*>(res));
  throw pg_error(classify_sqlstate(state, up), state, msg);
}

std::int64_t pg_connection::exec(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const auto st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail("statement failed", res);
  const char* n = PQcmdTuples(res);
  const std::int64_t rows = (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  PQclear(res);
  return rows;
}

std::vector<std::vector<std::string>> pg_connection::query(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  if (PQresultStatus(res) != PGRES_TUPLES_OK) fail("query failed", res);
  std::vector<std::vector<std::string>> rows(static_cast<std::size_t>(PQntuples(res)));
  const int cols = PQnfields(res);
  for (int r = 0; r < PQntuples(res); ++r) {
    auto& row = rows[static_cast<std::size_t>(r)];
    row.reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) row.emplace_back(PQgetvalue(res, r, c));
  }
  PQclear(res);
  return rows;
}

std::int64_t pg_connection::copy_in(const std::string& copy_sql, std::string_view data) {
  PGresult* res = PQexec(conn_, copy_sql.c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) fail("COPY failed to start", res);
  PQclear(res);
  // Pieces of 1 MiB keep libpq's own buffer small without many round trips.
  constexpr std::size_t piece = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += piece) {
    const std::size_t n = std::min(piece, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      fail("COPY data not sent", nullptr);
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) fail("COPY end not sent", nullptr);
  res = PQgetResult(conn_);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    // Drain the remaining results so the connection is usable for ROLLBACK.
    const std::string state = [&] {
      const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      return std::string(s ? s : "");
    }();
    std::string msg = "COPY failed: ";
    msg += PQresultErrorMessage(res);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQclear(res);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    throw pg_error(classify_sqlstate(state, PQstatus(conn_) == CONNECTION_OK), state, msg);
  }
  const char* n = PQcmdTuples(res);
  const std::int64_t rows = (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
  PQclear(res);
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  return rows;
}

}  // namespace factorysim::ingest
