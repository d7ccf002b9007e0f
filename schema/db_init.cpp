#include "schema/db_init.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <span>
#include <sstream>
#include <stdexcept>

#include "machines/params.hpp"
#include "machines/types.hpp"
#include "machines/wear.hpp"

#ifndef FACTORYSIM_SQL_DIR
#define FACTORYSIM_SQL_DIR ""
#endif

namespace factorysim::schema {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool is_sql_dir(const std::filesystem::path& p) {
  std::error_code ec;
  return !p.empty() && std::filesystem::is_directory(p, ec) &&
         std::filesystem::exists(p / "001_extensions.sql", ec);
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path{} : exe.parent_path();
}

/// Seconds since the epoch, for to_timestamp($n) (whole seconds are all db init needs).
long long epoch_s(std::chrono::sys_seconds t) {
  return static_cast<long long>(t.time_since_epoch().count());
}

std::string int_array_literal(const std::vector<int>& values) {
  std::string s = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(values[i]);
  }
  return s + "}";
}

std::string json_string_array(const std::vector<std::string>& values) {
  // Names are passed as one JSON parameter; escape the characters JSON requires.
  std::string s = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ",";
    s += '"';
    for (char ch : values[i]) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        s += '\\';
        s += ch;
      } else if (u < 0x20) {
        static constexpr char hex[] = "0123456789abcdef";
        s += "\\u00";
        s += hex[u >> 4];
        s += hex[u & 0xf];
      } else {
        s += ch;
      }
    }
    s += '"';
  }
  return s + "]";
}

/// Holds the migration advisory lock of the current schema for its lifetime.
class migration_lock {
 public:
  explicit migration_lock(pqxx::connection_base& c) : c_(c) {
    pqxx::nontransaction n{c_};
    n.exec("SELECT pg_advisory_lock(hashtext('factorysim-migrations:' || current_schema()))");
  }
  ~migration_lock() {
    try {
      pqxx::nontransaction n{c_};
      n.exec("SELECT pg_advisory_unlock(hashtext('factorysim-migrations:' || current_schema()))");
    } catch (const pqxx::broken_connection&) {
      // A lost session has released its advisory locks already.
    } catch (const pqxx::sql_error&) {
      // The session is unusable; its end releases the lock.
    }
  }
  migration_lock(const migration_lock&) = delete;
  migration_lock& operator=(const migration_lock&) = delete;

 private:
  pqxx::connection_base& c_;
};

}  // namespace

std::vector<migration_file> load_migrations(const std::filesystem::path& sql_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(sql_dir, ec)) {
    throw std::invalid_argument("sql dir " + sql_dir.string() + " does not exist");
  }
  std::vector<migration_file> files;
  for (const auto& entry : std::filesystem::directory_iterator(sql_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    // NNN_name.sql: the digits before the first '_' are the version.
    const auto underscore = name.find('_');
    if (underscore == std::string::npos || underscore == 0 ||
        !std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(underscore),
                     [](unsigned char ch) { return std::isdigit(ch) != 0; })) {
      throw std::invalid_argument(entry.path().string() +
                                  ": migration files are named NNN_name.sql");
    }
    files.push_back({name.substr(0, underscore), name, entry.path(), read_text(entry.path())});
  }
  if (files.empty())
    throw std::invalid_argument("sql dir " + sql_dir.string() + " has no NNN_*.sql files");
  std::sort(files.begin(), files.end(), [](const migration_file& a, const migration_file& b) {
    const auto va = std::stoll(a.version), vb = std::stoll(b.version);
    return va != vb ? va < vb : a.name < b.name;
  });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (std::stoll(files[i].version) == std::stoll(files[i - 1].version)) {
      throw std::invalid_argument("migrations " + files[i - 1].name + " and " + files[i].name +
                                  " share version " + files[i].version);
    }
  }
  return files;
}

std::filesystem::path find_sql_dir(const std::optional<std::filesystem::path>& override_dir) {
  if (override_dir) {
    if (!is_sql_dir(*override_dir)) {
      throw std::invalid_argument("--sql-dir " + override_dir->string() +
                                  ": no 001_extensions.sql there");
    }
    return *override_dir;
  }
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("FACTORYSIM_SQL_DIR"); env != nullptr && *env != '\0')
    candidates.emplace_back(env);
  if (const auto exe = executable_dir(); !exe.empty()) {
    candidates.push_back(exe.parent_path() / "share" / "factorysim" / "sql");
  }
  candidates.emplace_back(FACTORYSIM_SQL_DIR);
  for (const auto& c : candidates) {
    if (is_sql_dir(c)) return c;
  }
  std::string tried;
  for (const auto& c : candidates) tried += " " + c.string();
  throw std::invalid_argument("cannot find the sql/ migrations (tried:" + tried +
                              "); pass --sql-dir");
}

void use_schema(pqxx::connection_base& c, const std::string& schema) {
  if (schema.empty()) return;
  pqxx::nontransaction n{c};
  n.exec("CREATE SCHEMA IF NOT EXISTS " + n.quote_name(schema));
  n.exec("SET search_path = " + n.quote_name(schema) + ", public");
}

migrate_report apply_migrations(pqxx::connection_base& c, const std::vector<migration_file>& files,
                                const migrate_options& options) {
  use_schema(c, options.schema);
  {
    pqxx::nontransaction n{c};
    // Migrations are chatty ("already exists, skipping"); warnings and errors still show.
    n.exec("SET client_min_messages = warning");
    if (!options.backend.empty()) {
      if (options.backend != "timescaledb" && options.backend != "postgresql") {
        throw std::invalid_argument("backend must be timescaledb or postgresql, got " +
                                    options.backend);
      }
      n.exec("SET factorysim.backend = " + n.quote(options.backend));
    }
    n.exec(std::string("SET factorysim.timeseries_fk = ") +
           (options.timeseries_fk ? "'on'" : "'off'"));
  }
  migration_lock lock{c};
  {
    pqxx::work w{c};
    // Same definition as in 001_extensions.sql: the ledger must exist before 001 runs.
    w.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT "
        "NULL, "
        "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
        "applied_by text NOT NULL DEFAULT current_user)");
    w.commit();
  }
  migrate_report report;
  for (const auto& f : files) {
    pqxx::work w{c, "migrate " + f.name};
    const std::string checksum = w.exec_params1("SELECT md5($1)", f.text)[0].as<std::string>();
    const pqxx::result recorded =
        w.exec_params("SELECT checksum FROM schema_migrations WHERE version = $1", f.version);
    if (!options.force && !recorded.empty() && recorded[0][0].as<std::string>() == checksum) {
      report.skipped.push_back(f.name);
      w.commit();
      continue;
    }
    try {
      w.exec(f.text);
    } catch (const pqxx::sql_error& e) {
      // Name the file: the server's message only names the statement.
      throw pqxx::sql_error(f.name + ": " + e.what(), e.query(), e.sqlstate().c_str());
    }
    w.exec_params(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3) "
        "ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, "
        "applied_at = now(), applied_by = current_user",
        f.version, f.name, checksum);
    w.commit();
    report.applied.push_back(f.name);
  }
  pqxx::nontransaction n{c};
  report.backend = n.exec1("SELECT factorysim_backend()")[0].as<std::string>();
  if (report.backend != "timescaledb") {
    const auto why =
        n.exec("SELECT value FROM factorysim_settings WHERE key = 'timescaledb_not_used'");
    if (!why.empty()) report.timescaledb_not_used = why[0][0].as<std::string>();
  }
  return report;
}

namespace {
/// What db init puts into machines.metadata: the part mass of a molding machine, for
/// specific_energy() (sql/071).
std::string machine_metadata(const machines::machine_config& m) {
  if (m.type != machines::machine_type::injection_molding) return "{}";
  const auto grams = machines::get_param(m.params, "part_mass_g");
  if (!grams) return "{}";
  char buf[64];
  std::snprintf(buf, sizeof buf, "{\"part_mass_kg\": %.6g}", *grams / 1000.0);
  return buf;
}
}  // namespace

seed_report upsert_scenario(pqxx::connection_base& c, const scenarios::scenario& s) {
  seed_report report;
  pqxx::work w{c, "db init seed"};
  for (const auto& f : s.factories) {
    const std::string region = f.carbon_region.empty() ? "default" : f.carbon_region;
    report.factories += static_cast<int>(
        w.exec_params(
             "INSERT INTO factories AS t (id, name, location, timezone, carbon_region) "
             "VALUES ($1::uuid, $2, nullif($3, ''), $4, $5) "
             "ON CONFLICT (id) DO UPDATE SET name = excluded.name, location = excluded.location, "
             "timezone = excluded.timezone, carbon_region = excluded.carbon_region, is_active = "
             "true "
             "WHERE (t.name, t.location, t.timezone, t.carbon_region, t.is_active) IS DISTINCT "
             "FROM "
             "(excluded.name, excluded.location, excluded.timezone, excluded.carbon_region, true)",
             f.id, f.name, f.location, f.timezone, region)
            .affected_rows());
  }
  for (const auto& m : s.machines) {
    const double interval_s = static_cast<double>(m.interval.count()) / 1000.0;
    report.machines += static_cast<int>(
        w.exec_params(
             "INSERT INTO machines AS t (id, factory_id, name, type, rated_power_kw, "
             "rated_voltage_v, "
             "rated_current_a, rated_frequency_hz, rated_power_factor, data_interval_seconds, "
             "mqtt_topic, "
             "is_critical, is_active, metadata) "
             "VALUES ($1::uuid, $2::uuid, $3, $4::machine_type, $5, $6, nullif($7, 0::float8), $8, "
             "nullif($9, 0::float8), $10, nullif($11, ''), $12, true, $13::jsonb) "
             "ON CONFLICT (id) DO UPDATE SET factory_id = excluded.factory_id, name = "
             "excluded.name, "
             "type = excluded.type, rated_power_kw = excluded.rated_power_kw, "
             "rated_voltage_v = excluded.rated_voltage_v, rated_current_a = "
             "excluded.rated_current_a, "
             "rated_frequency_hz = excluded.rated_frequency_hz, "
             "rated_power_factor = excluded.rated_power_factor, "
             "data_interval_seconds = excluded.data_interval_seconds, mqtt_topic = "
             "excluded.mqtt_topic, "
             "is_critical = excluded.is_critical, is_active = true, "
             // Our keys merge into the metadata; a user's own keys stay.
             "metadata = t.metadata || excluded.metadata "
             "WHERE (t.factory_id, t.name, t.type, t.rated_power_kw, t.rated_voltage_v, "
             "t.rated_current_a, "
             "t.rated_frequency_hz, t.rated_power_factor, t.data_interval_seconds, t.mqtt_topic, "
             "t.is_critical, t.is_active, t.metadata) IS DISTINCT FROM (excluded.factory_id, "
             "excluded.name, "
             "excluded.type, excluded.rated_power_kw, excluded.rated_voltage_v, "
             "excluded.rated_current_a, "
             "excluded.rated_frequency_hz, excluded.rated_power_factor, "
             "excluded.data_interval_seconds, "
             "excluded.mqtt_topic, excluded.is_critical, true, t.metadata || excluded.metadata)",
             m.id, m.factory_id.str(), m.name, std::string(machines::to_string(m.type)), m.rated_power_kw,
             m.rated_voltage_v, m.rated_current_a, m.rated_frequency_hz, m.rated_power_factor,
             interval_s, m.topic, m.is_critical, machine_metadata(m))
            .affected_rows());
  }
  for (const auto& f : s.factories) {
    std::vector<std::string> names;
    for (const auto& t : f.tariffs) {
      names.push_back(t.name);
      report.tariffs += static_cast<int>(
          w.exec_params(
               "INSERT INTO energy_tariffs AS t (factory_id, name, rate_per_kwh, currency, "
               "is_time_of_use, "
               "start_hour, end_hour, applicable_days, demand_charge_per_kw, valid_from, valid_to, "
               "is_active) "
               "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::integer[], $9, '-infinity', NULL, "
               "true) "
               "ON CONFLICT (factory_id, name, valid_from) DO UPDATE SET rate_per_kwh = "
               "excluded.rate_per_kwh, "
               "currency = excluded.currency, is_time_of_use = excluded.is_time_of_use, "
               "start_hour = excluded.start_hour, end_hour = excluded.end_hour, "
               "applicable_days = excluded.applicable_days, "
               "demand_charge_per_kw = excluded.demand_charge_per_kw, valid_to = NULL, is_active = "
               "true "
               "WHERE (t.rate_per_kwh, t.currency, t.is_time_of_use, t.start_hour, t.end_hour, "
               "t.applicable_days, t.demand_charge_per_kw, t.valid_to, t.is_active) IS DISTINCT "
               "FROM "
               "(excluded.rate_per_kwh, excluded.currency, excluded.is_time_of_use, "
               "excluded.start_hour, "
               "excluded.end_hour, excluded.applicable_days, excluded.demand_charge_per_kw, "
               "NULL::timestamptz, true)",
               f.id, t.name, t.rate_per_kwh, t.currency, t.is_time_of_use, t.start_hour, t.end_hour,
               int_array_literal(t.applicable_days), t.demand_charge_per_kw)
              .affected_rows());
    }
    // Tariffs the scenario no longer names must not price new energy.
    report.tariffs_deactivated += static_cast<int>(
        w.exec_params("UPDATE energy_tariffs SET is_active = false WHERE factory_id = $1::uuid AND "
                      "is_active "
                      "AND name NOT IN (SELECT jsonb_array_elements_text($2::jsonb))",
                      f.id, json_string_array(names))
            .affected_rows());
  }
  for (const auto& cf : s.carbon_factors) {
    report.carbon_factors += static_cast<int>(
        w.exec_params("INSERT INTO carbon_factors AS t (region, emission_factor_kg_co2_per_kwh, "
                      "source, valid_from) "
                      "VALUES ($1, $2, 'scenario', '-infinity') "
                      "ON CONFLICT (region, valid_from) DO UPDATE SET "
                      "emission_factor_kg_co2_per_kwh = excluded.emission_factor_kg_co2_per_kwh, "
                      "is_active = true "
                      "WHERE (t.emission_factor_kg_co2_per_kwh, t.is_active) IS DISTINCT FROM "
                      "(excluded.emission_factor_kg_co2_per_kwh, true)",
                      cf.region, cf.kg_co2_per_kwh)
            .affected_rows());
  }
  w.commit();
  return report;
}

std::vector<time_range> partition_ranges(const scenarios::scenario& s,
                                         std::chrono::system_clock::time_point now,
                                         std::chrono::days ahead) {
  using namespace std::chrono;
  const auto now_s = floor<seconds>(now);
  std::vector<time_range> ranges{{now_s - days{1}, now_s + ahead}};
  if (s.mode != scenarios::time_mode::realtime && s.from) {
    const auto start = floor<seconds>(*s.from);
    const auto end = s.to ? ceil<seconds>(*s.to) : start + days{1};
    ranges.emplace_back(start - days{1}, end + days{1});
  }
  return ranges;
}

int ensure_partitions(pqxx::connection_base& c, std::chrono::sys_seconds from,
                      std::chrono::sys_seconds to) {
  using namespace std::chrono;
  int created = 0;
  for (sys_seconds slice = from; slice < to; slice += days{31}) {
    const sys_seconds slice_end = std::min(to, slice + days{31});
    pqxx::work w{c, "ensure partitions"};
    created += w.exec_params1("SELECT ensure_partitions(to_timestamp($1), to_timestamp($2))",
                              epoch_s(slice), epoch_s(slice_end))[0]
                   .as<int>();
    w.commit();
  }
  return created;
}

profiles parse_profiles(const std::string& text) {
  profiles p;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "enms") continue;
    if (item == "mantis") {
      p.mantis = true;
      continue;
    }
    throw std::invalid_argument("--profile: unknown profile \"" + item +
                                "\" (known: enms, mantis)");
  }
  return p;
}

std::string mantis_schema_for(const std::string& enms_schema) {
  return enms_schema.empty() || enms_schema == "public" ? "mantis" : enms_schema + "_mantis";
}

namespace {

std::string current_schema_of(pqxx::connection_base& c) {
  pqxx::nontransaction n{c};
  return n.exec1("SELECT current_schema()")[0].as<std::string>();
}

// search_path = mantis, enms, public for the MANTIS objects; restored by the destructor.
class mantis_search_path {
 public:
  mantis_search_path(pqxx::connection_base& c, const std::string& mantis) : c_(c) {
    pqxx::nontransaction n{c_};
    saved_ = n.exec1("SELECT current_setting('search_path')")[0].as<std::string>();
    const std::string enms = n.exec1("SELECT current_schema()")[0].as<std::string>();
    n.exec("CREATE SCHEMA IF NOT EXISTS " + n.quote_name(mantis));
    n.exec("SET search_path = " + n.quote_name(mantis) + ", " + n.quote_name(enms) + ", public");
  }
  ~mantis_search_path() {
    try {
      pqxx::nontransaction n{c_};
      n.exec("SET search_path = " + saved_);
    } catch (const pqxx::failure&) {
      // The connection is gone; nothing to restore.
    }
  }
  mantis_search_path(const mantis_search_path&) = delete;
  mantis_search_path& operator=(const mantis_search_path&) = delete;

 private:
  pqxx::connection_base& c_;
  std::string saved_;
};

}  // namespace

migrate_report apply_mantis_migrations(pqxx::connection_base& c,
                                       const std::filesystem::path& sql_dir,
                                       const migrate_options& options) {
  const auto files = load_migrations(sql_dir / "mantis");
  use_schema(c, options.schema);
  const std::string enms = current_schema_of(c);
  const std::string mantis = mantis_schema_for(options.schema.empty() ? enms : options.schema);
  migrate_report report;
  {
    mantis_search_path path{c, mantis};
    auto o = options;
    o.schema.clear();  // search_path is set: objects go to the MANTIS schema
    report = apply_migrations(c, files, o);
  }
  pqxx::work w{c, "record mantis schema"};
  w.exec_params(
      "INSERT INTO factorysim_settings (key, value) VALUES ('mantis_schema', $1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now() "
      "WHERE factorysim_settings.value IS DISTINCT FROM excluded.value",
      mantis);
  w.commit();
  return report;
}

std::string recorded_mantis_schema(pqxx::connection_base& c) {
  pqxx::nontransaction n{c};
  const auto r = n.exec(
      "SELECT value FROM factorysim_settings WHERE key = 'mantis_schema' "
      "AND to_regnamespace(value) IS NOT NULL");
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

namespace {

/// The scenario's preventive-maintenance plans as MANTIS maintenance rules, a JSON array for
/// jsonb_to_recordset: one rule per machine and trigger, 'time' for a calendar interval and
/// 'usage' for running hours. Named by machine and trigger, so that a changed plan updates
/// its rule instead of adding one.
std::string maintenance_rules_json(std::span<const machines::machine_config> ms) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& m : ms) {
    const machines::wear_config& w = m.wear_plan();
    if (w.run_to_failure) continue;
    nlohmann::json components = nlohmann::json::array();
    for (const machines::component k : machines::components_of(m.type))
      if (w.pm_components[static_cast<std::size_t>(k)])
        components.push_back(std::string(machines::to_string(k)));
    const std::pair<const char*, double> triggers[] = {{"time", w.pm_every_h},
                                                       {"usage", w.pm_every_run_h}};
    for (const auto& [type, hours] : triggers) {
      if (!(hours > 0)) continue;
      rules.push_back({{"name", "preventive " + std::string(type) + ": " + m.name + " (" + m.id + ")"},
                       {"asset_id", m.id},
                       {"asset_type", std::string(machines::to_string(m.type))},
                       {"rule_type", type},
                       {"interval_hours", hours},
                       {"priority", m.is_critical ? "high" : "medium"},
                       {"condition",
                        {{"source", "scenario"},
                         {"components", components},
                         {"duration_h", w.pm_duration_h},
                         {"restore", w.pm_restore}}}});
    }
  }
  return rules.dump();
}

/// Upserts the plans' rules; a scenario rule of one of these machines whose plan is gone is
/// deactivated, not deleted (work orders may name it). Returns rows changed.
int sync_maintenance_rules(pqxx::work& w, std::span<const machines::machine_config> ms) {
  if (ms.empty()) return 0;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& m : ms) ids.push_back(m.id);
  const std::string rules = maintenance_rules_json(ms);
  int changed = static_cast<int>(
      w.exec_params(
           "INSERT INTO maintenance_rules AS r (name, asset_id, asset_type, rule_type, condition,"
           " interval_hours, priority, action, is_active)"
           " SELECT x.name, x.asset_id, x.asset_type, x.rule_type, x.condition, x.interval_hours,"
           " x.priority, 'create_work_order', true"
           " FROM jsonb_to_recordset($1::jsonb) AS x(name text, asset_id uuid, asset_type text,"
           " rule_type text, condition jsonb, interval_hours double precision, priority text)"
           " JOIN assets a ON a.id = x.asset_id"
           " ON CONFLICT (name) DO UPDATE SET asset_id = excluded.asset_id,"
           " asset_type = excluded.asset_type, rule_type = excluded.rule_type,"
           " condition = excluded.condition, interval_hours = excluded.interval_hours,"
           " priority = excluded.priority, is_active = true"
           " WHERE (r.asset_id, r.asset_type, r.rule_type, r.condition, r.interval_hours,"
           " r.priority, r.is_active) IS DISTINCT FROM (excluded.asset_id, excluded.asset_type,"
           " excluded.rule_type, excluded.condition, excluded.interval_hours, excluded.priority,"
           " true)",
           rules)
          .affected_rows());
  changed += static_cast<int>(
      w.exec_params("UPDATE maintenance_rules r SET is_active = false"
                    " WHERE r.is_active AND r.condition ->> 'source' = 'scenario'"
                    " AND r.asset_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)"
                    " AND r.name NOT IN (SELECT x ->> 'name' FROM jsonb_array_elements($2::jsonb) x)",
                    ids.dump(), rules)
          .affected_rows());
  return changed;
}

}  // namespace

int seed_mantis(
    pqxx::connection_base& c, const std::string& mantis_schema,
    const std::vector<std::pair<std::chrono::sys_seconds, std::chrono::sys_seconds>>& ranges,
    std::span<const machines::machine_config> machines) {
  mantis_search_path path{c, mantis_schema};
  int changed = 0;
  {
    pqxx::work w{c, "mantis assets"};
    changed = w.exec1("SELECT sync_assets_from_enms()")[0].as<int>();
    changed += sync_maintenance_rules(w, machines);
    w.commit();
  }
  using namespace std::chrono;
  for (const auto& [from, to] : ranges) {
    for (sys_seconds slice = from; slice < to; slice += days{31}) {
      pqxx::work w{c, "mantis partitions"};
      w.exec_params("SELECT ensure_mantis_partitions(to_timestamp($1), to_timestamp($2))",
                    epoch_s(slice), epoch_s(std::min(to, slice + days{31})));
      w.commit();
    }
  }
  return changed;
}

db_init_report db_init(const db_init_options& options) {
  const scenarios::scenario s = scenarios::load_scenario(options.scenario_file);
  const auto files = load_migrations(find_sql_dir(options.sql_dir));
  pqxx::connection c{options.conninfo};
  db_init_report report;
  report.migrations = apply_migrations(c, files, options.migrate);
  for (const auto& [from, to] :
       partition_ranges(s, std::chrono::system_clock::now(), options.partitions_ahead))
    report.partitions_created += ensure_partitions(c, from, to);
  report.seed = upsert_scenario(c, s);
  if (options.layers.mantis) {
    report.mantis = apply_mantis_migrations(c, find_sql_dir(options.sql_dir), options.migrate);
    report.mantis_rows = seed_mantis(
        c, recorded_mantis_schema(c),
        partition_ranges(s, std::chrono::system_clock::now(), options.partitions_ahead),
        s.machines);
  }
  return report;
}

maintain_report maintain(pqxx::connection_base& c, const maintain_options& options,
                         std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  maintain_report report;
  const auto now_s = floor<seconds>(now);
  report.partitions_created =
      ensure_partitions(c, now_s - days{1}, now_s + options.partitions_ahead);
  std::string backend;
  {
    pqxx::nontransaction n{c};
    backend = n.exec1("SELECT factorysim_backend()")[0].as<std::string>();
  }
  const auto from = now_s - duration_cast<seconds>(options.refresh_window);
  if (backend == "timescaledb") {
    // refresh_continuous_aggregate refuses transaction blocks: one autocommit CALL per level,
    // each window widened to whole buckets of its level so the current partial bucket counts.
    // Only complete buckets are materialized (the one in progress is read in real time,
    // sql/095): a bucket materialized while incomplete would stay wrong, since the
    // watermark passes it. The window never reaches back before the raw retention horizon
    // (recorded by apply_retention, or now - retention days): refreshing where the raw rows
    // are gone would erase the kept rollups of those days.
    pqxx::nontransaction n{c};
    long long horizon = epoch_s(now_s) - static_cast<long long>(options.retention_days) * 86400;
    {
      const auto h = n.exec(
          "SELECT extract(epoch FROM value::timestamptz)::bigint FROM factorysim_settings "
          "WHERE key = 'raw_retention_horizon'");
      if (!h.empty()) horizon = std::max(horizon, h[0][0].as<long long>());
    }
    const pqxx::result defs = n.exec(
        "SELECT name, extract(epoch FROM width)::bigint FROM rollup_definitions() "
        "ORDER BY level, name");
    for (const auto& row : defs) {
      const auto name = row[0].as<std::string>();
      const auto width_s = row[1].as<long long>();
      const long long start = std::max<long long>(epoch_s(from), horizon);
      const long long lo = ((start + width_s - 1) / width_s) * width_s;
      const long long hi = (epoch_s(now_s) / width_s) * width_s;
      if (hi <= lo) continue;
      n.exec("CALL refresh_continuous_aggregate(" + n.quote(name) + ", to_timestamp(" +
             std::to_string(lo) + "), to_timestamp(" + std::to_string(hi) + "))");
      report.rollup_buckets += (hi - lo) / width_s;
    }
  } else {
    pqxx::work w{c, "refresh rollups"};
    const auto r = w.exec_params1(
        "SELECT coalesce(sum(buckets), 0)::bigint FROM refresh_rollups(to_timestamp($1), "
        "to_timestamp($2))",
        epoch_s(from), epoch_s(now_s));
    report.rollup_buckets = r[0].as<std::int64_t>();
    w.commit();
  }
  {
    // The dashboard views read the rollups just refreshed (docs/schema.md "Dashboard views").
    pqxx::work w{c, "refresh views"};
    report.views_refreshed = w.exec1("SELECT refresh_enms_views()")[0].as<int>();
    w.commit();
  }
  if (const std::string mantis = recorded_mantis_schema(c); !mantis.empty()) {
    report.mantis = true;
    mantis_search_path path{c, mantis};
    {
      pqxx::work w{c, "mantis partitions"};
      report.partitions_created +=
          w.exec_params1("SELECT ensure_mantis_partitions(to_timestamp($1), to_timestamp($2))",
                         epoch_s(now_s - days{1}), epoch_s(now_s + options.partitions_ahead))[0]
              .as<int>();
      w.commit();
    }
    if (backend == "timescaledb") {
      pqxx::nontransaction n{c};
      for (const auto& [name, width_s] :
           {std::pair<const char*, long long>{"sensor_data_hourly", 3600},
            std::pair<const char*, long long>{"sensor_data_daily", 86400}}) {
        const long long lo = (epoch_s(from) / width_s) * width_s;
        const long long hi = (epoch_s(now_s) / width_s) * width_s;  // whole buckets only
        if (hi > lo)
          n.exec(std::string("CALL refresh_continuous_aggregate('") + name + "', to_timestamp(" +
                 std::to_string(lo) + "), to_timestamp(" + std::to_string(hi) + "))");
      }
    }
    pqxx::work w{c, "mantis rollups"};
    report.rollup_buckets += w.exec_params1(
                                  "SELECT refresh_mantis_rollups(to_timestamp($1), "
                                  "to_timestamp($2))",
                                  epoch_s(from), epoch_s(now_s))[0]
                                 .as<std::int64_t>();
    // Windows and features (mantis/040): plain SQL on both backends, whole windows only.
    report.mantis_windows = w.exec_params1(
                                 "SELECT refresh_mantis_windows(to_timestamp($1), "
                                 "to_timestamp($2))",
                                 epoch_s(from), epoch_s(now_s))[0]
                                .as<std::int64_t>();
    if (options.retention)
      report.dropped +=
          w.exec_params1("SELECT apply_mantis_retention(to_timestamp($1))", epoch_s(now_s))[0]
              .as<int>();
    w.commit();
  }
  if (options.retention) {
    pqxx::work w{c, "retention"};
    report.dropped =
        w.exec_params1("SELECT apply_retention(make_interval(days => $1), to_timestamp($2))",
                       options.retention_days, epoch_s(now_s))[0]
            .as<int>();
    w.exec_params("SELECT apply_rollup_retention(to_timestamp($1))", epoch_s(now_s));
    w.commit();
  }
  return report;
}

}  // namespace factorysim::schema
