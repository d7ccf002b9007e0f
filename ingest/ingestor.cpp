#include "ingest/ingestor.hpp"

#include <libpq-fe.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <span>
#include <thread>
#include <vector>

#include "ingest/batch_writer.hpp"
#include "ingest/ingest_status.hpp"
#include "ingest/latency_histogram.hpp"
#include "ingest/metrics_server.hpp"
#include "ingest/spool.hpp"
#include "ingest/stream_accounting.hpp"
#include "mqtt/backoff.hpp"
#include "mqtt/subscriber.hpp"

namespace factorysim::ingest {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How much of a payload too large to store is kept in the dead letter, beside its size and
/// SHA-256.
constexpr std::size_t dead_letter_prefix_bytes = 4096;

unix_us wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sha256_of(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (const char c : bytes) {
    s += digits[(static_cast<unsigned char>(c) >> 4) & 0xf];
    s += digits[static_cast<unsigned char>(c) & 0xf];
  }
  return s;
}

/// What a connection string names, for a spool begun before the database could be reached.
spool_target target_of_conninfo(const std::string& conninfo, const std::string& schema) {
  spool_target t;
  t.schema = schema;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return t;
  std::string host, port;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view k = o->keyword;
    if (k == "dbname") t.database = o->val;
    if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    if (k == "port") port = o->val;
  }
  PQconninfoFree(options);
  if (!host.empty() || !port.empty()) t.address = host + ":" + (port.empty() ? "5432" : port);
  return t;
}

// Counters the writer updates and the status line reads.
struct counters {
  std::atomic<std::uint64_t> received{0};
  std::array<std::atomic<std::uint64_t>, stream_count> messages{};
  std::array<std::atomic<std::uint64_t>, stream_count> inserted{};
  std::array<std::atomic<std::uint64_t>, reject_reason_count> rejects{};
  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> narrow_rows{0};
  std::atomic<bool> narrow{false};  ///< the database has the MANTIS layer
  std::atomic<std::uint64_t> splits{0};
  std::atomic<std::uint64_t> staged_retries{0};
  std::atomic<std::uint64_t> spooled_batches{0};
  std::atomic<std::uint64_t> replayed_batches{0};
  std::atomic<std::uint64_t> spool_files{0};
  std::atomic<std::uint64_t> spool_bytes{0};
  std::atomic<bool> db_up{false};
  std::mutex lag_mutex;
  std::vector<std::int64_t> lag_us;  ///< since the last status line
};

/// Issue 9: latencies from the in-band timing and the seq accounting. Each half has one
/// writer thread and takes its lock once per read or batch; the views copy under the locks.
struct measurement {
  std::mutex received_mutex;  ///< the subscriber's thread records
  stream_accounting accounting;
  latency_histogram publish_to_received;
  latency_histogram send_delay;
  std::uint64_t stamped = 0;
  std::mutex committed_mutex;  ///< the writer thread records
  latency_histogram publish_to_committed;
};

/// A user property holding a decimal integer (µs), or 0 when absent or malformed.
unix_us us_property(std::string_view properties, std::string_view name) {
  const auto v = mqtt::find_user_property(properties, name);
  if (!v) return 0;
  unix_us us = 0;
  const auto r = std::from_chars(v->data(), v->data() + v->size(), us);
  return r.ec == std::errc{} && r.ptr == v->data() + v->size() ? us : 0;
}

/// The broker's in-flight window for these options (0 = unlimited).
std::uint32_t inflight_window(const ingest_options& o) {
  if (o.mqtt_version == mqtt::protocol::v5)
    return std::clamp<std::uint32_t>(o.max_inflight.value_or(65535), 1, 65535);
  return o.max_inflight.value_or(20);  // mosquitto's max_inflight_messages default
}

class ingestor {
 public:
  ingestor(const ingest_options& o, std::ostream& log)
      : o_(o),
        log_(log),
        capacity_(o.queue_capacity ? o.queue_capacity : 2 * std::max<std::size_t>(o.batch_rows, 1)),
        window_(inflight_window(o)),
        batch_rows_(std::max<std::size_t>(o.batch_rows, 1)),
        // Acknowledging after the commit, once the window is full the broker sends nothing
        // more until we acknowledge: waiting for a fuller batch would only stall.
        flush_at_(o.ack == ack_policy::durable && window_ > 0
                      ? std::min<std::size_t>(batch_rows_, window_)
                      : batch_rows_),
        writer_(o.db, batch_writer_options{o.mode, o.db_session, std::chrono::milliseconds(1000)}),
        spool_(o.spool_dir.empty() ? default_spool_dir(o.client_id) : o.spool_dir,
               o.spool_max_bytes),
        db_backoff_(milliseconds(100), milliseconds(10000)) {
    c_.spool_files = spool_.batches();
    c_.spool_bytes = spool_.bytes();
  }
  ~ingestor() {
    metrics_.reset();  // its thread reads snapshots, which read the subscriber
    if (mqtt_) mqtt_->stop();
  }

  ingest_summary run(const std::atomic<bool>& stop);

 private:
  bool on_messages(std::span<const mqtt::message_view> messages, std::uint64_t first_seq);
  void acknowledge(const std::vector<pending_message>& batch);
  void start_mqtt();
  void stop_consuming();
  void writer_loop();
  bool collect(std::vector<pending_message>& batch);
  void commit(std::vector<pending_message>& batch);
  bool try_connect();
  void check_target();
  bool replay_some();
  void account(const batch_outcome& out, std::span<const pending_message> batch);
  void database_lost(const pg_error& e, const std::string& what);
  ingest_snapshot snapshot(bool with_streams = false);
  void print_status(double interval_s);
  void measure_received(std::span<const mqtt::message_view> messages,
                        std::span<pending_message> decoded, unix_us now);
  void write_summary_json();
  void say(const std::string& line) {
    std::lock_guard lock(log_mutex_);
    log_ << "ingest: " << line << std::endl;
  }

  const ingest_options& o_;
  std::ostream& log_;
  std::mutex log_mutex_;
  std::size_t capacity_;
  std::uint32_t window_;    ///< broker's in-flight window, 0 = unlimited
  std::size_t batch_rows_;  ///< most messages in one batch
  std::size_t flush_at_;    ///< a batch is flushed at once when this many messages wait
  batch_writer writer_;
  spool spool_;
  counters c_;
  measurement measure_;
  std::unique_ptr<metrics_server> metrics_;
  std::unique_ptr<mqtt::subscriber> mqtt_;
  clock::time_point started_ = clock::now();

  std::mutex queue_mutex_;
  std::condition_variable not_empty_;
  std::deque<pending_message> queue_;
  bool reading_paused_ = false;     ///< the subscriber waits for room in the queue
  bool consuming_stopped_ = false;  ///< no more messages are queued: drain and finish
  bool accept_after_stop_ = false;  ///< shutting down (ack received): queue what comes
  std::atomic<clock::rep> last_message_at_{0};
  std::atomic<bool> writer_failed_{false};
  std::string writer_error_;

  /// Paces database reconnects. Reset only by a committed write: a database that accepts
  /// connections and then fails every statement must not be retried ten times a second.
  mqtt::backoff db_backoff_;
  clock::time_point next_attempt_{};
  std::string last_db_error_;
  bool target_checked_ = false;
  ingest_snapshot last_status_;
};

bool ingestor::on_messages(std::span<const mqtt::message_view> messages,
                           std::uint64_t first_seq) {
  // Decoded here, on the network thread, so the writer thread only batches and commits.
  std::vector<pending_message> decoded(messages.size());
  const unix_us now = wall_now_us();
  decode_options d = o_.decode;
  d.now_us = now;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& v = messages[i];
    pending_message& m = decoded[i];
    m.topic.assign(v.topic);
    m.received_us = now;
    m.delivery_seq = first_seq + i;
    if (v.oversized) {
      // Read past by the subscriber: never held whole, kept as prefix, size and digest.
      m.truncated = true;
      m.payload_bytes = v.payload_bytes;
      m.payload_sha256.assign(reinterpret_cast<const char*>(v.payload_sha256.data()), 32);
      m.payload.assign(v.payload.substr(0, dead_letter_prefix_bytes));
      m.result = reject{reject_reason::oversized,
                        "payload of " + std::to_string(v.payload_bytes) + " bytes (limit " +
                            std::to_string(o_.decode.max_payload_bytes) + "), sha256 " +
                            hex(m.payload_sha256) + "; the first " +
                            std::to_string(m.payload.size()) + " bytes are kept"};
      continue;
    }
    m.result = decode_message(m.topic, v.payload, d);
    const auto* r = std::get_if<reject>(&m.result);
    if (r != nullptr && r->reason == reject_reason::oversized) {
      m.truncated = true;
      m.payload_bytes = v.payload.size();
      m.payload_sha256 = sha256_of(v.payload);
      m.payload.assign(v.payload.substr(0, dead_letter_prefix_bytes));
    } else {
      m.payload.assign(v.payload);
    }
  }
  measure_received(messages, decoded, now);
  last_message_at_ = clock::now().time_since_epoch().count();
  bool wake_writer = false;
  bool keep_reading = true;
  {
    std::lock_guard lock(queue_mutex_);
    // Shutting down (ack durable): these are never acknowledged; the broker keeps them.
    if (consuming_stopped_ && !accept_after_stop_) {
      reading_paused_ = true;
      return false;
    }
    const bool was_empty = queue_.empty();
    for (auto& m : decoded) queue_.push_back(std::move(m));
    // The writer sleeps until the queue holds a batch or its oldest message is due; only
    // those two events need a wake-up, not every message.
    wake_writer = was_empty || queue_.size() >= flush_at_;
    // Full: stop reading, so that the broker holds further messages for our session
    // instead of us holding them in memory. (One read's worth may go past capacity.)
    if (queue_.size() >= capacity_ && !accept_after_stop_) {
      reading_paused_ = true;
      keep_reading = false;
    }
  }
  if (wake_writer) not_empty_.notify_one();
  c_.received += messages.size();
  return keep_reading;
}

void ingestor::measure_received(std::span<const mqtt::message_view> messages,
                                std::span<pending_message> decoded, unix_us now) {
  std::lock_guard lock(measure_.received_mutex);
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    pending_message& m = decoded[i];
    // Unstamped runs carry no properties at all: one emptiness test per message.
    if (!messages[i].properties.empty()) {
      m.scheduled_us = us_property(messages[i].properties, "fs-sched-us");
      if (m.scheduled_us != 0) {
        ++measure_.stamped;
        measure_.publish_to_received.record(now - m.scheduled_us);
        if (const unix_us sent = us_property(messages[i].properties, "fs-sent-us"); sent != 0)
          measure_.send_delay.record(sent - m.scheduled_us);
      }
    }
    const auto* row = std::get_if<decoded_row>(&m.result);
    if (row == nullptr) continue;  // dead letters have no trustworthy machine or seq
    // A retained T/status the broker hands over on subscribing is the last run's history:
    // accounted, its seq would make this run's first statuses look reordered and duplicated.
    if (messages[i].retained) continue;
    if (const auto s = stream_of_topic(m.topic)) {
      const row_header& h = header_of(*row);
      measure_.accounting.observe(h.machine_id, *s, h.seq);
    }
  }
}

void ingestor::acknowledge(const std::vector<pending_message>& batch) {
  // FIFO from the subscriber to here, so the last message of a batch has its highest number
  // and everything before it is committed or spooled too.
  if (o_.ack == ack_policy::durable && !batch.empty() && batch.back().delivery_seq > 0)
    mqtt_->acknowledge_through(batch.back().delivery_seq);
}

void ingestor::start_mqtt() {
  mqtt::subscriber_options s;
  s.host = o_.mqtt_host;
  s.port = o_.mqtt_port;
  s.client_id = o_.client_id;
  s.username = o_.username;
  s.password = o_.password;
  mqtt::load_credentials(s, o_.credentials_file);
  s.tls = o_.tls;
  s.keepalive_s = o_.keepalive_s;
  // --group needs MQTT v5 ($share/...); v5 also needs a session expiry to keep the session.
  s.version = o_.mqtt_version;
  s.receive_maximum =
      o_.mqtt_version == mqtt::protocol::v5 ? static_cast<std::uint16_t>(window_) : 0;
  s.acknowledge_on_handover = o_.ack == ack_policy::received;
  s.filter = o_.group.empty() ? o_.topic : "$share/" + o_.group + "/" + o_.topic;
  // A packet may hold the largest payload we store, a topic of up to 64 KiB and headers;
  // anything bigger is read past (kept as a dead letter with its digest), never buffered.
  s.max_inbound_packet_bytes = o_.decode.max_payload_bytes + 65535 + 1024;
  mqtt::subscriber_handlers h;
  h.on_messages = [this](std::span<const mqtt::message_view> m, std::uint64_t first) {
    return on_messages(m, first);
  };
  h.on_log = [this](const std::string& line) { say(line); };
  mqtt_ = std::make_unique<mqtt::subscriber>(std::move(s), std::move(h));
}

void ingestor::stop_consuming() {
  if (o_.ack == ack_policy::received) {
    // What the subscriber hands over is acknowledged on the spot, so it must all be queued
    // and flushed: stop the subscriber first, then let the writer drain.
    {
      std::lock_guard lock(queue_mutex_);
      accept_after_stop_ = true;
    }
    if (mqtt_) {
      mqtt_->resume();
      mqtt_->stop();
    }
  }
  // ack durable: the subscriber stays connected to send the acknowledgements of the last
  // batches; what it hands over from now on is refused, unacknowledged, and comes again.
  {
    std::lock_guard lock(queue_mutex_);
    consuming_stopped_ = true;
  }
  not_empty_.notify_all();
}

void ingestor::database_lost(const pg_error& e, const std::string& what) {
  say(what + " (" + e.what() + ")");
  writer_.disconnect();
  c_.db_up = false;
  last_db_error_ = e.what();
  next_attempt_ = clock::now() + db_backoff_.next();
}

bool ingestor::try_connect() {
  if (clock::now() < next_attempt_) return false;
  try {
    writer_.connect();
  } catch (const std::exception& e) {
    // pg_error: unreachable or failing; runtime_error: a schema problem (a missing table or
    // column). Either way the batches wait in the spool, and retrying soon cannot help.
    const auto wait = db_backoff_.next();
    if (last_db_error_ != e.what()) {
      say(std::string("database unavailable, spooling to ") + spool_.dir().string() + ": " +
          e.what() + "; retrying in " + std::to_string(wait.count()) + " ms, backing off");
      last_db_error_ = e.what();
    }
    writer_.disconnect();
    c_.db_up = false;
    next_attempt_ = clock::now() + wait;
    return false;
  }
  try {
    check_target();  // throws std::runtime_error when the spool is another database's
  } catch (const pg_error& e) {
    database_lost(e, "database lost while identifying it");
    return false;
  }
  c_.db_up = true;
  c_.narrow = !writer_.mantis_schema().empty();
  say("connected to PostgreSQL (" + std::to_string(writer_.known_machines()) +
      " machines known" +
      (c_.narrow ? ", MANTIS layer in schema " + writer_.mantis_schema() : std::string()) + ")");
  last_db_error_.clear();
  return true;
}

/// The spool's batches must go to the database they were taken for. Throws (ending the run)
/// when this is another one; records it otherwise.
void ingestor::check_target() {
  if (target_checked_) return;
  const spool_target here = writer_.identify();
  const spool_target& recorded = spool_.target();
  if (!spool_.empty()) {
    if (const auto why = recorded.mismatch(here); !why.empty())
      throw std::runtime_error(
          "the spool in " + spool_.dir().string() + " holds " +
          std::to_string(spool_.batches()) + " batches for " + recorded.to_string() +
          ", but this run writes to " + why + ": replay them into their own database (run "
          "the ingestor there with this --spool-dir), or move the folder away");
  }
  if (recorded.system_identifier != here.system_identifier || recorded.database != here.database ||
      recorded.schema != here.schema || recorded.address != here.address)
    spool_.set_target(here);
  target_checked_ = true;
}

// Takes up to batch_rows messages once flush_at_ wait, the oldest is older than
// flush_interval, no message came for flush_idle, or consuming stopped. Returns false when
// there is nothing left ever.
bool ingestor::collect(std::vector<pending_message>& batch) {
  using std::chrono::microseconds;
  batch.clear();
  std::unique_lock lock(queue_mutex_);
  const auto ready = [&] { return queue_.size() >= flush_at_ || consuming_stopped_; };
  if (!ready() && queue_.empty()) {
    // Wake at least every 100 ms to retry the database and replay the spool.
    not_empty_.wait_for(lock, milliseconds(100),
                        [&] { return !queue_.empty() || consuming_stopped_; });
  }
  while (!queue_.empty() && !ready()) {
    // Arrivals do not wake us (only a full batch does), so the idle deadline is re-read after
    // each wait.
    auto left = std::chrono::duration_cast<clock::duration>(
        microseconds(queue_.front().received_us - wall_now_us()) + o_.flush_interval);
    if (o_.flush_idle.count() > 0) {
      const auto last = clock::time_point(clock::duration(last_message_at_.load()));
      left = std::min(left, last + o_.flush_idle - clock::now());
    }
    if (left <= clock::duration::zero()) break;
    not_empty_.wait_for(lock, left, ready);
  }
  if (queue_.empty()) return !consuming_stopped_;
  // The window only makes us flush early: mosquitto 2.0.11 sends more than it after a
  // PUBACK (see docs/ingest.md), and what is here goes in one transaction.
  const std::size_t n = std::min(queue_.size(), batch_rows_);
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  const bool resume = reading_paused_ && queue_.size() < capacity_;
  if (resume) reading_paused_ = false;
  lock.unlock();
  if (resume && mqtt_) mqtt_->resume();
  return true;
}

void ingestor::account(const batch_outcome& out, std::span<const pending_message> batch) {
  for (std::size_t i = 0; i < stream_count; ++i) {
    c_.messages[i] += static_cast<std::uint64_t>(out.messages[i]);
    c_.inserted[i] += static_cast<std::uint64_t>(out.inserted[i]);
  }
  for (std::size_t i = 0; i < reject_reason_count; ++i)
    c_.rejects[i] += static_cast<std::uint64_t>(out.rejects[i]);
  c_.transactions += static_cast<std::uint64_t>(out.transactions);
  c_.narrow_rows += static_cast<std::uint64_t>(out.mantis_rows);
  c_.splits += static_cast<std::uint64_t>(out.splits);
  c_.staged_retries += static_cast<std::uint64_t>(out.staged_retries);
  // A committed write: the database works again, so the next loss starts the backoff over.
  db_backoff_.reset();
  const unix_us committed = wall_now_us();
  {
    std::lock_guard lock(measure_.committed_mutex);
    for (const auto& m : batch)
      if (m.scheduled_us != 0 && std::holds_alternative<decoded_row>(m.result))
        measure_.publish_to_committed.record(committed - m.scheduled_us);
  }
  std::lock_guard lock(c_.lag_mutex);
  for (const auto& m : batch)
    if (const auto* row = std::get_if<decoded_row>(&m.result))
      if (c_.lag_us.size() < 1'000'000) c_.lag_us.push_back(committed - header_of(*row).time_us);
}

void ingestor::commit(std::vector<pending_message>& batch) {
  if (batch.empty()) return;
  // Live batches go straight to the database whenever it is up, also while the spool still
  // holds older batches: unique keys and "newest status wins" make the order irrelevant, and
  // a spool that only drains behind live traffic never drains under load.
  if (c_.db_up) {
    try {
      account(writer_.write(batch), batch);
      acknowledge(batch);
      return;
    } catch (const pg_error& e) {
      database_lost(e, "batch not committed; spooling it");
    }
  }
  std::vector<spooled_message> records;
  records.reserve(batch.size());
  for (auto& m : batch)
    records.push_back(spooled_message{std::move(m.topic), std::move(m.payload), m.received_us,
                                      m.truncated, m.payload_bytes, std::move(m.payload_sha256)});
  spool_.append(records);  // fsynced: durable as a commit, only not yet in the tables
  acknowledge(batch);
  ++c_.spooled_batches;
  c_.spool_files = spool_.batches();
  c_.spool_bytes = spool_.bytes();
}

/// Replays the oldest spooled batches in one transaction; false when the database failed.
bool ingestor::replay_some() {
  std::size_t files = 0;
  auto records = spool_.oldest_batches(4 * batch_rows_, files);
  std::vector<pending_message> batch;
  batch.reserve(records.size());
  for (auto& r : records) {
    pending_message m;
    m.topic = std::move(r.topic);
    m.payload = std::move(r.payload);
    m.received_us = r.received_us;
    m.truncated = r.truncated;
    m.payload_bytes = r.payload_bytes;
    m.payload_sha256 = std::move(r.payload_sha256);
    if (m.truncated) {
      m.result = reject{reject_reason::oversized,
                        "payload of " + std::to_string(m.payload_bytes) + " bytes, sha256 " +
                            hex(m.payload_sha256) + "; the first " +
                            std::to_string(m.payload.size()) + " bytes are kept"};
    } else {
      decode_options d = o_.decode;
      d.now_us = r.received_us;  // judged as when it arrived, not as when replayed
      m.result = decode_message(m.topic, m.payload, d);
    }
    batch.push_back(std::move(m));
  }
  try {
    account(writer_.write(batch), batch);
  } catch (const pg_error& e) {
    database_lost(e, "replay interrupted");
    return false;
  }
  spool_.pop(files);
  c_.replayed_batches += files;
  c_.spool_files = spool_.batches();
  c_.spool_bytes = spool_.bytes();
  if (spool_.empty()) say("spool replayed");
  return true;
}

void ingestor::writer_loop() {
  try {
    std::vector<pending_message> batch;
    for (;;) {
      if (!c_.db_up) try_connect();
      // Catch up on the spool: one replay after each live batch, and more while live traffic
      // leaves the writer idle, so that it drains under load too.
      while (c_.db_up && !spool_.empty()) {
        if (!replay_some()) break;
        std::lock_guard lock(queue_mutex_);
        if (queue_.size() >= flush_at_ || consuming_stopped_) break;
      }
      if (!c_.db_up && spool_.full()) {
        // Spool full: stop taking messages; the queue fills, the subscriber pauses and the
        // broker keeps the rest for our persistent session.
        bool finishing = false;
        {
          std::lock_guard lock(queue_mutex_);
          finishing = consuming_stopped_;
        }
        if (!finishing) {
          std::this_thread::sleep_for(milliseconds(100));
          continue;
        }
        // Shutting down. ack durable: what is still queued was never acknowledged, the broker
        // delivers it again next session. ack received: it was, so it goes to the spool even
        // past its limit rather than being lost.
        if (o_.ack == ack_policy::durable) break;
      }
      const bool more = collect(batch);
      commit(batch);
      if (!more) break;
    }
    // Everything queued is committed or spooled; replay what we can before exiting.
    while (c_.db_up && !spool_.empty())
      if (!replay_some()) break;
  } catch (const std::exception& e) {
    writer_error_ = e.what();
    writer_failed_ = true;
  }
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

ingest_snapshot ingestor::snapshot(bool with_streams) {
  ingest_snapshot s;
  {
    std::lock_guard lock(measure_.received_mutex);
    s.stamped = measure_.stamped;
    s.accounting = measure_.accounting.totals();
    s.publish_to_received = measure_.publish_to_received;
    s.send_delay = measure_.send_delay;
    if (with_streams) s.streams = measure_.accounting.figures();
  }
  {
    std::lock_guard lock(measure_.committed_mutex);
    s.publish_to_committed = measure_.publish_to_committed;
  }
  s.uptime_s = std::chrono::duration<double>(clock::now() - started_).count();
  s.received = c_.received;
  for (std::size_t i = 0; i < stream_count; ++i) {
    s.messages[i] = c_.messages[i];
    s.inserted[i] = c_.inserted[i];
  }
  for (std::size_t i = 0; i < reject_reason_count; ++i) s.rejects[i] = c_.rejects[i];
  s.transactions = c_.transactions;
  s.narrow_rows = c_.narrow_rows;
  s.narrow = c_.narrow;
  s.splits = c_.splits;
  s.staged_retries = c_.staged_retries;
  s.spooled_batches = c_.spooled_batches;
  s.replayed_batches = c_.replayed_batches;
  s.spool_batches = c_.spool_files;
  s.spool_bytes = c_.spool_bytes;
  {
    std::lock_guard lock(queue_mutex_);
    s.queued = queue_.size();
  }
  s.db_up = c_.db_up;
  if (mqtt_) {
    const auto& m = mqtt_->counters();
    s.unacknowledged = m.unacknowledged;
    s.oversized = m.oversized;
    s.sessions_lost = m.sessions_lost;
    s.mqtt_connects = m.connects;
    s.mqtt_connected = m.connected;
  }
  return s;
}

void ingestor::print_status(double interval_s) {
  std::vector<std::int64_t> lag;
  {
    std::lock_guard lock(c_.lag_mutex);
    lag.swap(c_.lag_us);
  }
  std::string lag_text;
  if (!lag.empty()) {
    const auto max = *std::max_element(lag.begin(), lag.end());
    char buf[96];
    std::snprintf(buf, sizeof buf, "lag p50 %.3f s max %.3f s",
                  static_cast<double>(percentile(lag, 0.5)) / 1e6, static_cast<double>(max) / 1e6);
    lag_text = buf;
  }
  const auto now = snapshot();
  say(format_status_line(now, last_status_, interval_s, lag_text));
  last_status_ = now;
}

void ingestor::write_summary_json() {
  if (o_.summary_json.empty()) return;
  const std::string text = render_summary_json(snapshot(true));
  std::ofstream out(o_.summary_json, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) say("cannot write --summary-json " + o_.summary_json.string());
}

ingest_summary ingestor::run(const std::atomic<bool>& stop) {
  say("client " + o_.client_id + " -> " + o_.mqtt_host + ":" + std::to_string(o_.mqtt_port) +
      (o_.tls ? " (TLS)" : "") + " topic " +
      (o_.group.empty() ? o_.topic : "$share/" + o_.group + "/" + o_.topic) + " (MQTT " +
      (o_.mqtt_version == mqtt::protocol::v5 ? "5" : "3.1.1") + ", acknowledged " +
      (o_.ack == ack_policy::durable ? "once committed or spooled" : "once queued") +
      ", in-flight window " + (window_ ? std::to_string(window_) : std::string("unlimited")) +
      "), batch " + std::to_string(batch_rows_) + " rows (flushed at " + std::to_string(flush_at_) +
      ") / " + std::to_string(o_.flush_interval.count()) + " ms / idle " +
      std::to_string(o_.flush_idle.count()) + " ms, spool " + spool_.dir().string() +
      (spool_.empty() ? "" : " (" + std::to_string(spool_.batches()) + " batches to replay)"));
  if (!o_.metrics_listen.empty()) {
    const auto where = parse_listen_address(o_.metrics_listen);
    if (!where) throw std::runtime_error("--metrics: expected ADDR:PORT, got " + o_.metrics_listen);
    metrics_ = std::make_unique<metrics_server>(*where, [this] { return render_prometheus(snapshot()); });
    say("metrics at http://" + o_.metrics_listen.substr(0, o_.metrics_listen.rfind(':')) + ":" +
        std::to_string(metrics_->port()) + "/metrics");
  }
  if (!try_connect()) {
    if (!o_.start_without_db)
      throw std::runtime_error("cannot use the database: " + last_db_error_ +
                               " (use --start-without-db to spool until it comes)");
    // Batches spooled now are bound to the database the connection string names; the first
    // connection checks that it is that one.
    if (spool_.empty() && spool_.target().database.empty())
      spool_.set_target(target_of_conninfo(o_.db, o_.db_session.schema));
  }
  start_mqtt();
  last_message_at_ = clock::now().time_since_epoch().count();
  // The writer runs before the subscriber starts: a resumed session's backlog arrives at
  // once and must find someone emptying the queue.
  std::thread writer([this] { writer_loop(); });
  try {
    mqtt_->start();
  } catch (...) {
    stop_consuming();
    writer.join();
    throw;
  }
  auto last_status = clock::now();
  auto idle_since = clock::now();
  std::string why = "stop requested";
  bool subscriber_failed = false;
  for (;;) {
    std::this_thread::sleep_for(milliseconds(50));
    if (stop) break;
    if (writer_failed_) {
      why = "writer failed";
      break;
    }
    if (!mqtt_->running()) {
      why = "MQTT subscriber stopped";
      subscriber_failed = true;
      break;
    }
    if (o_.max_messages && c_.received >= o_.max_messages) {
      why = "--max-messages reached";
      break;
    }
    // Idle counts only while connected: a broker that is away is not a quiet plant.
    const auto last = clock::time_point(clock::duration(last_message_at_.load()));
    if (!mqtt_->counters().connected) idle_since = clock::now();
    const auto idle = clock::now() - std::max(last, idle_since);
    if (o_.exit_when_idle_s > 0 && idle >= std::chrono::duration<double>(o_.exit_when_idle_s)) {
      why = "idle";
      break;
    }
    const double since = std::chrono::duration<double>(clock::now() - last_status).count();
    if (o_.status_interval_s > 0 && since >= o_.status_interval_s) {
      print_status(since);
      last_status = clock::now();
    }
  }
  say(why + ": stopping consumption and flushing");
  stop_consuming();
  writer.join();
  // ack durable: the last acknowledgements go out before DISCONNECT.
  const std::string subscriber_failure = mqtt_->failure();
  mqtt_->stop();
  {
    std::lock_guard lock(queue_mutex_);
    if (!queue_.empty())
      say(std::to_string(queue_.size()) + " queued messages neither committed nor spooled" +
          (o_.ack == ack_policy::durable ? "; not acknowledged, the broker delivers them again"
                                         : " and already acknowledged: LOST"));
  }
  print_status(std::max(1e-3, std::chrono::duration<double>(clock::now() - last_status).count()));
  write_summary_json();  // also when the run failed: what was measured until then
  if (writer_failed_) throw std::runtime_error("writer failed: " + writer_error_);
  if (subscriber_failed)
    throw std::runtime_error(subscriber_failure.empty() ? "MQTT subscriber stopped"
                                                        : subscriber_failure);
  const auto snap = snapshot();
  ingest_summary s;
  s.received = snap.received;
  s.stored = snap.total_stored();
  s.inserted = snap.total_inserted();
  s.rejected = snap.total_rejected();
  s.batches = snap.transactions;
  s.spooled_batches = snap.spooled_batches;
  s.spool_left = spool_.batches();
  s.sessions_lost = snap.sessions_lost;
  say(format_summary(snap));
  return s;
}

}  // namespace

ingest_summary run_ingest(const ingest_options& options, const std::atomic<bool>& stop,
                          std::ostream& log) {
  ingestor i(options, log);
  return i.run(stop);
}

}  // namespace factorysim::ingest
