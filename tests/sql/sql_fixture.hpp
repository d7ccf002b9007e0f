#pragma once
/// Shared set-up of the schema tests: one private PostgreSQL per test process (ctest runs each
/// TEST in its own process) and a fresh database per test with sql/ applied by the C++
/// migrator, which is what `factorysim db init` runs.

#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "schema/db_init.hpp"
#include "tests/support/postgres_server.hpp"

namespace factorysim::test {

/// The repository's sql/ folder.
inline std::filesystem::path source_sql_dir() {
  return std::filesystem::path(FACTORYSIM_SOURCE_DIR) / "sql";
}

/// The process's PostgreSQL 15 (started on first use, removed at exit).
inline postgres_server& shared_server() {
  static postgres_server pg;
  return pg;
}

/// A new database of shared_server() with every migration applied; returns its conninfo.
inline std::string migrated_database() {
  const std::string conninfo = shared_server().create_database("sql");
  pqxx::connection c{conninfo};
  schema::apply_migrations(c, schema::load_migrations(source_sql_dir()));
  return conninfo;
}

}  // namespace factorysim::test
