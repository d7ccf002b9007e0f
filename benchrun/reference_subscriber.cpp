#include "benchrun/reference_subscriber.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace factorysim::benchrun {

void seq_accounting::record(std::uint64_t seq) {
  ++received;
  if (seq >= seen.size()) seen.resize(std::max<std::size_t>(seq + 1, seen.size() * 2), false);
  if (seen[seq]) {
    ++duplicates;
    return;
  }
  seen[seq] = true;
  ++distinct;
  if (distinct == 1) first_seq = seq;
  first_seq = std::min(first_seq, seq);
  if (seq < last_seq) ++reordered;
  last_seq = std::max(last_seq, seq);
}

namespace {

const std::string probe_topic = "factorysim-bench/probe";

/// The string value of "key":"..." in a flat JSON object (our payloads have no escapes in ids).
std::string string_field(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const auto p = json.find(needle);
  if (p == std::string::npos) return {};
  const auto start = p + needle.size();
  const auto end = json.find('"', start);
  return end == std::string::npos ? std::string() : json.substr(start, end - start);
}

}  // namespace

bool parse_subscriber_line(const std::string& line, subscriber_line& out) {
  // %U \t %t \t %P \t %p (payloads are single-line JSON)
  const auto t1 = line.find('\t');
  if (t1 == std::string::npos) return false;
  const auto t2 = line.find('\t', t1 + 1);
  if (t2 == std::string::npos) return false;
  const auto t3 = line.find('\t', t2 + 1);
  if (t3 == std::string::npos) return false;
  out = subscriber_line{};
  char* end = nullptr;
  out.received_unix_s = std::strtod(line.c_str(), &end);
  if (end != line.c_str() + t1) return false;
  out.topic = line.substr(t1 + 1, t2 - t1 - 1);
  const auto slash = out.topic.rfind('/');
  out.stream = slash == std::string::npos ? out.topic : out.topic.substr(slash + 1);
  const std::string props = line.substr(t2 + 1, t3 - t2 - 1);
  if (const auto p = props.find("fs-sched-us:"); p != std::string::npos)
    out.sched_us = std::strtod(props.c_str() + p + 12, nullptr);
  const std::string payload = line.substr(t3 + 1);
  out.machine_id = string_field(payload, "machine_id");
  if (const auto p = payload.find("\"seq\":"); p != std::string::npos) {
    out.seq = std::strtoull(payload.c_str() + p + 6, &end, 10);
    out.has_seq = end != payload.c_str() + p + 6;
  }
  return true;
}

reference_subscriber::reference_subscriber(const std::string& host, int port, int qos,
                                           const std::string& filter, const std::string& log_file) {
  process_ = child::spawn(
      {"mosquitto_sub", "-h", host, "-p", std::to_string(port), "-V", "5", "-q",
       std::to_string(qos), "-t", filter, "-t", probe_topic, "-F", "%U\\t%t\\t%P\\t%p"},
      logging_to(log_file, false, true));
  reader_ = std::thread([this] { read_loop(); });
  // Subscribed once a probe on a topic of its own comes back (mosquitto_sub says nothing).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!probe_seen_.load()) {
    if (!process_.running() || std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("the reference subscriber (mosquitto_sub) did not subscribe to " +
                               host + ":" + std::to_string(port) + "; its log " + log_file + ":\n" +
                               tail_of_file(log_file));
    }
    run_to_completion(
        {"mosquitto_pub", "-h", host, "-p", std::to_string(port), "-t", probe_topic, "-m", "probe"},
        {}, std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

reference_subscriber::~reference_subscriber() {
  stop();
}

void reference_subscriber::read_loop() {
  std::string pending;
  char buf[1 << 16];
  subscriber_line parsed;
  for (;;) {
    const ssize_t n = ::read(process_.stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::lock_guard lock(mutex_);
    for (;;) {
      const auto eol = pending.find('\n', start);
      if (eol == std::string::npos) break;
      const std::string line = pending.substr(start, eol - start);
      start = eol + 1;
      if (!parse_subscriber_line(line, parsed)) continue;
      if (parsed.topic == probe_topic) {
        probe_seen_ = true;
        continue;
      }
      received_.fetch_add(1, std::memory_order_relaxed);
      if (parsed.sched_us >= 0) latency_.record_us(parsed.received_unix_s * 1e6 - parsed.sched_us);
      if (parsed.has_seq && !parsed.machine_id.empty())
        streams_[{parsed.machine_id, parsed.stream}].record(parsed.seq);
    }
    pending.erase(0, start);
  }
}

latency_histogram reference_subscriber::latency() const {
  std::lock_guard lock(mutex_);
  return latency_;
}

void reference_subscriber::stop() {
  if (stopped_) return;
  stopped_ = true;
  process_.stop(SIGTERM, std::chrono::seconds(5));
  if (reader_.joinable()) reader_.join();
}

std::map<std::pair<std::string, std::string>, seq_accounting> reference_subscriber::streams()
    const {
  std::lock_guard lock(mutex_);
  return streams_;
}

}  // namespace factorysim::benchrun
