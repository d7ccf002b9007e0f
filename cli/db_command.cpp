// `factorysim db init|migrate|maintain`: the schema of sql/ and its upkeep (docs/schema.md).
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/data_paths.hpp"
#include "schema/db_init.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::cli {

namespace {

struct db_args {
  std::string conninfo;
  std::string scenario;
  std::optional<std::string> sql_dir;
  std::string schema;
  std::string backend;
  bool force = false;
  bool no_timeseries_fk = false;
  int ahead_days = 7;
  int refresh_hours = 3;
  int retention_days = 90;
  bool no_retention = false;
  double every_s = 0;
  std::optional<std::size_t> replicas;  ///< as `run --replicas` (issue 13)
  std::string profile = "enms";         ///< data layers (issue 11): enms, enms,mantis
};

std::atomic<bool> stop_requested{false};

void on_stop_signal(int) {
  stop_requested = true;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "-" : s;
}

/// Runs `body`, turning exceptions into the house exit codes and one readable line.
template <typename Body>
int guarded(const char* command, Body&& body) {
  try {
    return body();
  } catch (const scenarios::scenario_error& e) {
    for (const auto& p : e.problems()) std::cerr << p.to_string() << '\n';
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "factorysim " << command << ": " << e.what() << '\n';
    return 2;
  } catch (const std::system_error& e) {
    // load_scenario: cannot read the file.
    std::cerr << "factorysim " << command << ": " << e.what() << '\n';
    return 2;
  } catch (const pqxx::broken_connection& e) {
    std::cerr << "factorysim " << command << ": cannot reach the database: " << e.what() << '\n';
    return 1;
  } catch (const pqxx::sql_error& e) {
    std::cerr << "factorysim " << command << ": SQL error " << e.sqlstate() << ": " << e.what()
              << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "factorysim " << command << ": " << e.what() << '\n';
    return 1;
  }
}

schema::migrate_options migrate_options_of(const db_args& a) {
  schema::migrate_options m;
  m.schema = a.schema;
  m.force = a.force;
  m.backend = a.backend;
  m.timeseries_fk = !a.no_timeseries_fk;
  return m;
}

/// "1 factory", "2 factories" (issue 13: no "factory(ies)").
std::string count_of(long long n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_migrations(const schema::migrate_report& r) {
  std::cerr << "db: backend " << r.backend << "; applied "
            << count_of(static_cast<long long>(r.applied.size()), "migration", "migrations")
            << " (" << join(r.applied) << "), " << r.skipped.size() << " already current\n";
  if (!r.timescaledb_not_used.empty())
    std::cerr << "db: TimescaleDB is installed but not used: " << r.timescaledb_not_used
              << "; the database runs as plain PostgreSQL (docs/schema.md)\n";
}

int run_init(const db_args& a) {
  return guarded("db init", [&] {
    schema::db_init_options o;
    o.conninfo = a.conninfo;
    o.scenario_file = resolve_scenario(a.scenario);
    if (a.sql_dir) o.sql_dir = *a.sql_dir;
    o.migrate = migrate_options_of(a);
    o.partitions_ahead = std::chrono::days{a.ahead_days};
    o.layers = schema::parse_profiles(a.profile);
    std::cerr << "db: migrations from " << schema::find_sql_dir(o.sql_dir).string() << '\n';
    schema::db_init_report r;
    if (a.replicas) {
      // ---- issue 13: `db init --replicas N` upserts the machines `run --replicas N` publishes;
      // db_init() reads the file without load options, so its steps are taken here.
      if (*a.replicas < 1 || *a.replicas > 100000)
        throw std::invalid_argument("--replicas must be 1..100000");
      scenarios::load_options lo;
      lo.replicas = a.replicas;
      const scenarios::scenario s = scenarios::load_scenario(o.scenario_file, lo);
      const auto files = schema::load_migrations(schema::find_sql_dir(o.sql_dir));
      pqxx::connection c{o.conninfo};
      r.migrations = schema::apply_migrations(c, files, o.migrate);
      for (const auto& [from, to] :
           schema::partition_ranges(s, std::chrono::system_clock::now(), o.partitions_ahead))
        r.partitions_created += schema::ensure_partitions(c, from, to);
      r.seed = schema::upsert_scenario(c, s);
      if (o.layers.mantis) {
        r.mantis = schema::apply_mantis_migrations(c, schema::find_sql_dir(o.sql_dir), o.migrate);
        r.mantis_rows = schema::seed_mantis(
            c, schema::recorded_mantis_schema(c),
            schema::partition_ranges(s, std::chrono::system_clock::now(), o.partitions_ahead),
            s.machines);
      }
      // ---- end issue 13
    } else {
      r = schema::db_init(o);
    }
    print_migrations(r.migrations);
    std::cerr << "db: " << count_of(r.partitions_created, "partition", "partitions")
              << " created; upserted " << count_of(r.seed.factories, "factory", "factories")
              << ", " << count_of(r.seed.machines, "machine", "machines") << ", "
              << count_of(r.seed.tariffs, "tariff", "tariffs") << " ("
              << r.seed.tariffs_deactivated << " deactivated), "
              << count_of(r.seed.carbon_factors, "carbon factor", "carbon factors")
              << " (unchanged rows are not counted)\n";
    if (r.mantis) {
      std::cerr << "db: mantis layer: applied "
                << count_of(static_cast<long long>(r.mantis->applied.size()), "migration",
                            "migrations")
                << " (" << join(r.mantis->applied) << "); "
                << count_of(r.mantis_rows, "asset, sensor or rule", "assets, sensors or rules") << " written\n";
    }
    return 0;
  });
}

int run_migrate(const db_args& a) {
  return guarded("db migrate", [&] {
    const auto layers = schema::parse_profiles(a.profile);
    const auto dir = schema::find_sql_dir(a.sql_dir);
    const auto files = schema::load_migrations(dir);
    pqxx::connection c{a.conninfo};
    print_migrations(schema::apply_migrations(c, files, migrate_options_of(a)));
    if (layers.mantis) {
      std::cerr << "db: mantis layer: ";
      print_migrations(schema::apply_mantis_migrations(c, dir, migrate_options_of(a)));
    }
    return 0;
  });
}

int run_maintain(const db_args& a) {
  return guarded("db maintain", [&] {
    pqxx::connection c{a.conninfo};
    schema::use_schema(c, a.schema);
    schema::maintain_options o;
    o.partitions_ahead = std::chrono::days{a.ahead_days};
    o.refresh_window = std::chrono::hours{a.refresh_hours};
    o.retention = !a.no_retention;
    o.retention_days = a.retention_days;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    for (;;) {
      const auto r = schema::maintain(c, o, std::chrono::system_clock::now());
      std::cerr << "db maintain: " << count_of(r.partitions_created, "partition", "partitions")
                << " created, " << count_of(r.rollup_buckets, "rollup bucket", "rollup buckets")
                << " written, "
                << count_of(r.dropped, "old partition or chunk", "old partitions or chunks")
                << " dropped, " << count_of(r.views_refreshed, "view", "views") << " refreshed"
                << (r.mantis ? ", " + count_of(r.mantis_windows, "sensor window", "sensor windows") +
                                   " written (EnMS and MANTIS layers)"
                             : std::string())
                << '\n';
      if (a.every_s <= 0) return 0;
      // Sleep in small steps so that SIGTERM ends the loop promptly.
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(a.every_s));
      while (!stop_requested && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (stop_requested) return 0;
    }
  });
}

}  // namespace

void add_db_command(CLI::App& app, int& exit_code) {
  CLI::App* db = app.add_subcommand(
      "db", "Database schema: migrations, plant upsert, upkeep (docs/schema.md)");
  db->require_subcommand(1);
  auto args = std::make_shared<db_args>();

  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--db", args->conninfo,
                    "libpq connection string, e.g. 'host=127.0.0.1 port=5432 user=postgres "
                    "dbname=factorysim'")
        ->required();
    cmd->add_option("--schema", args->schema,
                    "create/use this schema (search_path = SCHEMA, public); default: current");
  };

  CLI::App* init = db->add_subcommand(
      "init",
      "Apply the migrations, create partitions around the scenario's time range, upsert its plant");
  common(init);
  init->add_option("--scenario", args->scenario,
                   "scenario YAML whose factories, machines, tariffs and carbon factors to upsert")
      ->required();
  init->add_option("--replicas", args->replicas,
                   "every machine entry as N replicas, as `run --replicas N` publishes them");
  init->add_option("--sql-dir", args->sql_dir,
                   "folder of NNN_*.sql migrations (default: installed or source tree)");
  init->add_flag("--force", args->force,
                 "re-run every migration even if recorded with the same checksum");
  init->add_option("--backend", args->backend, "first run only: force timescaledb or postgresql")
      ->check(CLI::IsMember({"timescaledb", "postgresql"}));
  init->add_flag(
      "--no-timeseries-fk", args->no_timeseries_fk,
      "first run only: time-series tables without foreign keys to machines (faster COPY)");
  init->add_option("--partitions-ahead", args->ahead_days,
                   "days of partitions to create ahead of now (plain PostgreSQL)")
      ->check(CLI::Range(0, 366));
  init->add_option("--profile", args->profile,
                   "data layers: enms (default) or enms,mantis (the MANTIS predictive-maintenance "
                   "schema, docs/mantis.md)")
      ->capture_default_str();
  init->callback([args, &exit_code] { exit_code = run_init(*args); });

  CLI::App* migrate = db->add_subcommand("migrate", "Apply the migrations only");
  common(migrate);
  migrate->add_option("--sql-dir", args->sql_dir, "folder of NNN_*.sql migrations");
  migrate->add_flag("--force", args->force, "re-run every migration");
  migrate->add_option("--backend", args->backend, "first run only: force timescaledb or postgresql")
      ->check(CLI::IsMember({"timescaledb", "postgresql"}));
  migrate->add_flag("--no-timeseries-fk", args->no_timeseries_fk,
                    "first run only: time-series tables without foreign keys to machines");
  migrate->add_option("--profile", args->profile, "data layers: enms (default) or enms,mantis")
      ->capture_default_str();
  migrate->callback([args, &exit_code] { exit_code = run_migrate(*args); });

  CLI::App* maintain = db->add_subcommand("maintain",
                                          "Create partitions ahead, refresh rollups of the recent "
                                          "window, apply retention (once, or --every S)");
  common(maintain);
  maintain
      ->add_option("--refresh-hours", args->refresh_hours,
                   "rollups are recomputed over [now - H, now)")
      ->check(CLI::Range(1, 24 * 366));
  maintain
      ->add_option("--partitions-ahead", args->ahead_days,
                   "days of partitions to keep ahead of now")
      ->check(CLI::Range(0, 366));
  maintain
      ->add_option("--retention-days", args->retention_days, "raw data older than this is dropped")
      ->check(CLI::Range(1, 100000));
  maintain->add_flag("--no-retention", args->no_retention, "do not drop old raw data");
  maintain
      ->add_option("--every", args->every_s,
                   "repeat every S seconds until SIGINT/SIGTERM (0 = once)")
      ->check(CLI::Range(0.0, 86400.0));
  maintain->callback([args, &exit_code] { exit_code = run_maintain(*args); });
}

}  // namespace factorysim::cli
