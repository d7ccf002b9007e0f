#include "ingest/batch_writer.hpp"

#include <cmath>
#include <cstring>
#include <iterator>

#include "ingest/json_scanner.hpp"

namespace factorysim::ingest {

std::size_t uuid_hash::operator()(const uuid_bytes& id) const noexcept {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, id.data(), 8);
  std::memcpy(&b, id.data() + 8, 8);
  return static_cast<std::size_t>(a ^ (b * 0x9E3779B97F4A7C15ULL));
}

std::vector<std::string> table_columns(pg_connection& db, const std::string& table) {
  // to_regclass follows search_path like the statements that will use the table.
  const auto rows = db.query(
      "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('" + table +
      "') AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
  std::vector<std::string> names;
  names.reserve(rows.size());
  for (const auto& r : rows) names.push_back(r.at(0));
  return names;
}

namespace {

// Staging tables of our own layout for the two streams that are not plain appends.
constexpr const char* create_status_stage =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_status ("
    " time timestamptz NOT NULL, machine_id uuid NOT NULL, seq bigint, is_running boolean,"
    " operating_mode text, current_power_kw double precision,"
    " energy_total_kwh double precision) ON COMMIT DELETE ROWS";
constexpr const char* create_events_stage =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_events ("
    " time timestamptz NOT NULL, machine_id uuid NOT NULL, seq bigint, is_start boolean,"
    " fault_id bigint, anomaly_type text, severity text, severity_value double precision,"
    " metric_name text, signals text[], started_at timestamptz, ended_at timestamptz,"
    " source text, kind text NOT NULL, component text, maintenance_type text, work_order text,"
    " health_before double precision, health_after double precision,"
    " duration_h double precision) ON COMMIT DELETE ROWS";

// The newest energy reading of each machine in the batch (one row per machine).
constexpr const char* create_latest_stage =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_latest ("
    " machine_id uuid NOT NULL, time timestamptz NOT NULL, power_kw double precision,"
    " energy_total_kwh double precision) ON COMMIT DELETE ROWS";

// machine_status follows the readings: a newer reading sets power, meter and last_seen; a
// late redelivery of an older one changes nothing. A machine heard before its first
// T/status gets a row with `time` (of the status message) NULL.
constexpr const char* upsert_latest =
    "INSERT INTO machine_status AS s (machine_id, time, current_power_kw, energy_total_kwh,"
    " last_reading_at, last_seen, updated_at)"
    " SELECT machine_id, NULL, power_kw, energy_total_kwh, time, now(), now()"
    " FROM ingest_stage_latest"
    " ON CONFLICT (machine_id) DO UPDATE SET"
    " current_power_kw = coalesce(excluded.current_power_kw, s.current_power_kw),"
    " energy_total_kwh = coalesce(excluded.energy_total_kwh, s.energy_total_kwh),"
    " last_reading_at = excluded.last_reading_at, last_seen = excluded.last_seen"
    " WHERE s.last_reading_at IS NULL OR s.last_reading_at < excluded.last_reading_at";

// The newest status per machine wins; an older one (a late redelivery) never overwrites a
// newer state. Its power and meter count only when no newer reading set them.
constexpr const char* upsert_status =
    "INSERT INTO machine_status AS s (machine_id, time, is_running, operating_mode,"
    " current_power_kw, energy_total_kwh, seq, last_seen, updated_at)"
    " SELECT DISTINCT ON (machine_id) machine_id, time, is_running,"
    " operating_mode::operating_mode, current_power_kw, energy_total_kwh, seq, now(), now()"
    " FROM ingest_stage_status ORDER BY machine_id, time DESC, seq DESC NULLS LAST"
    " ON CONFLICT (machine_id) DO UPDATE SET time = excluded.time,"
    " is_running = excluded.is_running, operating_mode = excluded.operating_mode,"
    " current_power_kw = CASE WHEN s.last_reading_at > excluded.time THEN s.current_power_kw"
    " ELSE coalesce(excluded.current_power_kw, s.current_power_kw) END,"
    " energy_total_kwh = CASE WHEN s.last_reading_at > excluded.time THEN s.energy_total_kwh"
    " ELSE coalesce(excluded.energy_total_kwh, s.energy_total_kwh) END,"
    " seq = excluded.seq, last_seen = excluded.last_seen"
    " WHERE s.time IS NULL OR s.time <= excluded.time";

// A fault row is keyed by (machine_id, anomaly_type, detected_at = started_at): the end
// event repeats both, so an end whose start was never seen still yields one row, and
// replays change nothing. Start and end of one fault in the same batch merge into one row.
// A failure opens a `<component>_failure` row at its time (see resolve_failures).
constexpr const char* insert_events =
    "INSERT INTO anomalies AS a (machine_id, detected_at, resolved_at, anomaly_type, severity,"
    " severity_value, metric_name, signals, fault_id, source)"
    " SELECT DISTINCT ON (machine_id, anomaly_type, started_at) machine_id, started_at,"
    " max(ended_at) OVER (PARTITION BY machine_id, anomaly_type, started_at), anomaly_type,"
    " coalesce(severity, 'warning')::alert_level, severity_value, metric_name,"
    " coalesce(signals, '{}'), fault_id, source"
    " FROM ingest_stage_events WHERE kind IN ('start', 'end', 'failure')"
    " ORDER BY machine_id, anomaly_type, started_at, is_start DESC"
    " ON CONFLICT (machine_id, anomaly_type, detected_at) DO UPDATE SET"
    " resolved_at = coalesce(excluded.resolved_at, a.resolved_at),"
    " severity_value = coalesce(a.severity_value, excluded.severity_value),"
    " metric_name = coalesce(a.metric_name, excluded.metric_name),"
    " fault_id = coalesce(a.fault_id, excluded.fault_id),"
    " source = coalesce(a.source, excluded.source)"
    " WHERE a.resolved_at IS DISTINCT FROM coalesce(excluded.resolved_at, a.resolved_at)"
    " OR (a.fault_id IS NULL AND excluded.fault_id IS NOT NULL)";

// A maintenance that ends restores the component: the failures it covers are resolved then.
// Runs after insert_events, so a failure and its repair in one batch work too.
constexpr const char* resolve_failures =
    "UPDATE anomalies a SET resolved_at = m.time"
    " FROM (SELECT machine_id, component, min(time) AS time FROM ingest_stage_events"
    " WHERE kind = 'maintenance_end' GROUP BY machine_id, component) m"
    " WHERE a.machine_id = m.machine_id AND a.resolved_at IS NULL AND a.detected_at <= m.time"
    " AND a.fault_id IS NULL AND a.anomaly_type LIKE '%\\_failure'"
    " AND (m.component = 'all' OR a.anomaly_type = m.component || '_failure')";

// One row per (machine, work order); start and end of one order in a batch merge, replays
// change nothing.
constexpr const char* upsert_maintenance =
    "INSERT INTO maintenance_events AS e (machine_id, work_order, maintenance_type, component,"
    " started_at, ended_at, health_before, health_after, duration_h)"
    " SELECT machine_id, work_order, max(maintenance_type), coalesce(max(component), 'all'),"
    " min(time) FILTER (WHERE kind = 'maintenance_start'),"
    " max(time) FILTER (WHERE kind = 'maintenance_end'),"
    " coalesce(max(health_before) FILTER (WHERE kind = 'maintenance_start'), max(health_before)),"
    " max(health_after) FILTER (WHERE kind = 'maintenance_end'),"
    " coalesce(max(duration_h) FILTER (WHERE kind = 'maintenance_end'), max(duration_h))"
    " FROM ingest_stage_events WHERE kind IN ('maintenance_start', 'maintenance_end')"
    " GROUP BY machine_id, work_order"
    " ON CONFLICT (machine_id, work_order) DO UPDATE SET"
    " started_at = coalesce(e.started_at, excluded.started_at),"
    " ended_at = coalesce(excluded.ended_at, e.ended_at),"
    " health_before = coalesce(e.health_before, excluded.health_before),"
    " health_after = coalesce(excluded.health_after, e.health_after),"
    " duration_h = coalesce(excluded.duration_h, e.duration_h)"
    " WHERE (e.started_at, e.ended_at, e.health_before, e.health_after, e.duration_h)"
    " IS DISTINCT FROM (coalesce(e.started_at, excluded.started_at),"
    " coalesce(excluded.ended_at, e.ended_at), coalesce(e.health_before, excluded.health_before),"
    " coalesce(excluded.health_after, e.health_after), coalesce(excluded.duration_h, "
    "e.duration_h))";

// Dead letters are stored once per (topic, payload digest): a redelivered or replayed bad
// message adds nothing. The digest of a payload we hold is computed by the database.
constexpr const char* create_rejects_stage =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage_rejects ("
    " received_at timestamptz NOT NULL, topic text NOT NULL, payload bytea NOT NULL,"
    " reason text NOT NULL, detail text, payload_sha256 bytea, payload_bytes bigint,"
    " payload_truncated boolean) ON COMMIT DELETE ROWS";
constexpr const char* insert_rejects =
    "INSERT INTO ingest_rejects (received_at, topic, payload, reason, detail, payload_sha256,"
    " payload_bytes, payload_truncated)"
    " SELECT DISTINCT ON (topic, sha) received_at, topic, payload, reason, detail, sha,"
    " payload_bytes, payload_truncated FROM (SELECT *, coalesce(payload_sha256, sha256(payload))"
    " AS sha FROM ingest_stage_rejects) r ORDER BY topic, sha, received_at"
    " ON CONFLICT (topic, payload_sha256) DO NOTHING";

// T/events into the MANTIS layer (schema %M%): failures and maintenance become
// system_events, failures journal anomalies, maintenance work orders and, once ended,
// maintenance_history; the asset's status follows its newest event. Replays change nothing.
constexpr const char* mantis_event_statements[] = {
    "INSERT INTO %M%.system_events (time, asset_id, event_type, severity, source, message, details)"
    " SELECT e.time, e.machine_id, e.kind, CASE e.kind WHEN 'failure' THEN 'critical' ELSE 'info' "
    "END,"
    " coalesce(nullif(e.source, 'failure'), 'simulator'),"
    " CASE e.kind WHEN 'failure' THEN e.component || ' failed'"
    " ELSE e.maintenance_type || ' maintenance of ' || e.component ||"
    " CASE e.kind WHEN 'maintenance_start' THEN ' started' ELSE ' ended' END END,"
    " jsonb_strip_nulls(jsonb_build_object('component', e.component, 'anomaly_type',"
    " e.anomaly_type, 'work_order', e.work_order, 'maintenance_type', e.maintenance_type,"
    " 'health_before', e.health_before, 'health_after', e.health_after, 'duration_h',"
    " e.duration_h, 'seq', e.seq))"
    " FROM ingest_stage_events e WHERE e.kind IN ('failure', 'maintenance_start', "
    "'maintenance_end')"
    " ON CONFLICT DO NOTHING",
    "INSERT INTO %M%.anomalies (asset_id, detected_at, anomaly_type, severity, source, description)"
    " SELECT e.machine_id, e.time, e.anomaly_type, 'critical', 'simulator', e.component || ' "
    "failed'"
    " FROM ingest_stage_events e JOIN %M%.assets a ON a.id = e.machine_id WHERE e.kind = 'failure'"
    " ON CONFLICT DO NOTHING",
    "INSERT INTO %M%.work_orders AS w (work_order_code, asset_id, title, work_type, priority, "
    "status,"
    " component, actual_start, actual_end, source)"
    " SELECT e.work_order, e.machine_id, max(e.maintenance_type) || ' maintenance: ' ||"
    " coalesce(max(e.component), 'all'), max(e.maintenance_type),"
    " CASE WHEN max(e.maintenance_type) = 'corrective' THEN 'high' ELSE 'medium' END,"
    " CASE WHEN bool_or(e.kind = 'maintenance_end') THEN 'completed' ELSE 'in_progress' END,"
    " max(e.component), min(e.time) FILTER (WHERE e.kind = 'maintenance_start'),"
    " max(e.time) FILTER (WHERE e.kind = 'maintenance_end'), 'simulator'"
    " FROM ingest_stage_events e JOIN %M%.assets a ON a.id = e.machine_id"
    " WHERE e.kind IN ('maintenance_start', 'maintenance_end') GROUP BY e.work_order, e.machine_id"
    " ON CONFLICT (asset_id, work_order_code) DO UPDATE SET"
    " status = CASE WHEN excluded.status = 'completed' THEN 'completed' ELSE w.status END,"
    " actual_start = coalesce(w.actual_start, excluded.actual_start),"
    " actual_end = coalesce(excluded.actual_end, w.actual_end)"
    " WHERE (w.status, w.actual_start, w.actual_end) IS DISTINCT FROM"
    " (CASE WHEN excluded.status = 'completed' THEN 'completed' ELSE w.status END,"
    " coalesce(w.actual_start, excluded.actual_start), coalesce(excluded.actual_end, "
    "w.actual_end))",
    "INSERT INTO %M%.maintenance_history (asset_id, work_order_id, maintenance_type, component,"
    " started_at, completed_at, health_before, health_after, duration_h)"
    " SELECT w.asset_id, w.id, e.maintenance_type, e.component, w.actual_start, e.time,"
    " e.health_before, e.health_after, e.duration_h"
    " FROM ingest_stage_events e JOIN %M%.work_orders w ON w.asset_id = e.machine_id"
    " AND w.work_order_code = e.work_order WHERE e.kind = 'maintenance_end'"
    " ON CONFLICT (work_order_id) DO NOTHING",
    "UPDATE %M%.anomalies a SET resolved_at = m.time"
    " FROM (SELECT machine_id, component, min(time) AS time FROM ingest_stage_events"
    " WHERE kind = 'maintenance_end' GROUP BY machine_id, component) m"
    " WHERE a.asset_id = m.machine_id AND a.resolved_at IS NULL AND a.detected_at <= m.time"
    " AND a.source = 'simulator'"
    " AND (m.component = 'all' OR a.anomaly_type = m.component || '_failure')",
    // Only the asset's newest such event sets its status (a replayed old failure does not).
    "UPDATE %M%.assets a SET status = x.status"
    " FROM (SELECT DISTINCT ON (machine_id) machine_id, time, CASE kind WHEN 'failure' THEN"
    " 'failed' WHEN 'maintenance_start' THEN 'maintenance' ELSE 'operational' END AS status"
    " FROM ingest_stage_events WHERE kind IN ('failure', 'maintenance_start', 'maintenance_end')"
    " ORDER BY machine_id, time DESC, seq DESC NULLS LAST) x"
    " WHERE a.id = x.machine_id AND a.status IS DISTINCT FROM x.status"
    " AND x.time >= (SELECT max(s.time) FROM %M%.system_events s WHERE s.asset_id = a.id"
    " AND s.event_type IN ('failure', 'maintenance_start', 'maintenance_end'))",
};

std::string with_schema(std::string sql, const std::string& quoted_schema) {
  for (std::size_t at; (at = sql.find("%M%")) != std::string::npos;)
    sql.replace(at, 3, quoted_schema);
  return sql;
}

std::string quote_ident(const std::string& name) {
  std::string q = "\"";
  for (const char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

}  // namespace

batch_writer::batch_writer(std::string conninfo, batch_writer_options options)
    : conninfo_(std::move(conninfo)),
      options_(options),
      energy_(table_codec<energy_row>("energy_readings", energy_columns()), options.mode),
      production_(table_codec<production_row>("production_data", production_columns()),
                  options.mode),
      environmental_(table_codec<environmental_row>("environmental_data", environmental_columns()),
                     options.mode),
      truth_(table_codec<truth_row>("health_truth", truth_columns()), options.mode),
      reject_codec_("ingest_stage_rejects", reject_stage_columns()),
      status_codec_("ingest_stage_status", status_stage_columns()),
      event_codec_("ingest_stage_events", event_stage_columns()) {}

batch_writer::~batch_writer() = default;

void batch_writer::connect() {
  db_.reset();
  auto db = std::make_unique<pg_connection>(conninfo_, options_.session);
  // Timestamps are binary (UTC microseconds), so the session time zone does not matter;
  // synchronous_commit stays at the server's setting: a commit is our durability point.
  energy_.prepare(*db);
  production_.prepare(*db);
  environmental_.prepare(*db);
  truth_.prepare(*db);
  db->exec(create_rejects_stage);
  db->exec(create_status_stage);
  db->exec(create_latest_stage);
  db->exec(create_events_stage);
  db_ = std::move(db);
  load_machines();
  prepare_mantis();
}

void batch_writer::prepare_mantis() {
  mantis_schema_.clear();
  narrow_.reset();
  sensors_.clear();
  mantis_event_sql_.clear();
  // db init --profile enms,mantis records the layer's schema next to the EnMS tables.
  const auto rows = db_->query(
      "SELECT value FROM factorysim_settings WHERE key = 'mantis_schema'"
      " AND to_regclass(quote_ident(value) || '.sensor_data_raw') IS NOT NULL");
  if (rows.empty()) return;
  const std::string schema = rows.at(0).at(0);
  const std::string q = quote_ident(schema);
  auto narrow = std::make_unique<copy_writer<narrow_row>>(
      table_codec<narrow_row>(q + ".sensor_data_raw", narrow_columns()), options_.mode);
  narrow->prepare(*db_);
  for (const auto& r :
       db_->query("SELECT asset_id::text, signal_key, id::text FROM " + q + ".sensors")) {
    const auto machine = parse_uuid(r.at(0));
    const auto id = parse_uuid(r.at(2));
    if (!machine || !id) continue;
    for (std::size_t k = 0; k < measured_keys.size(); ++k)
      if (measured_keys[k] == r.at(1)) sensors_[*machine][k] = *id;
  }
  for (const char* sql : mantis_event_statements) mantis_event_sql_.push_back(with_schema(sql, q));
  narrow_ = std::move(narrow);
  mantis_schema_ = schema;
}

const uuid_bytes& batch_writer::sensor_for(const uuid_bytes& machine, std::size_t key) {
  auto& slot = sensors_[machine][key];
  if (!slot) {
    // A key the catalog did not foresee, or a machine added after db init: register it (its
    // id is derived from machine and key, so it is the same whoever creates it).
    const auto rows = db_->query("SELECT " + quote_ident(mantis_schema_) + ".ensure_sensor('" +
                                 to_string(machine) + "'::uuid, '" +
                                 std::string(measured_keys[key]) + "')::text");
    const auto id = parse_uuid(rows.at(0).at(0));
    if (!id) throw std::runtime_error("ensure_sensor returned no uuid");
    slot = *id;
  }
  return *slot;
}

void batch_writer::add_narrow(unix_us t, const uuid_bytes& machine, std::size_t key, double value) {
  if (std::isnan(value)) return;  // not measured in this reading
  narrow_->add(narrow_row{t, sensor_for(machine, key), value});
}

void batch_writer::disconnect() noexcept { db_.reset(); }

spool_target batch_writer::identify() {
  if (!db_) throw pg_error(pg_failure::connection, "", "not connected");
  spool_target t;
  const auto rows = db_->query("SELECT current_database(), coalesce(current_schema(), '')");
  t.database = rows.at(0).at(0);
  t.schema = rows.at(0).at(1);
  t.address = db_->address();
  // pg_control_system() may be closed to our role (or missing on a PostgreSQL-compatible
  // engine): then the cluster stays unknown and the address stands in for it.
  try {
    const auto id = db_->query("SELECT system_identifier::text FROM pg_control_system()");
    if (!id.empty()) t.system_identifier = id.at(0).at(0);
  } catch (const pg_error& e) {
    if (e.kind() == pg_failure::connection) throw;
  }
  return t;
}

bool batch_writer::connected() const noexcept { return db_ && db_->ok(); }

void batch_writer::load_machines() {
  const auto rows = db_->query("SELECT id::text FROM machines");
  std::unordered_set<uuid_bytes, uuid_hash> ids;
  for (const auto& r : rows)
    if (auto id = parse_uuid(r.at(0))) ids.insert(*id);
  machines_ = std::move(ids);
  machines_loaded_at_ = std::chrono::steady_clock::now();
}

void batch_writer::check_machines(std::span<pending_message> batch) {
  bool refreshed = false;
  for (auto& m : batch) {
    const auto* row = std::get_if<decoded_row>(&m.result);
    if (!row) continue;
    const auto& id = header_of(*row).machine_id;
    if (machines_.contains(id)) continue;
    if (!refreshed &&
        std::chrono::steady_clock::now() - machines_loaded_at_ >= options_.machine_refresh_interval) {
      load_machines();
      refreshed = true;
      if (machines_.contains(id)) continue;
    }
    m.result = reject{reject_reason::unknown_machine,
                      "machine_id " + to_string(id) + " is not in the machines table"};
  }
}

batch_outcome batch_writer::write(std::span<pending_message> batch) {
  if (!db_) throw pg_error(pg_failure::connection, "", "not connected");
  check_machines(batch);
  batch_outcome out;
  write_split(batch, out, options_.mode == write_mode::staged);
  return out;
}

void batch_writer::write_split(std::span<pending_message> batch, batch_outcome& out,
                               bool staged) {
  if (batch.empty()) return;
  try {
    write_once(batch, out, staged);
    return;
  } catch (const pg_error& e) {
    if (e.kind() != pg_failure::data) throw;
    // If ROLLBACK fails the connection went away in between: the caller reconnects.
    db_->exec("ROLLBACK");
    if (e.sqlstate() == "23505" && !staged && options_.mode == write_mode::optimistic) {
      // A redelivered message: redo this batch through the staging tables, which drop it.
      ++out.staged_retries;
      write_split(batch, out, true);
      return;
    }
    if (batch.size() == 1) {
      auto& m = batch[0];
      // Already a reject and still refused: ingest_rejects itself is broken; retrying cannot
      // help, and dropping silently is not allowed. Surface it.
      if (std::holds_alternative<reject>(m.result)) throw;
      m.result = reject{reject_reason::database_rejected, e.sqlstate() + ": " + e.what()};
      write_once(batch, out, staged);
      return;
    }
  }
  ++out.splits;
  const std::size_t half = batch.size() / 2;
  write_split(batch.first(half), out, staged);
  write_split(batch.subspan(half), out, staged);
}

void batch_writer::write_once(std::span<pending_message> batch, batch_outcome& out,
                              bool staged) {
  batch_outcome mine;
  status_buffer_.clear();
  events_buffer_.clear();
  energy_.clear();
  production_.clear();
  environmental_.clear();
  truth_.clear();
  if (narrow_) narrow_->clear();
  rejects_buffer_.clear();
  latest_.clear();
  for (const auto& m : batch) {
    if (const auto* rej = std::get_if<reject>(&m.result)) {
      ++mine.rejects[static_cast<std::size_t>(rej->reason)];
      // Topic and detail go to text columns: they must be valid UTF-8 whatever came in.
      if (rejects_buffer_.tuples() == 0) rejects_buffer_.begin();
      reject_codec_.encode(
          rejects_buffer_,
          reject_row{m.received_us, json::sanitize_utf8(m.topic), m.payload,
                     std::string(to_string(rej->reason)), json::sanitize_utf8(rej->detail),
                     m.truncated ? m.payload_sha256 : std::string(),
                     static_cast<std::int64_t>(m.truncated ? m.payload_bytes : m.payload.size()),
                     m.truncated});
      continue;
    }
    const auto& row = std::get<decoded_row>(m.result);
    ++mine.messages[row.index()];
    switch (static_cast<stream>(row.index())) {
      case stream::energy: {
        const auto& e = std::get<energy_row>(row);
        energy_.add(e);
        auto [it, fresh] = latest_.try_emplace(e.h.machine_id, e);
        if (!fresh && it->second.h.time_us < e.h.time_us) it->second = e;
        if (narrow_) {
          const double v[] = {e.power_kw,     e.energy_kwh,   e.energy_total_kwh,
                              e.voltage_v,    e.current_a,    e.power_factor,
                              e.frequency_hz, e.current_l1_a, e.current_l2_a,
                              e.current_l3_a};
          static_assert(std::size(v) == energy_measured_keys);
          for (std::size_t k = 0; k < std::size(v); ++k)
            add_narrow(e.h.time_us, e.h.machine_id, k, v[k]);
        }
        break;
      }
      case stream::production: {
        const auto& p = std::get<production_row>(row);
        production_.add(p);
        if (narrow_) {
          const auto count = [](const std::optional<std::int64_t>& c) {
            return c ? static_cast<double>(*c) : missing;
          };
          const double v[] = {count(p.production_count), count(p.production_count_good),
                              count(p.production_count_bad), p.throughput_units_per_hour,
                              p.speed_percent};
          for (std::size_t k = 0; k < std::size(v); ++k)
            add_narrow(p.h.time_us, p.h.machine_id, energy_measured_keys + k, v[k]);
        }
        break;
      }
      case stream::environmental: {
        const auto& en = std::get<environmental_row>(row);
        environmental_.add(en);
        if (narrow_)
          for (std::size_t k = 0; k < en.values.size(); ++k)
            add_narrow(en.h.time_us, en.h.machine_id,
                       energy_measured_keys + production_measured_keys + k, en.values[k]);
        break;
      }
      case stream::status:
        if (status_buffer_.tuples() == 0) status_buffer_.begin();
        status_codec_.encode(status_buffer_, std::get<status_row>(row));
        break;
      case stream::events:
        if (events_buffer_.tuples() == 0) events_buffer_.begin();
        event_codec_.encode(events_buffer_, std::get<event_row>(row));
        break;
      case stream::truth:
        truth_.add(std::get<truth_row>(row));
        break;
    }
  }
  db_->exec("BEGIN");
  mine.inserted[static_cast<std::size_t>(stream::energy)] = energy_.flush(*db_, staged).inserted;
  mine.inserted[static_cast<std::size_t>(stream::production)] =
      production_.flush(*db_, staged).inserted;
  mine.inserted[static_cast<std::size_t>(stream::environmental)] =
      environmental_.flush(*db_, staged).inserted;
  mine.inserted[static_cast<std::size_t>(stream::truth)] = truth_.flush(*db_, staged).inserted;
  if (narrow_) mine.mantis_rows = narrow_->flush(*db_, staged).inserted;
  if (!latest_.empty()) {
    latest_buffer_.clear();
    latest_buffer_.begin();
    for (const auto& [id, e] : latest_) {
      latest_buffer_.tuple(4);
      latest_buffer_.put_uuid(id);
      latest_buffer_.put_timestamptz(e.h.time_us);
      latest_buffer_.put_float8_or_null(e.power_kw);
      latest_buffer_.put_float8_or_null(e.energy_total_kwh);
    }
    latest_buffer_.finish();
    db_->copy_in(
        "COPY ingest_stage_latest (machine_id, time, power_kw, energy_total_kwh)"
        " FROM STDIN (FORMAT binary)",
        latest_buffer_.data());
    db_->exec(upsert_latest);
  }
  if (status_buffer_.tuples() > 0) {
    status_buffer_.finish();
    db_->copy_in("COPY ingest_stage_status (" + status_codec_.column_list() +
                     ") FROM STDIN (FORMAT binary)",
                 status_buffer_.data());
    mine.inserted[static_cast<std::size_t>(stream::status)] = db_->exec(upsert_status);
  }
  if (events_buffer_.tuples() > 0) {
    events_buffer_.finish();
    db_->copy_in("COPY ingest_stage_events (" + event_codec_.column_list() +
                     ") FROM STDIN (FORMAT binary)",
                 events_buffer_.data());
    // Counted as rows of anomalies and maintenance_events that changed.
    mine.inserted[static_cast<std::size_t>(stream::events)] =
        db_->exec(insert_events) + db_->exec(upsert_maintenance);
    db_->exec(resolve_failures);
    for (const auto& sql : mantis_event_sql_) db_->exec(sql);
  }
  if (rejects_buffer_.tuples() > 0) {
    rejects_buffer_.finish();
    db_->copy_in("COPY ingest_stage_rejects (" + reject_codec_.column_list() +
                     ") FROM STDIN (FORMAT binary)",
                 rejects_buffer_.data());
    db_->exec(insert_rejects);
  }
  db_->exec("COMMIT");
  ++mine.transactions;
  for (std::size_t i = 0; i < stream_count; ++i) {
    out.messages[i] += mine.messages[i];
    out.inserted[i] += mine.inserted[i];
  }
  for (std::size_t i = 0; i < reject_reason_count; ++i) out.rejects[i] += mine.rejects[i];
  out.transactions += mine.transactions;
  out.mantis_rows += mine.mantis_rows;
}

}  // namespace factorysim::ingest
