// `factorysim bench` as a user runs it (issue 9): bad usage, unreachable services, compare's
// exit codes, and short real runs (a private mosquitto and PostgreSQL each) whose reports
// must account for every reading. No assertion on speed.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "benchrun/proc_sampler.hpp"
#include "benchrun/process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/postgres_server.hpp"

namespace factorysim::test {
namespace {

using json = nlohmann::json;

child_options with_timeout(int seconds) {
  child_options o;
  o.timeout = std::chrono::seconds(seconds);
  return o;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

struct temp_dir {
  std::string path = make_temp_dir("factorysim-bench-test");
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TEST(bench_command, an_unknown_option_is_bad_usage_with_the_reason) {
  const auto r = run_factorysim_child({"bench", "--rate", "100", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
}

TEST(bench_command, no_load_given_is_bad_usage_that_says_what_to_give) {
  temp_dir dir;
  const std::string file = dir.path + "/s.yaml";
  std::ifstream src(std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/bench.yaml");
  std::string text((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  text.erase(text.find("bench:\n"), text.find("factories:") - text.find("bench:\n"));
  std::ofstream(file) << text;
  const auto r = run_factorysim_child({"bench", file});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
}

TEST(bench_command, a_bad_profile_names_file_line_and_field) {
  temp_dir dir;
  const std::string file = dir.path + "/s.yaml";
  std::ifstream src(std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/bench.yaml");
  std::string text((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  const auto at = text.find("ramp_to: 40000");
  text.replace(at, 14, "ramp_to: -4");
  std::ofstream(file) << text;
  const auto r = run_factorysim_child({"bench", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(file + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bench.profile[1].ramp_to: must be > 0"), std::string::npos) << r.err;
}

TEST(bench_command, an_unreachable_broker_is_a_runtime_failure_with_the_reason) {
  const int port = pick_free_port();
  const auto r = run_factorysim_child({"bench", "--rate", "100", "--duration", "1", "--mqtt-host",
                                       "127.0.0.1", "--mqtt-port", std::to_string(port)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach the MQTT broker at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
}

TEST(bench_command, an_unreachable_database_is_a_runtime_failure_with_the_reason) {
  const int port = pick_free_port();
  const auto r = run_factorysim_child(
      {"bench", "--rate", "100", "--duration", "1", "--db",
       "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach the database"), std::string::npos) << r.err;
}

TEST(bench_command, compare_exits_1_on_a_regression_0_within_tolerance_2_on_bad_input) {
  temp_dir dir;
  const auto write = [&](const std::string& name, double rows_per_s, double p99) {
    const std::string path = dir.path + "/" + name;
    std::ofstream(path) << json{{"schema", "factorysim-bench/1"},
                                {"results",
                                 {{"throughput", {{"committed_rows_per_s", rows_per_s}}},
                                  {"latency_ms", {{"publish_to_committed", {{"p99", p99}}}}}}}}
                               .dump();
    return path;
  };
  const auto base = write("a.json", 50000, 100), same = write("b.json", 49000, 102),
             slower = write("c.json", 40000, 100);
  const auto ok = run_factorysim_child({"bench", "compare", base, same});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("no regression"), std::string::npos) << ok.out;
  const auto bad = run_factorysim_child({"bench", "compare", base, slower, "--tolerance", "5%"});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("REGRESSION"), std::string::npos) << bad.out;
  const auto loose = run_factorysim_child({"bench", "compare", base, slower, "--tolerance", "25%"});
  EXPECT_EQ(loose.exit_code, 0) << loose.out;
  std::ofstream(dir.path + "/junk.json") << "{not json";
  const auto junk = run_factorysim_child({"bench", "compare", base, dir.path + "/junk.json"});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("junk.json"), std::string::npos) << junk.err;
  const auto tol = run_factorysim_child({"bench", "compare", base, same, "--tolerance", "lots"});
  EXPECT_EQ(tol.exit_code, 2);
}

/// The report's structure every run has.
void expect_report_structure(const json& r) {
  EXPECT_EQ(r.at("schema"), "factorysim-bench/1");
  EXPECT_TRUE(r.at("complete").get<bool>());
  const json& m = r.at("manifest");
  for (const char* k : {"factorysim", "scenario", "seed", "options", "mosquitto", "host"})
    EXPECT_TRUE(m.contains(k)) << k;
  EXPECT_EQ(m.at("scenario").at("sha256").get<std::string>().size(), 64u);
  for (const char* k : {"cpu_model", "cores", "memory_mib", "kernel"})
    EXPECT_TRUE(m.at("host").contains(k)) << k;
  const json& res = r.at("results");
  for (const char* k : {"timeline", "throughput", "latency_ms", "accounting", "sql_check",
                        "rows_per_s_per_table", "resources", "max_sustainable", "errors"})
    EXPECT_TRUE(res.contains(k)) << k;
  EXPECT_TRUE(res.at("errors").empty()) << res.at("errors").dump();
  ASSERT_GE(res.at("timeline").size(), 3u);
  const json& p = res.at("timeline").at(1);
  for (const char* k : {"t_s", "phase", "target_rate_per_s", "published_per_s", "received_per_s",
                        "committed_per_s", "backlog", "latency_ms", "resources"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_TRUE(p.at("resources").contains("simulator"));
  EXPECT_TRUE(p.at("resources").contains("broker"));
}

TEST(bench_command, a_short_end_to_end_run_accounts_for_every_reading_and_sql_agrees) {
  temp_dir dir;
  const auto r = run_factorysim_child(
      {"bench", "--machines", "100", "--rate", "1500", "--duration", "3", "--warmup", "1",
       "--no-progress", "--json", dir.path + "/r.json", "--html", dir.path + "/r.html"},
      with_timeout(300));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = read_json(dir.path + "/r.json");
  expect_report_structure(report);
  const json& res = report.at("results");
  EXPECT_TRUE(res.at("timeline").at(1).at("resources").contains("postgres"));
  EXPECT_TRUE(res.at("timeline").at(1).at("resources").contains("ingestor-0"));
  const json& acc = res.at("accounting");
  EXPECT_GT(acc.at("published").get<double>(), 0);
  EXPECT_EQ(acc.at("lost"), 0);
  const json& sql = res.at("sql_check");
  EXPECT_TRUE(sql.at("ran").get<bool>());
  EXPECT_TRUE(sql.at("agrees").get<bool>()) << sql.dump();
  EXPECT_EQ(sql.at("stored_rows"), sql.at("published_rows"));
  EXPECT_EQ(sql.at("lost_rows"), 0);
  EXPECT_EQ(sql.at("duplicate_rows"), 0);
  // 100 machines x 3 reading streams, each checked.
  EXPECT_GE(sql.at("streams_checked").get<int>(), 300);
  if (report.at("manifest").at("ingest_metrics").get<bool>()) {
    // The ingestor measures (contract 4): its counters are compared and latency is known.
    EXPECT_TRUE(sql.at("compared_with_ingestor").get<bool>());
    EXPECT_TRUE(res.at("latency_ms").contains("publish_to_committed"));
  }
  EXPECT_NE(r.err.find("SQL check agrees"), std::string::npos) << r.err;
}

TEST(bench_command, two_ingestors_share_the_stream_and_sql_still_finds_every_row) {
  temp_dir dir;
  const auto r = run_factorysim_child(
      {"bench", "--ingestors", "2", "--machines", "50", "--rate", "900", "--duration", "2",
       "--warmup", "1", "--no-progress", "--json", dir.path + "/r.json"},
      with_timeout(300));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = read_json(dir.path + "/r.json");
  expect_report_structure(report);
  const json& res = report.at("results");
  EXPECT_TRUE(res.at("resources").contains("ingestor-0"));
  EXPECT_TRUE(res.at("resources").contains("ingestor-1"));
  const json& sql = res.at("sql_check");
  EXPECT_TRUE(sql.at("agrees").get<bool>()) << sql.dump();
  EXPECT_EQ(sql.at("lost_rows"), 0);
  EXPECT_EQ(sql.at("stored_rows"), sql.at("published_rows"));
}

TEST(bench_command, readings_the_broker_drops_are_reported_exactly_as_sql_finds_them_issue_9) {
  // QoS 0 (nothing acknowledged, so nothing slows the publisher), a broker that queues at most
  // 100 messages per client, and a database frozen (SIGSTOP) for 3 s under load: the
  // ingestor's bounded queue fills, it stops reading, and the broker drops readings. What
  // bench reports lost must be exactly what this test's own SQL finds missing.
  mosquitto_server broker({.users = {},
                           .extra_config = {"max_queued_messages 100", "max_inflight_messages 100"},
                           .tls = false});
  postgres_server pg;
  temp_dir dir;
  const std::string log = dir.path + "/bench.log";
  auto bench = benchrun::child::spawn({FACTORYSIM_BINARY,
                                       "bench",
                                       "--mqtt-host",
                                       "127.0.0.1",
                                       "--mqtt-port",
                                       std::to_string(broker.port()),
                                       "--db",
                                       pg.conninfo(),
                                       "--machines",
                                       "100",
                                       "--qos",
                                       "0",
                                       "--rate",
                                       "20000",
                                       "--duration",
                                       "8",
                                       "--warmup",
                                       "0",
                                       "--no-progress",
                                       "--drain-timeout",
                                       "30",
                                       "--json",
                                       dir.path + "/r.json"},
                                      benchrun::logging_to(log));
  const auto bench_log = [&] {
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  // Freeze once rows arrive: the postmaster (data/postmaster.pid) and every backend.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const auto rows = [&] {
    try {
      return query_int(pg.conninfo(), "SELECT count(*) FROM energy_readings");
    } catch (const std::exception&) {
      return 0ll;  // db init has not made the table yet
    }
  };
  while (rows() == 0) {
    ASSERT_TRUE(bench.running()) << bench_log();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << bench_log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream pid_file(pg.dir() / "data" / "postmaster.pid");
  pid_t postmaster = 0;
  pid_file >> postmaster;
  ASSERT_GT(postmaster, 0);
  std::vector<pid_t> frozen = benchrun::descendants_of(postmaster);
  frozen.push_back(postmaster);
  for (pid_t p : frozen) ::kill(p, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (pid_t p : frozen) ::kill(p, SIGCONT);
  const auto status = bench.wait_for(std::chrono::seconds(240));
  ASSERT_TRUE(status.has_value()) << bench_log();
  const int exit_code = *status;
  const std::string err = bench_log();
  const json report = read_json(dir.path + "/r.json");
  const json& sql = report.at("results").at("sql_check");
  ASSERT_TRUE(sql.at("ran").get<bool>()) << err;
  const long long published = sql.at("published_rows").get<long long>();
  const long long bench_lost = sql.at("lost_rows").get<long long>();
  ASSERT_GT(bench_lost, 0) << "the broker dropped nothing; the test proves nothing: " << err;
  // Our own count: distinct seqs stored per reading table (each machine's seqs start at 1).
  long long distinct = 0;
  for (const char* table :
       {"energy_readings", "production_data", "environmental_data", "health_truth"})
    distinct += query_int(
        pg.conninfo(),
        std::string("SELECT count(*) FROM (SELECT DISTINCT machine_id, seq FROM ") + table + ") d");
  EXPECT_EQ(published - distinct, bench_lost);
  EXPECT_EQ(sql.at("stored_rows").get<long long>(), distinct);
  EXPECT_EQ(report.at("results").at("accounting").at("lost").get<long long>(), bench_lost);
  // The lost streams are listed, each with its own count, adding up to the total.
  long long listed = 0;
  for (const auto& s : report.at("results").at("accounting").at("streams"))
    listed += s.value("db_lost", 0ll);
  EXPECT_EQ(listed, bench_lost);
  if (sql.at("compared_with_ingestor").get<bool>()) {
    // With the ingestor's gap counters (contract 4) both views must agree: bench says so.
    EXPECT_TRUE(sql.at("agrees").get<bool>()) << sql.at("disagreements").dump();
    EXPECT_EQ(exit_code, 0) << err;
  }
}

TEST(bench_command, find_max_steps_up_until_a_step_fails_and_reports_the_last_that_held) {
  temp_dir dir;
  const auto r = run_factorysim_child(
      {"bench", "--no-ingest", "--find-max", "--machines", "100", "--rate", "1000", "--step-s", "2",
       "--step-factor", "4", "--warmup", "1", "--no-progress", "--json", dir.path + "/r.json"},
      with_timeout(300));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = read_json(dir.path + "/r.json");
  const json& m = report.at("results").at("max_sustainable");
  const json& steps = m.at("steps");
  ASSERT_GE(steps.size(), 1u) << m.dump();
  // Every step but the last held, each at step-factor times the one before; the report's
  // figure is the last one that held (none when the first failed).
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_DOUBLE_EQ(steps[i].at("target_rate_per_s").get<double>(),
                     1000 * std::pow(4.0, static_cast<double>(i)));
    if (i + 1 < steps.size()) {
      EXPECT_TRUE(steps[i].at("held").get<bool>()) << steps.dump();
    }
  }
  const std::string reason = report.at("results").at("stop_reason");
  EXPECT_EQ(reason.rfind("find-max: ", 0), 0u) << reason;
  if (steps.size() >= 2 && !steps.back().at("held").get<bool>()) {
    EXPECT_EQ(m.at("target_rate_per_s"), steps[steps.size() - 2].at("target_rate_per_s"));
  }
  EXPECT_EQ(report.at("results").at("accounting").at("lost"), 0);
}

TEST(bench_command, a_profile_s_ramp_is_followed_by_changing_the_simulator_s_speed) {
  temp_dir dir;
  const std::string file = dir.path + "/ramp.yaml";
  std::ifstream src(std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/bench.yaml");
  std::string text((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  const auto from = text.find("bench:\n"), to = text.find("factories:");
  text.replace(from, to - from,
               "bench:\n  warmup: 0s\n  machines: 100\n  profile:\n    - {rate: 600, for: 2s}\n"
               "    - {ramp_to: 3000, for: 3s}\n");
  std::ofstream(file) << text;
  const auto r = run_factorysim_child(
      {"bench", file, "--no-ingest", "--no-progress", "--json", dir.path + "/r.json"},
      with_timeout(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = read_json(dir.path + "/r.json");
  EXPECT_TRUE(report.at("results").at("errors").empty()) << report.at("results").at("errors");
  const json& timeline = report.at("results").at("timeline");
  ASSERT_GE(timeline.size(), 5u);
  // Second 1 holds the step; the ramp's seconds rise towards 3,000, and the speed that
  // bench set with PUT /speed rose with them (base rate: 100 machines x 3 streams = 300/s).
  EXPECT_DOUBLE_EQ(timeline.at(0).at("target_rate_per_s").get<double>(), 600);
  double last_target = 0, last_speed = 0;
  for (std::size_t i = 2; i < timeline.size(); ++i) {
    EXPECT_GE(timeline[i].at("target_rate_per_s").get<double>(), last_target);
    last_target = timeline[i].at("target_rate_per_s").get<double>();
    last_speed = timeline[i].at("speed").get<double>();
  }
  EXPECT_GT(last_target, 1500);
  EXPECT_GT(last_speed, 5.0);
  EXPECT_EQ(report.at("results").at("accounting").at("lost"), 0);
}

TEST(bench_command, broker_only_counts_every_message_at_a_reference_subscriber) {
  temp_dir dir;
  const auto r = run_factorysim_child(
      {"bench", "--no-ingest", "--machines", "100", "--rate", "1500", "--duration", "2", "--warmup",
       "1", "--no-progress", "--json", dir.path + "/r.json"},
      with_timeout(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = read_json(dir.path + "/r.json");
  expect_report_structure(report);
  const json& acc = report.at("results").at("accounting");
  EXPECT_GT(acc.at("published").get<double>(), 0);
  EXPECT_EQ(acc.at("lost"), 0);
  EXPECT_GE(acc.at("received").get<double>(), acc.at("published").get<double>());
  EXPECT_FALSE(report.at("results").at("sql_check").at("ran").get<bool>());
  EXPECT_TRUE(report.at("results").at("timeline").at(1).at("resources").contains("subscriber"));
}

TEST(bench_command, the_html_report_draws_its_charts_in_headless_chromium) {
  temp_dir dir;
  const auto r = run_factorysim_child(
      {"bench", "--no-ingest", "--machines", "50", "--rate", "600", "--duration", "3", "--warmup",
       "0", "--no-progress", "--html", dir.path + "/r.html"},
      with_timeout(120));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto dom = run_child(
      {"chromium", "--headless", "--disable-gpu", "--no-sandbox",
       "--user-data-dir=" + dir.path + "/chromium", "--dump-dom", "file://" + dir.path + "/r.html"},
      with_timeout(90));
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  // The rendered DOM holds the rate chart with one path per series and a point per second.
  EXPECT_NE(dom.out.find("<svg id=\"rates\""), std::string::npos) << dom.out.substr(0, 2000);
  const std::string path_start = "<path class=\"series\" data-points=\"";
  std::size_t paths = 0, pos = 0;
  while ((pos = dom.out.find(path_start, pos)) != std::string::npos) {
    pos += path_start.size();
    if (std::stoi(dom.out.substr(pos)) >= 3) ++paths;
  }
  EXPECT_GE(paths, 3u) << dom.out.substr(0, 4000);
  EXPECT_NE(dom.out.find(" d=\"M"), std::string::npos);
}

TEST(bench_command, ctrl_c_writes_a_partial_report_marked_incomplete) {
  temp_dir dir;
  const std::string log = dir.path + "/bench.log", report_file = dir.path + "/r.json";
  auto bench = benchrun::child::spawn(
      {FACTORYSIM_BINARY, "bench", "--no-ingest", "--machines", "50", "--rate", "500", "--duration",
       "600", "--warmup", "0", "--json", report_file},
      benchrun::logging_to(log));
  // Interrupted once the load runs: its first progress line (every 5 s off a terminal).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const auto log_text = [&] {
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  while (log_text().find(" s target ") == std::string::npos) {
    ASSERT_TRUE(bench.running()) << log_text();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << log_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bench.signal(SIGINT);
  const auto status = bench.wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << log_text();
  EXPECT_EQ(*status, 0) << log_text();
  const json report = read_json(report_file);
  EXPECT_FALSE(report.at("complete").get<bool>());
  EXPECT_EQ(report.at("results").at("stop_reason"), "interrupted");
  EXPECT_GE(report.at("results").at("timeline").size(), 4u);
  // What was published before the interrupt is still accounted for.
  EXPECT_EQ(report.at("results").at("accounting").at("lost"), 0);
  EXPECT_NE(log_text().find("INCOMPLETE"), std::string::npos);
}

}  // namespace
}  // namespace factorysim::test
