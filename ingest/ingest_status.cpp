#include "ingest/ingest_status.hpp"

#include <algorithm>
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
  const auto rejects = now.total_rejected();
  s << " | received " << now.received << " new rows " << now.total_inserted() << " batches "
    << now.transactions << " rejects " << rejects << " (+"
    << rejects - previous.total_rejected() << ") queue " << now.queued << " unacked "
    << now.unacknowledged << " spool " << now.spool_batches << " batches/"
    << now.spool_bytes / 1024 << " KiB db " << (now.db_up ? "up" : "DOWN") << " mqtt "
    << (now.mqtt_connected ? "up" : "DOWN");
  if (now.sessions_lost > 0) s << " sessions lost " << now.sessions_lost;
  if (!lag.empty()) s << ' ' << lag;
  return s.str();
}

std::string format_summary(const ingest_snapshot& s) {
  std::ostringstream r;
  r << "done: received " << s.received << ", stored " << s.total_stored() << " ("
    << s.total_inserted() << " new rows), rejected " << s.total_rejected();
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

}  // namespace factorysim::ingest
