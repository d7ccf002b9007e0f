#include "ingest/batch_writer.hpp"

#include <cstring>

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

// The newest status per machine wins; an older one (a late redelivery) never overwrites a
// newer state.
constexpr const char* upsert_status =
    "INSERT INTO machine_status AS s (machine_id, time, is_running, operating_mode,"
    " current_power_kw, energy_total_kwh, seq, last_seen, updated_at)"
    " SELECT DISTINCT ON (machine_id) machine_id, time, is_running,"
    " operating_mode::operating_mode, current_power_kw, energy_total_kwh, seq, now(), now()"
    " FROM ingest_stage_status ORDER BY machine_id, time DESC, seq DESC NULLS LAST"
    " ON CONFLICT (machine_id) DO UPDATE SET time = excluded.time,"
    " is_running = excluded.is_running, operating_mode = excluded.operating_mode,"
    " current_power_kw = coalesce(excluded.current_power_kw, s.current_power_kw),"
    " energy_total_kwh = coalesce(excluded.energy_total_kwh, s.energy_total_kwh),"
    " seq = excluded.seq, last_seen = excluded.last_seen"
    " WHERE s.time <= excluded.time";

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
  db->exec(create_events_stage);
  db_ = std::move(db);
  load_machines();
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
  rejects_buffer_.clear();
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
      case stream::energy: energy_.add(std::get<energy_row>(row)); break;
      case stream::production: production_.add(std::get<production_row>(row)); break;
      case stream::environmental: environmental_.add(std::get<environmental_row>(row)); break;
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
}

}  // namespace factorysim::ingest
