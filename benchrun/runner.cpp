#include "benchrun/runner.hpp"

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "benchrun/db_check.hpp"
#include "benchrun/host_info.hpp"
#include "benchrun/http_client.hpp"
#include "benchrun/proc_sampler.hpp"
#include "benchrun/process.hpp"
#include "benchrun/prometheus_text.hpp"
#include "benchrun/rate_profile.hpp"
#include "benchrun/reference_subscriber.hpp"
#include "benchrun/services.hpp"
#include "scenarios/scenario.hpp"
#include "sim/message_rate.hpp"

namespace factorysim::benchrun {

std::atomic<int> bench_interrupts{0};

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string hist_committed = "factorysim_ingest_publish_to_committed_seconds";
const std::string hist_received = "factorysim_ingest_publish_to_received_seconds";
const std::string hist_send_delay = "factorysim_ingest_send_delay_seconds";
const char* const reading_streams[] = {"energy", "production", "environmental", "truth"};

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

json maybe(const std::optional<double>& v, double scale = 1) {
  return v ? json(*v * scale) : json(nullptr);
}

/// {count, p50, p90, p99, p999, mean} in ms of a histogram in seconds (max: unknown here).
json latency_json(const cumulative_histogram& h) {
  json j;
  j["count"] = static_cast<std::uint64_t>(h.count);
  j["p50"] = maybe(h.quantile_s(0.50), 1000);
  j["p90"] = maybe(h.quantile_s(0.90), 1000);
  j["p99"] = maybe(h.quantile_s(0.99), 1000);
  j["p999"] = maybe(h.quantile_s(0.999), 1000);
  j["max"] = nullptr;
  j["mean"] = h.count > 0 ? json(1000 * h.sum_s / h.count) : json(nullptr);
  return j;
}

json latency_json(const latency_histogram& h) {
  json j;
  j["count"] = h.count();
  const auto ms = [](std::optional<double> us) { return us ? json(*us / 1000) : json(nullptr); };
  j["p50"] = ms(h.quantile_us(0.50));
  j["p90"] = ms(h.quantile_us(0.90));
  j["p99"] = ms(h.quantile_us(0.99));
  j["p999"] = ms(h.quantile_us(0.999));
  j["max"] = h.count() ? json(h.max_us() / 1000) : json(nullptr);
  j["mean"] = h.count() ? json(h.mean_us() / 1000) : json(nullptr);
  return j;
}

/// One ingestor child and where it reports.
struct ingestor_child {
  child process;
  int metrics_port = 0;  ///< 0: this build's ingest has no --metrics
  std::string log_file;
  std::string summary_file;
};

/// What all ingestors say at one instant (summed).
struct ingest_scrape {
  bool ok = false;
  bool metrics = false;  ///< from /metrics (loss counters and histograms), not status lines
  double received = 0, committed = 0, lost = 0, duplicates = 0, reordered = 0, rejected = 0,
         queue = 0;
  std::map<std::string, cumulative_histogram> histograms;
};

ingest_scrape scrape_ingestors(const std::vector<ingestor_child>& ingestors) {
  ingest_scrape s;
  if (ingestors.empty()) return s;
  for (const auto& in : ingestors) {
    if (in.metrics_port == 0) {
      // An ingestor without --metrics: its last 1 s status line has the totals (no latency).
      const std::string tail = tail_of_file(in.log_file, 4096);
      const auto line_at = tail.rfind("| received ");
      if (line_at == std::string::npos) return {};
      std::istringstream line(tail.substr(line_at + 2));
      std::string word;
      double received = -1, rows = -1, queue = -1;
      while (line >> word) {
        if (word == "received")
          line >> received;
        else if (word == "rows")
          line >> rows;
        else if (word == "queue")
          line >> queue;
      }
      if (received < 0 || rows < 0) return {};
      s.received += received;
      s.committed += rows;
      s.queue += std::max(0.0, queue);
      continue;
    }
    http_response r;
    try {
      r = http_request("127.0.0.1", in.metrics_port, "GET", "/metrics", {}, 2s);
    } catch (const std::exception&) {
      return {};
    }
    if (r.status != 200) return {};
    const auto m = parse_prometheus_text(r.body);
    const auto add = [&](double& into, const char* name) { into += m.get(name).value_or(0); };
    add(s.received, "factorysim_ingest_received_messages_total");
    add(s.committed, "factorysim_ingest_committed_rows_total");
    add(s.lost, "factorysim_ingest_lost_messages_total");
    add(s.duplicates, "factorysim_ingest_duplicate_messages_total");
    add(s.reordered, "factorysim_ingest_reordered_messages_total");
    add(s.rejected, "factorysim_ingest_rejected_messages_total");
    add(s.queue, "factorysim_ingest_queue_messages");
    for (const auto& name : {hist_committed, hist_received, hist_send_delay})
      if (auto h = histogram_of(m, name)) s.histograms[name].add(*h);
  }
  s.ok = true;
  s.metrics = !ingestors.empty() && ingestors.front().metrics_port != 0;
  return s;
}

/// The simulator's /status counters.
struct sim_status {
  bool ok = false;
  double published = 0;  ///< all streams
  double published_readings = 0;
  double speed = 0;
  std::string state;
};

sim_status read_sim_status(int control_port) {
  sim_status s;
  try {
    const auto r = http_request("127.0.0.1", control_port, "GET", "/status", {}, 2s);
    if (r.status != 200) return s;
    const json j = json::parse(r.body);
    const json& pub = j.at("counters").at("published");
    s.published = pub.value("total", 0.0);
    for (const char* stream : reading_streams) s.published_readings += pub.value(stream, 0.0);
    s.speed = j.value("speed", 0.0);
    s.state = j.value("state", "");
    s.ok = true;
  } catch (const std::exception&) {
  }
  return s;
}

/// Rows stored in the reading tables now (exact count; the drain's condition).
std::uint64_t stored_rows(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::nontransaction tx(conn);
  std::uint64_t n = 0;
  for (const auto& [stream, table] : stream_tables()) {
    if (tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NULL")[0].as<bool>()) continue;
    n += tx.exec1("SELECT count(*) FROM " + tx.quote_name(table))[0].as<std::uint64_t>();
  }
  return n;
}

/// Rows per reading table now.
json rows_per_table(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::nontransaction tx(conn);
  json j = json::object();
  for (const auto& [stream, table] : stream_tables()) {
    if (tx.exec1("SELECT to_regclass(" + tx.quote(table) + ") IS NULL")[0].as<bool>()) continue;
    j[table] = tx.exec1("SELECT count(*) FROM " + tx.quote_name(table))[0].as<std::uint64_t>();
  }
  return j;
}

/// The ingestors' exact latency over their whole run (warm-up and drain included): one
/// ingestor's summary as it is; several merged from their fine histograms (each bucket read
/// at its lower bound, within 0.8 %), with the largest max.
json whole_run_latency(const std::vector<json>& summaries) {
  json out = json::object();
  if (summaries.empty()) return out;
  for (const char* key : {"publish_to_committed", "publish_to_received", "send_delay"}) {
    const std::string k = std::string(key) + "_ms";
    if (summaries.size() == 1) {
      const json l = summaries.front().value("latency", json::object()).value(k, json());
      if (l.is_object()) out[key] = l;
      continue;
    }
    std::map<double, double> buckets;
    double count = 0, sum = 0, max = 0;
    for (const auto& s : summaries) {
      const json h = s.value("histograms", json::object()).value(k, json::object());
      const json lows = h.value("lower_bounds_us", json::array()),
                 counts = h.value("counts", json::array());
      for (std::size_t i = 0; i < lows.size() && i < counts.size(); ++i)
        buckets[lows[i].get<double>()] += counts[i].get<double>();
      const json l = s.value("latency", json::object()).value(k, json::object());
      count += l.value("count", 0.0);
      sum += l.value("count", 0.0) * l.value("mean", 0.0);
      max = std::max(max, l.value("max", 0.0));
    }
    if (count <= 0) continue;
    json l = {{"count", count}, {"max", max}, {"mean", sum / count}};
    for (const auto& [name, q] :
         {std::pair{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}}) {
      double seen = 0;
      for (const auto& [low, n] : buckets) {
        seen += n;
        if (seen >= q * count) {
          l[name] = std::min(max, low / 1000);
          break;
        }
      }
    }
    out[key] = l;
  }
  return out;
}

bool help_mentions(const std::string& exe, const std::string& command, const std::string& flag) {
  try {
    const auto r = run_to_completion({exe, command, "--help"}, {}, 20s);
    return r.output.find(flag) != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void wait_for_log_line(child& process, const std::string& log_file, const std::string& needle,
                       std::chrono::seconds timeout, const std::string& what) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (read_file(log_file).find(needle) != std::string::npos) return;
    if (!process.running())
      throw std::runtime_error(what + " exited at start-up (status " +
                               std::to_string(process.exit_status().value_or(-1)) + "); its log " +
                               log_file + ":\n" + tail_of_file(log_file));
    if (steady::now() > deadline)
      throw std::runtime_error(what + " did not get ready within " +
                               std::to_string(timeout.count()) + " s; its log " + log_file + ":\n" +
                               tail_of_file(log_file));
    std::this_thread::sleep_for(50ms);
  }
}

/// Per machine and reading stream, what the simulator published (= its last seq), from the
/// control API once the run is paused.
std::map<std::pair<std::string, std::string>, std::uint64_t> published_per_machine(int port) {
  std::map<std::pair<std::string, std::string>, std::uint64_t> out;
  const auto list = http_request("127.0.0.1", port, "GET", "/machines", {}, 30s);
  if (list.status != 200)
    throw std::runtime_error("GET /machines: HTTP " + std::to_string(list.status));
  for (const auto& m : json::parse(list.body)) {
    const std::string id = m.at("id").get<std::string>();
    const auto one = http_request("127.0.0.1", port, "GET", "/machines/" + id, {}, 10s);
    if (one.status != 200) continue;
    const json pub = json::parse(one.body).at("totals").at("published");
    for (const char* stream : reading_streams)
      if (pub.contains(stream)) out[{id, stream}] = pub.at(stream).get<std::uint64_t>();
  }
  return out;
}

std::string format_rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", r);
  return buf;
}

}  // namespace

int exit_code_of(const json& report) {
  const auto& sql = report.at("results").at("sql_check");
  if (sql.value("ran", false) && !sql.value("agrees", true)) return 1;
  if (!report.at("results").value("errors", json::array()).empty()) return 1;
  return 0;
}

namespace {

json run_single(const bench_options& o_in) {
  bench_options o = o_in;
  const auto t_begin = std::chrono::system_clock::now();
  // ---- Input: scenario, profile, rates --------------------------------------------------
  if (o.ingestors < 1 || o.ingestors > 64) throw bench_usage_error("--ingestors must be 1..64");
  if (o.mqtt_host.has_value() != o.mqtt_port.has_value())
    throw bench_usage_error("--mqtt-host and --mqtt-port go together (none: a private broker)");
  if (o.no_ingest && (o.db || o.ingestors > 1))
    throw bench_usage_error("--no-ingest measures the broker alone: no --db, no --ingestors");
  if (o.qos < 0 || o.qos > 2) throw bench_usage_error("--qos must be 0, 1 or 2");
  bench_section section;
  try {
    section = read_bench_section(o.scenario);
  } catch (const std::exception& e) {
    throw bench_usage_error(e.what());
  }
  if (!o.machines) o.machines = section.machines;
  const double warmup_s = o.warmup_s.value_or(section.warmup_s.value_or(5));
  scenarios::scenario scenario;
  try {
    scenarios::load_options lo;
    lo.replicas = o.machines;
    scenario = scenarios::load_scenario(o.scenario, lo);
  } catch (const scenarios::scenario_error& e) {
    std::string msg;
    for (const auto& p : e.problems()) msg += p.to_string() + "\n";
    throw bench_usage_error(msg.empty() ? std::string(e.what()) : msg.substr(0, msg.size() - 1));
  } catch (const std::exception& e) {
    throw bench_usage_error(o.scenario + ": " + e.what());
  }
  if (o.seed) scenario.seed = *o.seed;
  const auto rate = sim::estimate_message_rate(scenario, std::nullopt, std::nullopt);
  const double base_rate = rate.readings_all_streams_per_s() + rate.random_events_per_s;
  if (!(base_rate > 0)) throw bench_usage_error(o.scenario + ": the scenario publishes nothing");
  rate_profile profile;
  if (o.rate_max && o.find_max)
    throw bench_usage_error("--rate max and --find-max exclude each other");
  if (o.rate_max) {
    // Closed loop: the target is "everything the window lets through"; no rate to pace.
    profile = rate_profile::constant(0, o.duration_s.value_or(30));
  } else if (o.find_max) {
    profile = rate_profile::constant(o.rate_per_s.value_or(5000), o.step_s);
  } else if (o.rate_per_s) {
    profile = rate_profile::constant(*o.rate_per_s, o.duration_s.value_or(30));
  } else if (section.profile) {
    profile = *section.profile;
    if (o.duration_s)
      throw bench_usage_error(
          "--duration goes with --rate; the scenario's bench.profile has its own durations");
  } else {
    throw bench_usage_error(
        "no load given: --rate MSGS/S [--duration S], --find-max, or a "
        "bench.profile in the scenario");
  }
  const double max_rate = o.find_max ? 2e6 : [&] {
    double m = 0;
    for (const auto& s : profile.segments) m = std::max(m, s.rate_per_s);
    return m;
  }();
  const double load_s = o.find_max ? 0 : profile.duration_s();

  // The user's services are checked before anything is made: a bad address leaves nothing.
  if (o.mqtt_host && !tcp_accepts(*o.mqtt_host, *o.mqtt_port))
    throw std::runtime_error("cannot reach the MQTT broker at " + *o.mqtt_host + ":" +
                             std::to_string(*o.mqtt_port) + " (--mqtt-host/--mqtt-port)");
  if (o.db && !o.no_ingest) {
    const std::string probe =
        o.db->find("://") != std::string::npos ? *o.db : *o.db + " connect_timeout=5";
    if (PQping(probe.c_str()) != PQPING_OK)
      throw std::runtime_error("cannot reach the database (--db " + *o.db + ")");
  }
  const std::string exe = self_executable();
  const std::string work = make_work_dir("factorysim-bench");
  std::cerr << "bench: " << scenario.name << " (" << o.scenario << "), " << rate.machines
            << " machines, " << format_rate(base_rate)
            << " msg/s per simulated second; work folder " << work << "\n";

  // ---- Services -------------------------------------------------------------------------
  std::unique_ptr<private_broker> broker;
  std::unique_ptr<private_postgres> pg;
  std::string mqtt_host = o.mqtt_host.value_or("127.0.0.1");
  int mqtt_port = o.mqtt_port.value_or(0);
  if (o.mqtt_host) {
    if (!tcp_accepts(mqtt_host, mqtt_port))
      throw std::runtime_error("cannot reach the MQTT broker at " + mqtt_host + ":" +
                               std::to_string(mqtt_port) + " (--mqtt-host/--mqtt-port)");
  } else {
    broker = std::make_unique<private_broker>(work);
    mqtt_port = broker->port();
  }
  std::string db;
  if (!o.no_ingest) {
    if (o.db) {
      db = *o.db;
      const std::string probe =
          db.find("://") != std::string::npos ? db : db + " connect_timeout=5";
      if (PQping(probe.c_str()) != PQPING_OK)
        throw std::runtime_error("cannot reach the database (--db " + db + ")");
    } else {
      pg = std::make_unique<private_postgres>(work);
      db = pg->conninfo();
    }
  }
  proc_sampler sampler;
  if (broker) sampler.watch("broker", broker->pid(), false);
  if (pg) sampler.watch("postgres", pg->pid(), true);

  // ---- db init, ingestors or the reference subscriber -----------------------------------
  const double max_sim_days = max_rate / base_rate * std::max(load_s, 600.0) / 86400.0;
  if (!o.no_ingest) {
    std::vector<std::string> init{exe,
                                  "db",
                                  "init",
                                  "--db",
                                  db,
                                  "--scenario",
                                  o.scenario,
                                  "--partitions-ahead",
                                  std::to_string(std::min(60, static_cast<int>(max_sim_days) + 2))};
    if (o.machines) init.insert(init.end(), {"--replicas", std::to_string(*o.machines)});
    const auto r = run_to_completion(init, logging_to(work + "/db-init.log"), 600s);
    if (r.exit_code != 0)
      throw std::runtime_error("db init failed (exit " + std::to_string(r.exit_code) + "):\n" +
                               tail_of_file(work + "/db-init.log"));
  }
  const bool ingest_has_metrics = !o.no_ingest && help_mentions(exe, "ingest", "--metrics");
  const bool run_has_stamps = o.stamp_send_time && help_mentions(exe, "run", "--stamp-send-time");
  std::vector<ingestor_child> ingestors;
  std::unique_ptr<reference_subscriber> reference;
  if (o.no_ingest) {
    reference = std::make_unique<reference_subscriber>(mqtt_host, mqtt_port, std::max(o.qos, 1),
                                                       "factory/#", work + "/reference.log");
    sampler.watch("subscriber", reference->pid(), false);
  } else {
    for (int k = 0; k < o.ingestors; ++k) {
      ingestor_child in;
      in.log_file = work + "/ingest-" + std::to_string(k) + ".log";
      in.summary_file = work + "/ingest-" + std::to_string(k) + ".json";
      std::vector<std::string> argv{exe,
                                    "ingest",
                                    "--db",
                                    db,
                                    "--mqtt-host",
                                    mqtt_host,
                                    "--mqtt-port",
                                    std::to_string(mqtt_port),
                                    "--client-id",
                                    "factorysim-bench-ingest-" + std::to_string(k),
                                    "--spool-dir",
                                    work + "/spool-" + std::to_string(k),
                                    "--status-interval-s",
                                    "1"};
      if (o.ingestors > 1) argv.insert(argv.end(), {"--group", "factorysim-bench"});
      if (ingest_has_metrics) {
        in.metrics_port = pick_free_port();
        argv.insert(argv.end(), {"--metrics", "127.0.0.1:" + std::to_string(in.metrics_port),
                                 "--summary-json", in.summary_file});
      }
      in.process = child::spawn(argv, logging_to(in.log_file));
      wait_for_log_line(in.process, in.log_file, "subscribed", 60s,
                        "ingestor " + std::to_string(k));
      sampler.watch("ingestor-" + std::to_string(k), in.process.pid(), false);
      ingestors.push_back(std::move(in));
    }
  }

  // ---- The simulator ----------------------------------------------------------------------
  const int control_port = pick_free_port();
  const std::string run_log = work + "/run.log", run_summary = work + "/run.json";
  double speed = std::max(1e-3, profile.rate_at(0) / base_rate);
  std::vector<std::string> run_argv{exe,
                                    "run",
                                    o.scenario,
                                    "--mqtt-host",
                                    mqtt_host,
                                    "--mqtt-port",
                                    std::to_string(mqtt_port),
                                    "--mode",
                                    "accelerated",
                                    "--speed",
                                    std::to_string(speed),
                                    "--control",
                                    "127.0.0.1:" + std::to_string(control_port),
                                    "--no-progress",
                                    "--qos",
                                    std::to_string(o.qos),
                                    "--sessions",
                                    std::to_string(o.sessions),
                                    "--window",
                                    std::to_string(o.window),
                                    "--summary-json",
                                    run_summary,
                                    "--seed",
                                    std::to_string(scenario.seed)};
  if (o.machines) run_argv.insert(run_argv.end(), {"--replicas", std::to_string(*o.machines)});
  if (o.rate_max) {
    // A backfill ending now, long enough for the load at up to 300,000 msg/s, and at most
    // 20 h back: db init made day partitions from yesterday on.
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const double range_s = std::min(72000.0, (warmup_s + load_s) * 3e5 / base_rate + 60);
    const auto rfc3339 = [](long long unix_s) {
      const std::time_t t = static_cast<std::time_t>(unix_s);
      std::tm tm{};
      ::gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      return std::string(buf);
    };
    for (std::size_t i = 0; i + 1 < run_argv.size(); ++i)
      if (run_argv[i] == "--mode") run_argv[i + 1] = "backfill";
    const auto speed_at = std::find(run_argv.begin(), run_argv.end(), "--speed");
    run_argv.erase(speed_at, speed_at + 2);
    run_argv.insert(run_argv.end(), {"--from", rfc3339(now_s - static_cast<long long>(range_s)),
                                     "--to", rfc3339(now_s)});
  }
  if (run_has_stamps) run_argv.push_back("--stamp-send-time");
  child sim_process = child::spawn(run_argv, logging_to(run_log));
  {
    const auto deadline = steady::now() + 60s;
    while (!read_sim_status(control_port).ok) {
      if (!sim_process.running())
        throw std::runtime_error("the simulator exited at start-up; its log " + run_log + ":\n" +
                                 tail_of_file(run_log));
      if (steady::now() > deadline)
        throw std::runtime_error("the simulator's control endpoint did not answer; log:\n" +
                                 tail_of_file(run_log));
      std::this_thread::sleep_for(20ms);
    }
  }
  sampler.watch("simulator", sim_process.pid(), false);

  // ---- The load, second by second -----------------------------------------------------------
  json timeline = json::array();
  json errors = json::array();
  const auto t0 = steady::now();
  sampler.sample();
  ingest_scrape prev_scrape = scrape_ingestors(ingestors);
  ingest_scrape warm_scrape = prev_scrape;  // at the end of the warm-up
  latency_histogram prev_ref_latency, warm_ref_latency;
  sim_status prev_sim = read_sim_status(control_port);
  double prev_received = 0;
  sim_status warm_sim = prev_sim;
  double warm_received = 0, warm_committed = 0;
  double last_t = 0, warm_t = 0;
  bool warm_done = warmup_s <= 0;
  // find-max state
  double step_rate = profile.rate_at(0), step_started = 0;
  ingest_scrape step_scrape = prev_scrape;
  double step_received = 0, step_published = 0, step_backlog = 0;
  latency_histogram step_ref_latency;
  int backlog_growth_s = 0;
  double prev_backlog = 0;
  json find_max_steps = json::array();
  std::optional<json> best_step;
  std::string stop_reason = "duration";
  const bool tty = ::isatty(2);
  for (int tick = 1;; ++tick) {
    std::this_thread::sleep_until(t0 + std::chrono::seconds(tick));
    const double t = seconds_since(t0);
    if (bench_interrupts.load() > 0) {
      stop_reason = "interrupted";
      break;
    }
    if (!sim_process.running() && o.rate_max && sim_process.exit_status() == 0) {
      stop_reason = "the backfill range ended";
      break;
    }
    if (!sim_process.running()) {
      errors.push_back("the simulator exited during the load (status " +
                       std::to_string(sim_process.exit_status().value_or(-1)) + ")");
      stop_reason = "simulator exited";
      break;
    }
    const sim_status st = read_sim_status(control_port);
    const ingest_scrape sc = scrape_ingestors(ingestors);
    const auto usage = sampler.sample();
    const double dt = t - last_t;
    const double received = reference ? static_cast<double>(reference->received()) : sc.received;
    json p;
    p["t_s"] = std::round(t * 1000) / 1000;
    p["phase"] = warm_done ? "measure" : "warmup";
    p["target_rate_per_s"] =
        o.rate_max ? json(nullptr) : json(o.find_max ? step_rate : profile.rate_at(last_t));
    p["speed"] = speed;
    p["published"] = st.published;
    p["published_per_s"] = (st.published - prev_sim.published) / dt;
    const bool have_received = reference != nullptr || sc.ok;
    p["received"] = have_received ? json(received) : json(nullptr);
    p["received_per_s"] = have_received ? json((received - prev_received) / dt) : json(nullptr);
    p["committed"] = sc.ok ? json(sc.committed) : json(nullptr);
    p["committed_per_s"] =
        sc.ok ? json((sc.committed - prev_scrape.committed) / dt) : json(nullptr);
    const double backlog = have_received ? std::max(0.0, st.published - received) : 0;
    p["backlog"] = have_received ? json(backlog) : json(nullptr);
    p["queue"] = sc.ok ? json(sc.queue) : json(nullptr);
    p["lost"] = sc.metrics ? json(sc.lost) : json(nullptr);
    json lat;
    if (sc.ok) {
      for (const auto& [name, key] : {std::pair{hist_committed, "publish_to_committed"},
                                      {hist_received, "publish_to_received"}}) {
        const auto now_h = sc.histograms.find(name);
        const auto prev_h = prev_scrape.histograms.find(name);
        if (now_h == sc.histograms.end()) continue;
        const auto d = prev_h == prev_scrape.histograms.end() ? now_h->second
                                                              : now_h->second.minus(prev_h->second);
        lat[key] = {{"p50", maybe(d.quantile_s(0.5), 1000)},
                    {"p99", maybe(d.quantile_s(0.99), 1000)}};
      }
    } else if (reference) {
      const auto h = reference->latency();
      const auto d = h.minus(prev_ref_latency);
      const auto ms = [](std::optional<double> us) {
        return us ? json(*us / 1000) : json(nullptr);
      };
      lat["publish_to_received"] = {{"p50", ms(d.quantile_us(0.5))},
                                    {"p99", ms(d.quantile_us(0.99))}};
      prev_ref_latency = h;
    }
    p["latency_ms"] = lat.is_null() ? json::object() : lat;
    json res = json::object();
    for (const auto& [role, u] : usage)
      res[role] = {{"cpu_percent", std::round(u.cpu_percent * 10) / 10},
                   {"rss_mib", std::round(u.rss_mib * 10) / 10}};
    p["resources"] = res;
    timeline.push_back(p);

    if (o.progress) {
      std::string line = "bench: " + format_rate(t) + " s " + (warm_done ? "" : "(warm-up) ") +
                         "target " +
                         (o.rate_max ? std::string("max")
                                     : format_rate(p["target_rate_per_s"].get<double>()) + "/s") +
                         " published " + format_rate(p["published_per_s"].get<double>()) + "/s";
      if (have_received)
        line += " received " + format_rate(p["received_per_s"].get<double>()) + "/s";
      if (sc.ok) line += " committed " + format_rate(p["committed_per_s"].get<double>()) + "/s";
      if (have_received) line += " backlog " + format_rate(backlog);
      const json* l99 = nullptr;
      if (lat.contains("publish_to_committed"))
        l99 = &lat["publish_to_committed"]["p99"];
      else if (lat.contains("publish_to_received"))
        l99 = &lat["publish_to_received"]["p99"];
      if (l99 && l99->is_number()) line += " p99 " + format_rate(l99->get<double>()) + " ms";
      if (sc.metrics) line += " lost " + format_rate(sc.lost);
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else if (tick % 5 == 0)
        std::cerr << line << "\n";
    }

    // The warm-up's end: the measured window starts here.
    if (!warm_done && t >= warmup_s) {
      warm_done = true;
      warm_scrape = sc;
      warm_sim = st;
      warm_received = received;
      warm_committed = sc.committed;
      warm_t = t;
      warm_ref_latency = reference ? reference->latency() : latency_histogram{};
      if (o.find_max) {
        step_started = t;
        step_scrape = sc;
        step_received = received;
        step_published = st.published;
        step_backlog = backlog;
        step_ref_latency = warm_ref_latency;
      }
    }

    // Pacing: the target rate for the next second, as a speed.
    double next_rate = profile.rate_at(t);
    if (o.find_max && warm_done) {
      backlog_growth_s =
          backlog > prev_backlog && backlog > 0.05 * step_rate ? backlog_growth_s + 1 : 0;
      const bool step_over = t - step_started >= o.step_s;
      const bool backlog_fail = backlog_growth_s >= 10;
      if (step_over || backlog_fail) {
        // End to end: p99 publish-to-commit and committed rows; broker only: p99
        // publish-to-received and messages received at the reference subscriber.
        std::optional<double> p99_ms;
        double achieved = 0;
        if (reference) {
          const auto h = reference->latency();
          if (auto q = h.minus(step_ref_latency).quantile_us(0.99)) p99_ms = *q / 1000;
          step_ref_latency = h;
          achieved = (received - step_received) / (t - step_started);
        } else {
          if (auto it = sc.histograms.find(hist_committed); it != sc.histograms.end()) {
            auto base = step_scrape.histograms.find(hist_committed);
            const auto d =
                base == step_scrape.histograms.end() ? it->second : it->second.minus(base->second);
            if (auto q = d.quantile_s(0.99)) p99_ms = *q * 1000;
          }
          achieved = (sc.committed - step_scrape.committed) / (t - step_started);
        }
        // The simulator must have sent the target (a full window means the pipeline pushed
        // back), and the consumers must have kept up: the backlog may not have grown by more
        // than two seconds' worth over the step (status-line counters come once a second and
        // alias with our tick; the simulator releases a simulated second's readings at once).
        const double sent = (st.published - step_published) / (t - step_started);
        const bool kept_up = sent >= 0.9 * step_rate && backlog - step_backlog <= 2 * step_rate;
        // Without in-band timing (or the ingestors' histograms) there is no latency to hold
        // against the SLO: throughput and backlog decide alone, and the report says so.
        const bool latency_known = run_has_stamps && (reference || ingest_has_metrics);
        const bool latency_ok = latency_known ? (p99_ms && *p99_ms <= o.slo_ms) : true;
        const bool held = !backlog_fail && latency_ok && kept_up;
        json step = {{"target_rate_per_s", step_rate},
                     {"published_per_s", sent},
                     {"committed_per_s", achieved},
                     {"p99_ms", maybe(p99_ms)},
                     {"held", held},
                     {"reason",
                      backlog_fail                          ? "backlog grew for 10 s"
                      : latency_known && !p99_ms            ? "no latency measured"
                      : latency_known && *p99_ms > o.slo_ms ? "p99 above the SLO"
                      : !kept_up                            ? (sent < 0.9 * step_rate
                                                                   ? "sent below 90 % of the target rate"
                                                                   : "the backlog grew by more than two seconds' worth")
                      : latency_known                       ? "held"
                                      : "held (throughput and backlog only: no latency measured)"}};
        find_max_steps.push_back(step);
        if (!held) {
          stop_reason = "find-max: " + step["reason"].get<std::string>();
          break;
        }
        best_step = step;
        step_rate *= o.step_factor;
        step_started = t;
        step_scrape = sc;
        step_received = received;
        step_published = st.published;
        step_backlog = backlog;
        backlog_growth_s = 0;
        if (step_rate > max_rate) {
          stop_reason = "find-max: the rate cap";
          break;
        }
      }
      next_rate = step_rate;
    } else if (o.find_max) {
      next_rate = step_rate;
    }
    prev_backlog = backlog;
    if (!o.find_max && t >= warmup_s + load_s) break;
    const double next_speed = std::max(1e-3, next_rate / base_rate);
    if (!o.rate_max && std::abs(next_speed - speed) > 1e-6 * speed) {
      try {
        const auto r = http_request("127.0.0.1", control_port, "PUT", "/speed",
                                    json{{"speed", next_speed}}.dump(), 2s);
        if (r.status == 200)
          speed = next_speed;
        else
          errors.push_back("PUT /speed answered " + std::to_string(r.status) + ": " + r.body);
      } catch (const std::exception& e) {
        errors.push_back(std::string("PUT /speed: ") + e.what());
      }
    }
    prev_scrape = sc;
    prev_sim = st;
    prev_received = received;
    last_t = t;
  }
  if (o.progress && tty) std::cerr << "\n";
  const double end_t = seconds_since(t0);
  const ingest_scrape end_scrape = scrape_ingestors(ingestors);
  const sim_status end_sim = read_sim_status(control_port);
  const double end_received =
      reference ? static_cast<double>(reference->received()) : end_scrape.received;
  const latency_histogram end_ref_latency = reference ? reference->latency() : latency_histogram{};

  // ---- Stop the load, drain, stop the children ------------------------------------------------
  std::map<std::pair<std::string, std::string>, std::uint64_t> published;
  bool paused = false;
  if (sim_process.running()) {
    try {
      const auto r = http_request("127.0.0.1", control_port, "POST", "/pause", {}, 5s);
      paused = r.status == 200;
      if (!paused)
        errors.push_back("POST /pause answered " + std::to_string(r.status) + ": " + r.body);
      if (paused) published = published_per_machine(control_port);
    } catch (const std::exception& e) {
      errors.push_back(std::string("stopping the load: ") + e.what());
    }
  }
  const sim_status final_sim = read_sim_status(control_port);
  std::cerr << "bench: load stopped (" << stop_reason << "); draining\n";
  const bool skip_drain = bench_interrupts.load() > 1;
  const auto drain_start = steady::now();
  double last_progress_value = -1;
  auto last_progress_at = steady::now();
  double drained_s = 0;
  std::string drain_note;
  while (!skip_drain) {
    double have = 0, want = 0;
    if (reference) {
      have = static_cast<double>(reference->received());
      want = final_sim.published;
    } else {
      try {
        have = static_cast<double>(stored_rows(db));
      } catch (const std::exception& e) {
        errors.push_back(std::string("drain: ") + e.what());
        break;
      }
      want = final_sim.published_readings;
    }
    if (have >= want) break;
    if (have != last_progress_value) {
      last_progress_value = have;
      last_progress_at = steady::now();
    }
    if (steady::now() - last_progress_at > 10s || seconds_since(drain_start) > o.drain_timeout_s) {
      // Not an error: what never arrives is loss, and the accounting below says where.
      drain_note = "drain: " + format_rate(have) + " of " + format_rate(want) +
                   " arrived; stopped waiting after no progress for 10 s or --drain-timeout";
      std::cerr << "bench: " << drain_note << "\n";
      break;
    }
    if (bench_interrupts.load() > 1) break;
    std::this_thread::sleep_for(reference ? 200ms : 1000ms);  // count(*) costs the database
  }
  drained_s = seconds_since(drain_start);
  const int sim_exit = sim_process.stop(SIGINT, 30s);
  for (auto& in : ingestors) in.process.signal(SIGTERM);
  std::vector<int> ingest_exits;
  for (auto& in : ingestors) ingest_exits.push_back(in.process.stop(SIGTERM, 60s));
  if (reference) reference->stop();
  const auto resources = sampler.summary();

  // ---- Accounting and the SQL check -------------------------------------------------------
  json accounting;
  json sql_check = {{"ran", false}};
  std::vector<json> ingest_summaries;
  for (const auto& in : ingestors) {
    try {
      if (std::filesystem::exists(in.summary_file))
        ingest_summaries.push_back(json::parse(read_file(in.summary_file)));
    } catch (const std::exception& e) {
      errors.push_back("ingestor summary " + in.summary_file + ": " + e.what());
    }
  }
  // Per (machine, stream) from the ingestors' summaries (contract 4), summed over ingestors.
  std::map<std::pair<std::string, std::string>, json> ingest_streams;
  for (const auto& s : ingest_summaries) {
    for (const auto& st : s.value("streams", json::array())) {
      auto& into = ingest_streams[{st.value("machine_id", ""), st.value("stream", "")}];
      if (into.is_null()) {
        into = st;
        continue;
      }
      for (const char* k : {"received", "lost", "duplicates", "reordered"})
        into[k] = into.value(k, 0) + st.value(k, 0);
      into["first_seq"] = std::min(into.value("first_seq", 0), st.value("first_seq", 0));
      into["last_seq"] = std::max(into.value("last_seq", 0), st.value("last_seq", 0));
    }
  }
  std::uint64_t published_readings = 0;
  for (const auto& [k, n] : published) published_readings += n;
  json per_stream = json::array();
  std::uint64_t lost_total = 0, dup_total = 0, reorder_total = 0, received_total = 0;
  if (reference) {
    const auto streams = reference->streams();
    for (const auto& [key, n] : published) {
      const auto it = streams.find(key);
      const seq_accounting a = it == streams.end() ? seq_accounting{} : it->second;
      std::uint64_t in_range = 0;
      for (std::uint64_t s = 1; s <= n && s < a.seen.size(); ++s) in_range += a.seen[s] ? 1 : 0;
      const std::uint64_t lost = n - in_range;
      lost_total += lost;
      dup_total += a.duplicates;
      reorder_total += a.reordered;
      received_total += a.received;
      if (lost || a.duplicates || a.reordered)
        per_stream.push_back({{"machine_id", key.first},
                              {"stream", key.second},
                              {"published", n},
                              {"received", a.received},
                              {"lost", lost},
                              {"duplicates", a.duplicates},
                              {"reordered", a.reordered}});
    }
    accounting = {{"source", "reference subscriber (mosquitto_sub)"},
                  {"published", published_readings},
                  {"received", received_total},
                  {"lost", lost_total},
                  {"duplicates", dup_total},
                  {"reordered", reorder_total}};
  } else if (!db.empty() && !published.empty() && !skip_drain) {
    try {
      const auto rows = count_rows(db, published);
      std::uint64_t db_lost = 0, db_dups = 0, db_extra = 0, stored = 0;
      json disagreements = json::array();
      // Per-stream gap counters are a single ingestor's view: members of a shared
      // subscription each see every stream with the others' messages as gaps, so with
      // --ingestors N > 1 only the totals are set beside the database's.
      const bool have_ingest = ingest_summaries.size() == 1;
      for (const auto& [key, n] : published) {
        const auto it = rows.find(key);
        const db_stream_rows r = it == rows.end() ? db_stream_rows{} : it->second;
        const std::uint64_t lost = n - std::min(n, r.distinct_seqs);
        const std::uint64_t in_range_rows = r.rows - r.out_of_range;
        const std::uint64_t dups = in_range_rows - std::min(in_range_rows, r.distinct_seqs);
        db_lost += lost;
        db_dups += dups;
        db_extra += r.out_of_range;
        stored += r.rows;
        json entry = {{"machine_id", key.first},
                      {"stream", key.second},
                      {"published", n},
                      {"db_rows", r.rows},
                      {"db_lost", lost},
                      {"db_duplicates", dups},
                      {"db_out_of_range", r.out_of_range}};
        bool listed = lost || dups || r.out_of_range;
        if (have_ingest) {
          const auto is = ingest_streams.find(key);
          // What the ingestor saw missing: its gaps, plus the head and tail it never saw.
          std::uint64_t ingest_missing = n;
          if (is != ingest_streams.end()) {
            const auto& s = is->second;
            const std::uint64_t first = s.value("first_seq", 0ull),
                                last = s.value("last_seq", 0ull);
            ingest_missing =
                s.value("lost", 0ull) + (first > 0 ? first - 1 : 0) + (n > last ? n - last : 0);
            entry["ingest_received"] = s.value("received", 0ull);
            entry["ingest_lost"] = s.value("lost", 0ull);
            entry["ingest_duplicates"] = s.value("duplicates", 0ull);
            entry["ingest_reordered"] = s.value("reordered", 0ull);
            dup_total += s.value("duplicates", 0ull);
            reorder_total += s.value("reordered", 0ull);
            received_total += s.value("received", 0ull);
          }
          entry["ingest_missing"] = ingest_missing;
          if (ingest_missing != lost) {
            listed = true;
            disagreements.push_back(entry);
          }
        }
        if (listed) per_stream.push_back(entry);
      }
      lost_total = db_lost;
      const bool agrees = disagreements.empty() && db_dups == 0;
      sql_check = {{"ran", true},
                   {"compared_with_ingestor", have_ingest},
                   {"agrees", have_ingest ? agrees : db_dups == 0},
                   {"streams_checked", published.size()},
                   {"published_rows", published_readings},
                   {"stored_rows", stored},
                   {"lost_rows", db_lost},
                   {"duplicate_rows", db_dups},
                   {"out_of_range_rows", db_extra},
                   {"disagreements", disagreements}};
      if (!ingest_summaries.empty()) {
        double committed = 0;
        for (const auto& s : ingest_summaries) committed += s.value("committed_rows", 0.0);
        sql_check["ingestor_committed_rows"] = committed;
      }
      accounting = {{"source", have_ingest ? "SQL check and the ingestors' counters" : "SQL check"},
                    {"published", published_readings},
                    {"received", have_ingest ? json(received_total) : json(nullptr)},
                    {"stored", stored},
                    {"lost", db_lost},
                    {"duplicates", have_ingest ? json(dup_total) : json(nullptr)},
                    {"reordered", have_ingest ? json(reorder_total) : json(nullptr)}};
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  accounting["streams"] = per_stream;

  // ---- Results -------------------------------------------------------------------------------
  const double window_s = std::max(1e-3, (warm_done ? end_t - warm_t : end_t));
  json results;
  results["stop_reason"] = stop_reason;
  results["load_s"] = end_t;
  results["warmup_s"] = warm_done ? warm_t : end_t;
  results["measured_s"] = window_s;
  results["drain_s"] = drained_s;
  results["drain_complete"] = drain_note.empty() && !skip_drain;
  results["drain_note"] = drain_note.empty() ? json(nullptr) : json(drain_note);
  json throughput;
  throughput["published_per_s"] = (end_sim.published - warm_sim.published) / window_s;
  const bool have_recv = reference || end_scrape.ok;
  throughput["received_per_s"] =
      have_recv ? json((end_received - warm_received) / window_s) : json(nullptr);
  throughput["committed_rows_per_s"] =
      end_scrape.ok ? json((end_scrape.committed - warm_committed) / window_s) : json(nullptr);
  results["throughput"] = throughput;
  json latency = json::object();
  if (end_scrape.ok) {
    for (const auto& [name, key] : {std::pair{hist_committed, "publish_to_committed"},
                                    {hist_received, "publish_to_received"},
                                    {hist_send_delay, "send_delay"}}) {
      const auto e = end_scrape.histograms.find(name);
      if (e == end_scrape.histograms.end()) continue;
      const auto w = warm_scrape.histograms.find(name);
      latency[key] =
          latency_json(w == warm_scrape.histograms.end() ? e->second : e->second.minus(w->second));
    }
    // The whole run's maxima from the ingestors' summaries (a histogram forgets them).
    for (const auto& s : ingest_summaries) {
      const json summary_latency = s.value("latency", json::object());
      for (const auto& [key, v] : summary_latency.items())
        if (latency.contains(key.substr(0, key.size() - 3)) && v.contains("max") &&
            v["max"].is_number()) {
          auto& m = latency[key.substr(0, key.size() - 3)]["max"];
          m = m.is_number() ? std::max(m.get<double>(), v["max"].get<double>())
                            : v["max"].get<double>();
        }
    }
    // /metrics buckets are coarse: an interpolated percentile may land above the true max.
    for (auto& [key, l] : latency.items())
      if (l["max"].is_number())
        for (const char* q : {"p50", "p90", "p99", "p999"})
          if (l[q].is_number() && l[q].get<double>() > l["max"].get<double>()) l[q] = l["max"];
  } else if (reference) {
    latency["publish_to_received"] = latency_json(end_ref_latency.minus(warm_ref_latency));
  }
  results["latency_ms"] = latency;
  results["latency_ms_whole_run"] = whole_run_latency(ingest_summaries);
  results["accounting"] = accounting;
  results["sql_check"] = sql_check;
  json rows_s = json::object();
  if (!db.empty() && !skip_drain) {
    try {
      const json tables = rows_per_table(db);
      for (const auto& [table, n] : tables.items())
        rows_s[table] = n.get<double>() / std::max(1e-3, end_t + drained_s);
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  results["rows_per_s_per_table"] = rows_s;
  json res = json::object();
  for (const auto& [role, t] : resources)
    res[role] = {{"cpu_percent_mean", std::round(t.cpu_percent_mean * 10) / 10},
                 {"cpu_percent_max", std::round(t.cpu_percent_max * 10) / 10},
                 {"peak_rss_mib", std::round(t.peak_rss_mib * 10) / 10}};
  results["resources"] = res;
  results["max_sustainable"] =
      o.find_max ? json{{"rate_per_s", best_step ? (*best_step)["committed_per_s"] : json(nullptr)},
                        {"target_rate_per_s",
                         best_step ? (*best_step)["target_rate_per_s"] : json(nullptr)},
                        {"p99_ms", best_step ? (*best_step)["p99_ms"] : json(nullptr)},
                        {"slo_ms", o.slo_ms},
                        {"steps", find_max_steps}}
                 : json(nullptr);
  json children = {{"simulator_exit", sim_exit}, {"ingestor_exits", ingest_exits}};
  if (sim_exit != 0 && bench_interrupts.load() == 0)
    errors.push_back("the simulator exited with " + std::to_string(sim_exit) + "; log:\n" +
                     tail_of_file(run_log, 600));
  for (std::size_t k = 0; k < ingest_exits.size(); ++k)
    if (ingest_exits[k] != 0)
      errors.push_back("ingestor " + std::to_string(k) + " exited with " +
                       std::to_string(ingest_exits[k]));
  results["children"] = children;
  results["errors"] = errors;
  results["timeline"] = timeline;
  try {
    results["simulator_summary"] = json::parse(read_file(run_summary));
  } catch (const std::exception&) {
    results["simulator_summary"] = nullptr;
  }

  // ---- Manifest ----------------------------------------------------------------------------
  json manifest;
  manifest["factorysim"] = o.factorysim_version;
  manifest["command_line"] = o.command_line;
  manifest["started_at"] =
      std::chrono::duration_cast<std::chrono::seconds>(t_begin.time_since_epoch()).count();
  manifest["scenario"] = {{"name", scenario.name},
                          {"file", o.scenario},
                          {"sha256", sha256_of_file(o.scenario)},
                          {"machines", rate.machines},
                          {"base_rate_per_s", base_rate}};
  manifest["seed"] = scenario.seed;
  manifest["options"] = {
      {"mqtt",
       o.mqtt_host ? json(*o.mqtt_host + ":" + std::to_string(*o.mqtt_port)) : json("private")},
      {"db", o.no_ingest ? json(nullptr)
             : o.db      ? json(*o.db)
                         : json("private")},
      {"ingestors", o.no_ingest ? 0 : o.ingestors},
      {"no_ingest", o.no_ingest},
      {"machines", o.machines ? json(*o.machines) : json(nullptr)},
      {"qos", o.qos},
      {"rate_per_s", o.rate_max     ? json("max")
                     : o.rate_per_s ? json(*o.rate_per_s)
                                    : json(nullptr)},
      {"duration_s", o.find_max ? json(nullptr) : json(load_s)},
      {"warmup_s", warmup_s},
      {"find_max", o.find_max},
      {"slo_ms", o.slo_ms},
      {"step_s", o.step_s},
      {"step_factor", o.step_factor},
      {"sessions", o.sessions},
      {"window", o.window},
      {"drain_timeout_s", o.drain_timeout_s},
      {"stamp_send_time", o.stamp_send_time}};
  json prof = json::array();
  for (const auto& s : profile.segments)
    prof.push_back({{s.ramp ? "ramp_to" : "rate", s.rate_per_s}, {"for_s", s.duration_s}});
  manifest["options"]["profile"] = prof;
  manifest["in_band_timing"] = run_has_stamps;
  manifest["ingest_metrics"] = ingest_has_metrics;  // false: totals from their status lines
  manifest["mosquitto"] = broker ? mosquitto_version() : "external";
  if (!db.empty()) {
    try {
      const auto [pgv, tsv] = database_versions(db);
      manifest["postgresql"] = pgv;
      manifest["timescaledb"] = tsv.empty() ? json(nullptr) : json(tsv);
    } catch (const std::exception&) {
      manifest["postgresql"] = nullptr;
    }
    if (pg) manifest["postgresql_settings"] = private_postgres::settings();
  }
  manifest["host"] = host_info();

  json report;
  report["schema"] = "factorysim-bench/1";
  report["complete"] = bench_interrupts.load() == 0 && stop_reason != "simulator exited";
  report["manifest"] = manifest;
  report["results"] = results;

  if (pg) pg->stop();
  if (broker) broker->stop();
  if (!o.keep_work_dir && errors.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  } else {
    std::cerr << "bench: logs kept in " << work << "\n";
  }
  return report;
}

}  // namespace

json run_bench(const bench_options& options) {
  if (!options.with_reference) return run_single(options);
  if (options.no_ingest)
    throw bench_usage_error("--with-reference runs --no-ingest itself; give one of them");
  if (options.mqtt_host)
    throw bench_usage_error("--with-reference starts its own brokers: no --mqtt-host");
  // The broker-only reference first, with the same load, on a broker of its own; then the
  // end-to-end run. Same machine, minutes apart: their ratio is what the README states.
  bench_options ref = options;
  ref.no_ingest = true;
  ref.db.reset();
  ref.ingestors = 1;
  ref.with_reference = false;
  std::cerr << "bench: reference run (broker only, --no-ingest)\n";
  const json ref_report = run_single(ref);
  if (bench_interrupts.load() > 0) return ref_report;
  std::cerr << "bench: end-to-end run\n";
  json report = run_single(options);
  const json& rr = ref_report.at("results");
  report["results"]["reference"] = {{"complete", ref_report.at("complete")},
                                    {"throughput", rr.at("throughput")},
                                    {"latency_ms", rr.at("latency_ms")},
                                    {"accounting", rr.at("accounting")},
                                    {"resources", rr.at("resources")},
                                    {"max_sustainable", rr.at("max_sustainable")},
                                    {"errors", rr.at("errors")},
                                    {"timeline", rr.at("timeline")}};
  const json& tp = report["results"]["throughput"];
  const json& rtp = rr.at("throughput");
  const auto ratio = [](const json& a, const json& b) {
    return a.is_number() && b.is_number() && b.get<double>() > 0
               ? json(a.get<double>() / b.get<double>())
               : json(nullptr);
  };
  // The reference counts every message it receives (readings, status, events); rows are
  // readings: status and events are well under 1 % of a bench scenario's messages.
  report["results"]["ratio_to_reference"] = {
      {"committed_rows_per_s",
       ratio(tp.value("committed_rows_per_s", json()), rtp.value("received_per_s", json()))},
      {"received_per_s",
       ratio(tp.value("received_per_s", json()), rtp.value("received_per_s", json()))},
      {"max_sustainable_rate",
       ratio(report["results"].value("/max_sustainable/rate_per_s"_json_pointer, json()),
             rr.value("/max_sustainable/rate_per_s"_json_pointer, json()))}};
  if (!ref_report.at("results").at("errors").empty())
    for (const auto& e : ref_report.at("results").at("errors"))
      report["results"]["errors"].push_back("reference: " + e.get<std::string>());
  return report;
}

}  // namespace factorysim::benchrun
