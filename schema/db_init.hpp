#pragma once
/// `factorysim db init` and friends: applies the ordered migrations of sql/ (NNN_name.sql),
/// records them in schema_migrations, creates partitions around a scenario's time range on
/// plain PostgreSQL and upserts the scenario's plant (factories, machines, tariffs, carbon
/// factors), so that its data can be ingested with its foreign keys intact. See
/// docs/schema.md and sql/README.md.
///
/// Errors: std::invalid_argument for bad input (no sql dir, malformed file names; exit 2),
/// pqxx exceptions and std::runtime_error for database trouble (exit 1).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"

namespace pqxx {
class connection_base;
}

namespace factorysim::schema {

/// One migration file: version "030", name "030_timeseries.sql", its text and md5.
struct migration_file {
  std::string version;
  std::string name;
  std::filesystem::path path;
  std::string text;
};

/// The NNN_*.sql files of `sql_dir` in version order; throws std::invalid_argument when the
/// folder is missing, empty, or two files share a version.
std::vector<migration_file> load_migrations(const std::filesystem::path& sql_dir);

/// The sql/ folder to use: `override_dir` if given, else $FACTORYSIM_SQL_DIR, else
/// <exe>/../share/factorysim/sql (an installed tree), else the source tree's sql/ (compile
/// definition FACTORYSIM_SQL_DIR). Throws std::invalid_argument if none exists.
std::filesystem::path find_sql_dir(
    const std::optional<std::filesystem::path>& override_dir = std::nullopt);

/// How to migrate.
struct migrate_options {
  /// Schema to create the objects in (created if missing; search_path = schema, public).
  /// Empty = the connection's current schema (normally public).
  std::string schema;
  /// Apply every file even when schema_migrations has it with the same checksum (the files
  /// are idempotent, so this is safe; it is how tests prove it).
  bool force = false;
  /// "timescaledb" or "postgresql" forces the backend on the first run (SET
  /// factorysim.backend); empty = TimescaleDB when the extension is available.
  std::string backend;
  /// First run only: false creates the time-series tables without foreign keys to machines
  /// (faster COPY; the ingestor's own machine check is then the only guard).
  bool timeseries_fk = true;
};

/// What apply_migrations did.
struct migrate_report {
  std::vector<std::string> applied;  ///< file names run in this call
  std::vector<std::string> skipped;  ///< already recorded with the same checksum
  std::string backend;               ///< "timescaledb" or "postgresql"
  std::string timescaledb_not_used;  ///< why an installed TimescaleDB was not chosen, or empty
};

/// Applies the migrations in order under a session advisory lock (concurrent callers wait),
/// each file in its own transaction together with its schema_migrations row. A file whose
/// checksum changed since it was recorded is applied again (the files are idempotent).
migrate_report apply_migrations(pqxx::connection_base& c, const std::vector<migration_file>& files,
                                const migrate_options& options = {});

/// Sets search_path to `schema`, public (creating the schema); no-op for an empty name.
void use_schema(pqxx::connection_base& c, const std::string& schema);

/// What upsert_scenario wrote (rows inserted or changed; unchanged rows are not counted).
struct seed_report {
  int factories = 0;
  int machines = 0;
  int tariffs = 0;
  int tariffs_deactivated = 0;
  int carbon_factors = 0;
};

/// Upserts the scenario's factories, machines (replicas expanded), tariffs (per factory, by
/// name; the factory's other tariffs are deactivated) and carbon factors, in one transaction.
/// Rewriting identical values changes nothing (no updated_at bump, no audit_log row).
seed_report upsert_scenario(pqxx::connection_base& c, const scenarios::scenario& s);

using time_range = std::pair<std::chrono::sys_seconds, std::chrono::sys_seconds>;

/// The time ranges whose partitions db init creates for a scenario: always [now - 1 day,
/// now + ahead) so live data has partitions, and for backfill/accelerated also
/// [from - 1 day, to + 1 day) (to = from + 1 day when open). Two ranges, not their hull: a
/// backfill of 2022 must not create every day between 2022 and today.
std::vector<time_range> partition_ranges(const scenarios::scenario& s,
                                         std::chrono::system_clock::time_point now,
                                         std::chrono::days ahead);

/// SELECT ensure_partitions(...) over [from, to) in slices of 31 days, one transaction each, so
/// that a long range never needs more locks than max_locks_per_transaction allows; returns the
/// number of daily partitions created (0 on TimescaleDB, where chunks appear by themselves).
int ensure_partitions(pqxx::connection_base& c, std::chrono::sys_seconds from,
                      std::chrono::sys_seconds to);

/// Which data layers `db init --profile` creates: "enms" (always) and "mantis".
struct profiles {
  bool mantis = false;
};
/// Parses "enms", "enms,mantis", "mantis" (enms is implied: MANTIS reads its machines);
/// throws std::invalid_argument naming an unknown profile.
profiles parse_profiles(const std::string& text);

/// The schema of the MANTIS layer beside the EnMS schema `enms_schema`: "mantis" for the
/// default (empty or public), else "<enms_schema>_mantis", so several EnMS schemas of one
/// database keep separate MANTIS layers.
std::string mantis_schema_for(const std::string& enms_schema);

/// Applies sql/mantis/ (the MANTIS layer, docs/mantis.md) in its schema with search_path =
/// mantis, EnMS schema, public, and records that schema in the EnMS factorysim_settings
/// ('mantis_schema'), where the ingestor and `db maintain` find it. Call after the EnMS
/// migrations, on the connection they ran on. Restores the EnMS search_path.
migrate_report apply_mantis_migrations(pqxx::connection_base& c,
                                       const std::filesystem::path& sql_dir,
                                       const migrate_options& options);

/// The MANTIS schema recorded in the current EnMS schema, or empty.
std::string recorded_mantis_schema(pqxx::connection_base& c);

/// MANTIS assets and sensors from the EnMS machines (sync_assets_from_enms()), maintenance
/// rules from the preventive-maintenance plans of `machines` (the scenario's), and partitions
/// of its series over `ranges`; returns rows changed.
int seed_mantis(
    pqxx::connection_base& c, const std::string& mantis_schema,
    const std::vector<std::pair<std::chrono::sys_seconds, std::chrono::sys_seconds>>& ranges,
    std::span<const machines::machine_config> machines = {});

/// Options of db_init.
struct db_init_options {
  std::string conninfo;
  std::string scenario_file;
  std::optional<std::filesystem::path> sql_dir;
  migrate_options migrate;
  std::chrono::days partitions_ahead{7};
  profiles layers;
};

/// What db_init did, for the command's summary line.
struct db_init_report {
  migrate_report migrations;
  seed_report seed;
  int partitions_created = 0;
  std::optional<migrate_report> mantis;  ///< set with the mantis profile
  int mantis_rows = 0;                   ///< assets and sensors written
};

/// The whole `db init`: load the scenario (throws scenarios::scenario_error), find and load
/// the migrations, connect, migrate, create partitions, upsert the plant.
db_init_report db_init(const db_init_options& options);

/// Options of one maintenance pass (`factorysim db maintain`).
struct maintain_options {
  std::chrono::hours refresh_window{3};  ///< rollups recomputed over [now - window, now)
  std::chrono::days partitions_ahead{7};
  bool retention = true;  ///< drop raw data older than retention_days
  int retention_days = 90;
};

/// What one maintenance pass did.
struct maintain_report {
  int partitions_created = 0;
  /// Buckets written (PostgreSQL) or refreshed windows in buckets (TimescaleDB: complete
  /// buckets only, never before the raw retention horizon).
  std::int64_t rollup_buckets = 0;
  int dropped = 0;                  ///< partitions or chunks
  bool mantis = false;              ///< the MANTIS layer was maintained too
  std::int64_t mantis_windows = 0;  ///< sensor_data_windowed rows written (features beside them)
  int views_refreshed = 0;          ///< materialized dashboard views refreshed
};

/// One maintenance pass for either backend: partitions ahead, rollups refreshed over the
/// window (refresh_rollups on PostgreSQL; CALL refresh_continuous_aggregate level by level on
/// TimescaleDB, which must run outside a transaction), retention.
maintain_report maintain(pqxx::connection_base& c, const maintain_options& options,
                         std::chrono::system_clock::time_point now);

}  // namespace factorysim::schema
