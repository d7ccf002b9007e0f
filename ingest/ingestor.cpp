#include "ingest/ingestor.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <span>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include "ingest/batch_writer.hpp"
#include "ingest/mqtt_subscriber.hpp"
#include "ingest/spool.hpp"

namespace factorysim::ingest {
namespace {

using clock = std::chrono::steady_clock;

unix_us wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Counters the writer updates and the status line reads.
struct counters {
  std::atomic<std::uint64_t> received{0};
  std::array<std::atomic<std::uint64_t>, stream_count> messages{};
  std::array<std::atomic<std::uint64_t>, stream_count> inserted{};
  std::array<std::atomic<std::uint64_t>, reject_reason_count> rejects{};
  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> splits{0};
  std::atomic<std::uint64_t> staged_retries{0};
  std::atomic<std::uint64_t> spooled_batches{0};
  std::atomic<std::uint64_t> spool_files{0};
  std::atomic<std::uint64_t> spool_bytes{0};
  std::atomic<bool> db_up{false};
  std::mutex lag_mutex;
  std::vector<std::int64_t> lag_us;  ///< since the last status line
};

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
        writer_(o.db, batch_writer_options{o.mode, std::chrono::milliseconds(1000)}),
        spool_(o.spool_dir, o.spool_max_bytes) {
    c_.spool_files = spool_.batches();
    c_.spool_bytes = spool_.bytes();
  }
  ~ingestor() {
    if (mqtt_) mqtt_->stop();
  }

  ingest_summary run(const std::atomic<bool>& stop);

 private:
  void on_messages(std::span<const mqtt_message_view> messages, std::uint64_t first_seq);
  void acknowledge(const std::vector<pending_message>& batch);
  void start_mqtt();
  void stop_consuming();
  void writer_loop();
  bool collect(std::vector<pending_message>& batch);
  void commit(std::vector<pending_message>& batch);
  bool try_connect();
  void replay_one();
  void account(const batch_outcome& out, std::span<const pending_message> batch);
  void print_status(double interval_s);
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
  std::unique_ptr<mqtt_subscriber> mqtt_;

  std::mutex queue_mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<pending_message> queue_;
  bool consuming_stopped_ = false;  ///< no more messages are queued: drain and finish
  bool unblock_producers_ = false;  ///< shutting down (ack received): never block MQTT
  std::atomic<clock::rep> last_message_at_{0};
  std::atomic<bool> writer_failed_{false};
  std::string writer_error_;

  clock::duration backoff_ = std::chrono::milliseconds(100);
  clock::time_point next_attempt_{};
  std::string last_db_error_;
  std::uint64_t last_status_inserted_[stream_count]{};
  std::uint64_t last_status_rejects_ = 0;
};

void ingestor::on_messages(std::span<const mqtt_message_view> messages, std::uint64_t first_seq) {
  // Decoded here, on the network thread, so the writer thread only batches and commits.
  std::vector<pending_message> decoded(messages.size());
  const unix_us now = wall_now_us();
  decode_options d = o_.decode;
  d.now_us = now;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    pending_message& m = decoded[i];
    m.topic.assign(messages[i].topic);
    m.payload.assign(messages[i].payload);
    m.received_us = now;
    m.result = decode_message(m.topic, m.payload, d);
    m.delivery_seq = first_seq + i;
  }
  last_message_at_ = clock::now().time_since_epoch().count();
  bool wake_writer = false;
  {
    std::unique_lock lock(queue_mutex_);
    // Full queue: block the network thread, so the broker holds further messages for our
    // session instead of us holding them in memory. (One read's worth may go past capacity.)
    not_full_.wait(lock, [&] {
      return queue_.size() < capacity_ || unblock_producers_ || consuming_stopped_;
    });
    // Shutting down (ack durable): these are never acknowledged; the broker keeps them.
    if (consuming_stopped_) return;
    const bool was_empty = queue_.empty();
    for (auto& m : decoded) queue_.push_back(std::move(m));
    // The writer sleeps until the queue holds a batch or its oldest message is due; only
    // those two events need a wake-up, not every message.
    wake_writer = was_empty || queue_.size() >= flush_at_;
  }
  if (wake_writer) not_empty_.notify_one();
  c_.received += messages.size();
}

void ingestor::acknowledge(const std::vector<pending_message>& batch) {
  // FIFO from the subscriber to here, so the last message of a batch has its highest number
  // and everything before it is committed or spooled too.
  if (o_.ack == ack_policy::durable && !batch.empty() && batch.back().delivery_seq > 0)
    mqtt_->acknowledge_through(batch.back().delivery_seq);
}

void ingestor::start_mqtt() {
  mqtt_subscriber_options s;
  s.host = o_.mqtt_host;
  s.port = o_.mqtt_port;
  s.client_id = o_.client_id;
  s.username = o_.username;
  s.password = o_.password;
  s.keepalive_s = o_.keepalive_s;
  // --group needs MQTT v5 ($share/...); v5 also needs a session expiry to keep the session.
  s.version = o_.mqtt_version;
  s.receive_maximum =
      o_.mqtt_version == mqtt::protocol::v5 ? static_cast<std::uint16_t>(window_) : 0;
  s.acknowledge_on_handover = o_.ack == ack_policy::received;
  s.filter = o_.group.empty() ? o_.topic : "$share/" + o_.group + "/" + o_.topic;
  mqtt_subscriber_handlers h;
  h.on_messages = [this](std::span<const mqtt_message_view> m, std::uint64_t first) {
    on_messages(m, first);
  };
  h.on_log = [this](const std::string& line) { say(line); };
  mqtt_ = std::make_unique<mqtt_subscriber>(std::move(s), std::move(h));
  mqtt_->start();
}

void ingestor::stop_consuming() {
  if (o_.ack == ack_policy::received) {
    // What the subscriber hands over is acknowledged on the spot, so it must all be queued
    // and flushed: stop the subscriber first, then let the writer drain.
    {
      std::lock_guard lock(queue_mutex_);
      unblock_producers_ = true;
    }
    not_full_.notify_all();
    if (mqtt_) mqtt_->stop();
  }
  // ack durable: the subscriber stays connected to send the acknowledgements of the last
  // batches; what it hands over from now on is refused, unacknowledged, and comes again.
  {
    std::lock_guard lock(queue_mutex_);
    consuming_stopped_ = true;
  }
  not_full_.notify_all();
  not_empty_.notify_all();
}

bool ingestor::try_connect() {
  if (clock::now() < next_attempt_) return false;
  try {
    writer_.connect();
    c_.db_up = true;
    backoff_ = std::chrono::milliseconds(100);
    say("connected to PostgreSQL (" + std::to_string(writer_.known_machines()) +
        " machines known)");
    last_db_error_.clear();
    return true;
  } catch (const std::exception& e) {
    if (last_db_error_ != e.what()) {
      say(std::string("database unavailable, spooling to ") + o_.spool_dir.string() + ": " +
          e.what());
      last_db_error_ = e.what();
    }
    next_attempt_ = clock::now() + backoff_;
    backoff_ = std::min<clock::duration>(backoff_ * 2, std::chrono::seconds(5));
    return false;
  }
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
    not_empty_.wait_for(lock, std::chrono::milliseconds(100),
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
  lock.unlock();
  not_full_.notify_all();
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
  c_.splits += static_cast<std::uint64_t>(out.splits);
  c_.staged_retries += static_cast<std::uint64_t>(out.staged_retries);
  const unix_us committed = wall_now_us();
  std::lock_guard lock(c_.lag_mutex);
  for (const auto& m : batch)
    if (const auto* row = std::get_if<decoded_row>(&m.result))
      if (c_.lag_us.size() < 1'000'000) c_.lag_us.push_back(committed - header_of(*row).time_us);
}

void ingestor::commit(std::vector<pending_message>& batch) {
  if (batch.empty()) return;
  if (c_.db_up && spool_.empty()) {
    try {
      account(writer_.write(batch), batch);
      acknowledge(batch);
      return;
    } catch (const pg_error& e) {
      say(std::string("batch not committed (") + e.what() + "); spooling it");
      writer_.disconnect();
      c_.db_up = false;
      last_db_error_ = e.what();
    }
  }
  std::vector<spooled_message> records;
  records.reserve(batch.size());
  for (auto& m : batch)
    records.push_back(spooled_message{std::move(m.topic), std::move(m.payload), m.received_us});
  spool_.append(records);  // fsynced: durable as a commit, only not yet in the tables
  acknowledge(batch);
  ++c_.spooled_batches;
  c_.spool_files = spool_.batches();
  c_.spool_bytes = spool_.bytes();
}

void ingestor::replay_one() {
  auto records = spool_.oldest();
  if (!records) return;
  std::vector<pending_message> batch;
  batch.reserve(records->size());
  for (auto& r : *records) {
    pending_message m;
    m.topic = std::move(r.topic);
    m.payload = std::move(r.payload);
    m.received_us = r.received_us;
    decode_options d = o_.decode;
    d.now_us = r.received_us;  // judged as when it arrived, not as when replayed
    m.result = decode_message(m.topic, m.payload, d);
    batch.push_back(std::move(m));
  }
  try {
    account(writer_.write(batch), batch);
  } catch (const pg_error& e) {
    say(std::string("replay interrupted (") + e.what() + ")");
    writer_.disconnect();
    c_.db_up = false;
    return;
  }
  spool_.pop();
  c_.spool_files = spool_.batches();
  c_.spool_bytes = spool_.bytes();
  if (spool_.empty()) say("spool replayed");
}

void ingestor::writer_loop() {
  try {
    std::vector<pending_message> batch;
    for (;;) {
      if (!c_.db_up) try_connect();
      // Catch up on the spool while live traffic leaves room; live batches meanwhile go to
      // the spool behind it, which keeps the order.
      while (c_.db_up && !spool_.empty()) {
        replay_one();
        std::lock_guard lock(queue_mutex_);
        if (queue_.size() >= capacity_ / 2 || consuming_stopped_) break;
      }
      if (!c_.db_up && spool_.full()) {
        // Spool full: stop taking messages; the queue fills, the MQTT thread blocks and the
        // broker keeps the rest for our persistent session.
        bool finishing = false;
        {
          std::lock_guard lock(queue_mutex_);
          finishing = consuming_stopped_;
        }
        if (!finishing) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
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
    while (c_.db_up && !spool_.empty()) replay_one();
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

void ingestor::print_status(double interval_s) {
  std::vector<std::int64_t> lag;
  {
    std::lock_guard lock(c_.lag_mutex);
    lag.swap(c_.lag_us);
  }
  std::size_t queued = 0;
  {
    std::lock_guard lock(queue_mutex_);
    queued = queue_.size();
  }
  const std::uint64_t unacked = mqtt_ ? mqtt_->counters().unacknowledged.load() : 0;
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(0);
  s << "rows/s";
  for (std::size_t i = 0; i < stream_count; ++i) {
    const std::uint64_t now = c_.inserted[i];
    s << ' ' << to_string(static_cast<stream>(i)) << ' '
      << static_cast<double>(now - last_status_inserted_[i]) / std::max(interval_s, 1e-3);
    last_status_inserted_[i] = now;
  }
  std::uint64_t rejects = 0;
  for (const auto& r : c_.rejects) rejects += r;
  std::uint64_t new_rows = 0;
  for (const auto& n : c_.inserted) new_rows += n;
  s << " | received " << c_.received << " new rows " << new_rows << " batches " << c_.transactions
    << " rejects " << rejects << " (+" << rejects - last_status_rejects_ << ") queue " << queued
    << " unacked " << unacked << " spool " << c_.spool_files << " batches/" << c_.spool_bytes / 1024
    << " KiB db " << (c_.db_up ? "up" : "DOWN");
  last_status_rejects_ = rejects;
  s.precision(3);
  if (!lag.empty()) {
    const auto max = *std::max_element(lag.begin(), lag.end());
    s << " lag p50 " << static_cast<double>(percentile(lag, 0.5)) / 1e6 << " s max "
      << static_cast<double>(max) / 1e6 << " s";
  }
  say(s.str());
}

ingest_summary ingestor::run(const std::atomic<bool>& stop) {
  say("client " + o_.client_id + " -> " + o_.mqtt_host + ":" + std::to_string(o_.mqtt_port) +
      " topic " + (o_.group.empty() ? o_.topic : "$share/" + o_.group + "/" + o_.topic) +
      " (MQTT " + (o_.mqtt_version == mqtt::protocol::v5 ? "5" : "3.1.1") + ", acknowledged " +
      (o_.ack == ack_policy::durable ? "once committed or spooled" : "once queued") +
      ", in-flight window " + (window_ ? std::to_string(window_) : std::string("unlimited")) +
      "), batch " + std::to_string(batch_rows_) + " rows (flushed at " + std::to_string(flush_at_) +
      ") / " + std::to_string(o_.flush_interval.count()) + " ms / idle " +
      std::to_string(o_.flush_idle.count()) + " ms, spool " + o_.spool_dir.string() +
      (spool_.empty() ? "" : " (" + std::to_string(spool_.batches()) + " batches to replay)"));
  try_connect();
  start_mqtt();
  last_message_at_ = clock::now().time_since_epoch().count();
  std::thread writer([this] { writer_loop(); });
  auto last_status = clock::now();
  std::string why = "stop requested";
  bool subscriber_failed = false;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
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
    const auto idle = clock::now() - clock::time_point(clock::duration(last_message_at_.load()));
    if (o_.exit_when_idle_s > 0 &&
        idle >= std::chrono::duration<double>(o_.exit_when_idle_s)) {
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
  mqtt_->stop();
  {
    std::lock_guard lock(queue_mutex_);
    if (!queue_.empty())
      say(std::to_string(queue_.size()) + " queued messages neither committed nor spooled" +
          (o_.ack == ack_policy::durable ? "; not acknowledged, the broker delivers them again"
                                         : " and already acknowledged: LOST"));
  }
  print_status(std::max(1e-3, std::chrono::duration<double>(clock::now() - last_status).count()));
  if (writer_failed_) throw std::runtime_error("writer failed: " + writer_error_);
  if (subscriber_failed) throw std::runtime_error("MQTT subscriber stopped (reason above)");
  ingest_summary s;
  s.received = c_.received;
  for (std::size_t i = 0; i < stream_count; ++i) {
    s.stored += c_.messages[i];
    s.inserted += c_.inserted[i];
  }
  for (const auto& r : c_.rejects) s.rejected += r;
  s.batches = c_.transactions;
  s.spooled_batches = c_.spooled_batches;
  s.spool_left = spool_.batches();
  std::ostringstream r;
  r << "done: received " << s.received << ", stored " << s.stored << " (" << s.inserted
    << " new rows), rejected " << s.rejected;
  bool first = true;
  for (std::size_t i = 0; i < reject_reason_count; ++i) {
    if (c_.rejects[i] == 0) continue;
    r << (first ? " [" : ", ") << to_string(static_cast<reject_reason>(i)) << ' '
      << c_.rejects[i];
    first = false;
  }
  if (!first) r << ']';
  r << ", " << s.batches << " transactions, " << c_.splits << " splits, " << c_.staged_retries
    << " batches redone staged, " << s.spooled_batches
    << " batches spooled, " << s.spool_left << " left in the spool";
  say(r.str());
  return s;
}

}  // namespace

ingest_summary run_ingest(const ingest_options& options, const std::atomic<bool>& stop,
                          std::ostream& log) {
  ingestor i(options, log);
  return i.run(stop);
}

}  // namespace factorysim::ingest
