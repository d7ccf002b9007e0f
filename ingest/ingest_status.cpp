#include "ingest/ingest_status.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace factorysim::ingest {

std::uint64_t ingest_snapshot::total_inserted() const noexcept {
  std::uint64_t n = 0;
  for (const auto v : inserted) n += v;
  return n;
}

std::uint64_t ingest_snapshot::total_rejected() const noexcept {
  std::uint64_t n = 0;
  for (const auto v : rejects) n += v;
  return n;
}

std::uint64_t ingest_snapshot::total_stored() const noexcept {
  std::uint64_t n = 0;
  for (const auto v : messages) n += v;
  return n;
}

std::string format_status_line(const ingest_snapshot& now, const ingest_snapshot& previous,
                               double interval_s, const std::string& lag) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(0);
  s << "rows/s";
  for (std::size_t i = 0; i < stream_count; ++i)
    s << ' ' << to_string(static_cast<stream>(i)) << ' '
      << static_cast<double>(now.inserted[i] - previous.inserted[i]) / std::max(interval_s, 1e-3);
  // The MANTIS layer's narrow rows are rows of their own table, not of a stream: listed
  // beside the streams, and left out of "new rows" so that it keeps counting EnMS rows.
  if (now.narrow || now.narrow_rows > 0)
    s << " sensor_raw "
      << static_cast<double>(now.narrow_rows - previous.narrow_rows) / std::max(interval_s, 1e-3);
  const auto rejects = now.total_rejected();
  s << " | received " << now.received << " new rows " << now.total_inserted() << " batches "
    << now.transactions << " rejects " << rejects << " (+"
    << rejects - previous.total_rejected() << ") queue " << now.queued << " unacked "
    << now.unacknowledged << " spool " << now.spool_batches << " batches/"
    << now.spool_bytes / 1024 << " KiB db " << (now.db_up ? "up" : "DOWN") << " mqtt "
    << (now.mqtt_connected ? "up" : "DOWN");
  if (now.sessions_lost > 0) s << " sessions lost " << now.sessions_lost;
  if (!lag.empty()) s << ' ' << lag;
  if (now.stamped > 0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, " | p99 received %.1f ms committed %.1f ms",
                  static_cast<double>(now.publish_to_received.percentile_us(0.99)) / 1e3,
                  static_cast<double>(now.publish_to_committed.percentile_us(0.99)) / 1e3);
    s << buf;
  }
  if (now.accounting.tracked > 0)
    s << (now.stamped > 0 ? "" : " |") << " lost " << now.accounting.lost << " dup "
      << now.accounting.duplicates << " reord " << now.accounting.reordered;
  return s.str();
}

std::string format_summary(const ingest_snapshot& s) {
  std::ostringstream r;
  r << "done: received " << s.received << ", stored " << s.total_stored() << " ("
    << s.total_inserted() << " new rows";
  if (s.narrow || s.narrow_rows > 0) r << ", " << s.narrow_rows << " narrow rows";
  r << "), rejected " << s.total_rejected();
  bool first = true;
  for (std::size_t i = 0; i < reject_reason_count; ++i) {
    if (s.rejects[i] == 0) continue;
    r << (first ? " [" : ", ") << to_string(static_cast<reject_reason>(i)) << ' ' << s.rejects[i];
    first = false;
  }
  if (!first) r << ']';
  r << ", " << s.transactions << " transactions, " << s.splits << " splits, " << s.staged_retries
    << " batches redone staged, " << s.spooled_batches << " batches spooled, "
    << s.spool_batches << " left in the spool";
  if (s.oversized > 0) r << ", " << s.oversized << " oversized messages read past";
  if (s.sessions_lost > 0)
    r << ", " << s.sessions_lost << " reconnects found the broker had lost our session";
  return r.str();
}

namespace {

/// Histogram bucket bounds for /metrics, in seconds and in microseconds: 0.5 ms .. 5 min.
struct prometheus_bound {
  const char* le;
  std::int64_t us;
};
constexpr prometheus_bound prometheus_bounds[] = {
    {"0.0005", 500},      {"0.001", 1000},       {"0.0025", 2500},      {"0.005", 5000},
    {"0.01", 10000},      {"0.025", 25000},      {"0.05", 50000},       {"0.1", 100000},
    {"0.25", 250000},     {"0.5", 500000},       {"1", 1000000},        {"2.5", 2500000},
    {"5", 5000000},       {"10", 10000000},      {"30", 30000000},      {"60", 60000000},
    {"300", 300000000}};

void metric(std::ostringstream& o, const char* name, const char* type, const char* help,
            std::uint64_t value) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
    << name << ' ' << value << '\n';
}

void histogram(std::ostringstream& o, const char* name, const char* help,
               const latency_histogram& h) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
  for (const auto& b : prometheus_bounds)
    o << name << "_bucket{le=\"" << b.le << "\"} " << h.count_at_or_below(b.us) << '\n';
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6f", h.sum_us() / 1e6);
  o << name << "_bucket{le=\"+Inf\"} " << h.count() << '\n'
    << name << "_sum " << sum << '\n'
    << name << "_count " << h.count() << '\n';
}

nlohmann::json latency_json(const latency_histogram& h) {
  const auto ms = [](std::int64_t us) { return static_cast<double>(us) / 1e3; };
  return {{"count", h.count()},
          {"p50", ms(h.percentile_us(0.5))},
          {"p90", ms(h.percentile_us(0.9))},
          {"p99", ms(h.percentile_us(0.99))},
          {"p999", ms(h.percentile_us(0.999))},
          {"min", ms(h.min_us())},
          {"max", ms(h.max_us())},
          {"mean", h.mean_us() / 1e3},
          {"negative", h.negative()},
          {"clamped", h.clamped()}};
}

nlohmann::json buckets_json(const latency_histogram& h) {
  // Sparse: only the buckets holding something.
  nlohmann::json lower = nlohmann::json::array(), counts = nlohmann::json::array();
  for (std::size_t i = 0; i < latency_histogram::bucket_count(); ++i) {
    if (h.count_in(i) == 0) continue;
    lower.push_back(latency_histogram::bucket_lower_us(i));
    counts.push_back(h.count_in(i));
  }
  return {{"lower_bounds_us", std::move(lower)}, {"counts", std::move(counts)}};
}

}  // namespace

std::string render_prometheus(const ingest_snapshot& s) {
  std::ostringstream o;
  metric(o, "factorysim_ingest_received_messages_total", "counter",
         "Messages handed over by the broker.", s.received);
  metric(o, "factorysim_ingest_committed_rows_total", "counter",
         "New rows committed to the tables (redelivered duplicates excluded).",
         s.total_inserted());
  metric(o, "factorysim_ingest_narrow_rows_total", "counter",
         "New rows committed to the MANTIS layer's sensor_data_raw (one per measured signal).",
         s.narrow_rows);
  metric(o, "factorysim_ingest_stored_messages_total", "counter",
         "Valid messages committed, duplicates dropped by the database included.",
         s.total_stored());
  metric(o, "factorysim_ingest_lost_messages_total", "counter",
         "Gaps in seq per machine and stream so far (a late message that fills one lowers it).",
         s.accounting.lost);
  metric(o, "factorysim_ingest_duplicate_messages_total", "counter",
         "Messages whose seq was seen before on their machine and stream.",
         s.accounting.duplicates);
  metric(o, "factorysim_ingest_reordered_messages_total", "counter",
         "Messages that filled a gap below the highest seq seen.", s.accounting.reordered);
  metric(o, "factorysim_ingest_rejected_messages_total", "counter",
         "Messages set aside as dead letters.", s.total_rejected());
  metric(o, "factorysim_ingest_untracked_messages_total", "counter",
         "Valid messages without a seq (or beyond the tracked-stream cap).",
         s.accounting.untracked);
  metric(o, "factorysim_ingest_stamped_messages_total", "counter",
         "Messages carrying the fs-sched-us user property.", s.stamped);
  metric(o, "factorysim_ingest_transactions_total", "counter", "Transactions committed.",
         s.transactions);
  metric(o, "factorysim_ingest_queue_messages", "gauge",
         "Messages received and not yet taken into a batch.", s.queued);
  metric(o, "factorysim_ingest_unacknowledged_messages", "gauge",
         "Messages handed over and not yet acknowledged to the broker.", s.unacknowledged);
  metric(o, "factorysim_ingest_spool_batches", "gauge", "Batches waiting in the spool.",
         s.spool_batches);
  metric(o, "factorysim_ingest_streams", "gauge", "Machine and stream pairs tracked.",
         s.accounting.streams);
  metric(o, "factorysim_ingest_database_up", "gauge", "1 while the database is connected.",
         s.db_up ? 1 : 0);
  metric(o, "factorysim_ingest_mqtt_connected", "gauge", "1 while the broker is connected.",
         s.mqtt_connected ? 1 : 0);
  histogram(o, "factorysim_ingest_publish_to_received_seconds",
            "From the scheduled send time (fs-sched-us) to the message's arrival.",
            s.publish_to_received);
  histogram(o, "factorysim_ingest_publish_to_committed_seconds",
            "From the scheduled send time (fs-sched-us) to its batch's commit.",
            s.publish_to_committed);
  histogram(o, "factorysim_ingest_send_delay_seconds",
            "Actual minus scheduled send time (fs-sent-us - fs-sched-us).", s.send_delay);
  return o.str();
}

std::string render_summary_json(const ingest_snapshot& s) {
  nlohmann::json j;
  j["received"] = s.received;
  j["committed_rows"] = s.total_inserted();
  j["narrow_rows"] = s.narrow_rows;
  j["stored"] = s.total_stored();
  j["lost"] = s.accounting.lost;
  j["duplicates"] = s.accounting.duplicates;
  j["reordered"] = s.accounting.reordered;
  j["rejected"] = s.total_rejected();
  j["untracked"] = s.accounting.untracked;
  j["stamped"] = s.stamped;
  j["queued"] = s.queued;
  j["spool_batches"] = s.spool_batches;
  j["latency"] = {{"publish_to_received_ms", latency_json(s.publish_to_received)},
                  {"publish_to_committed_ms", latency_json(s.publish_to_committed)},
                  {"send_delay_ms", latency_json(s.send_delay)}};
  j["histograms"] = {{"publish_to_received_ms", buckets_json(s.publish_to_received)},
                     {"publish_to_committed_ms", buckets_json(s.publish_to_committed)},
                     {"send_delay_ms", buckets_json(s.send_delay)}};
  nlohmann::json streams = nlohmann::json::array();
  for (const auto& f : s.streams)
    streams.push_back({{"machine_id", f.machine_id},
                       {"stream", std::string(to_string(f.s))},
                       {"received", f.received},
                       {"first_seq", f.first_seq},
                       {"last_seq", f.last_seq},
                       {"lost", f.lost},
                       {"duplicates", f.duplicates},
                       {"reordered", f.reordered},
                       {"beyond_window", f.beyond_window}});
  j["streams"] = std::move(streams);
  return j.dump(2) + "\n";
}

}  // namespace factorysim::ingest
