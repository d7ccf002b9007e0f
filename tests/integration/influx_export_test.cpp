// `run --format influx` (issue 13) against a real InfluxDB 1.x (Debian's influxdb package): a
// private influxd on free loopback ports, the exported line protocol written through its HTTP
// /write endpoint, and queried back with the `influx` CLI: counts per measurement and per
// tag, field values and types, timestamps, and names that need every escape rule.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "scenarios/text_formats.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
namespace ft = factorysim::test;
using nlohmann::json;

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// influxd with its meta, data and WAL folders under a private folder, HTTP and RPC on free
/// loopback ports, nothing reported anywhere. Throws (with its log) when it does not start.
class influx_server {
 public:
  influx_server() : dir_(ft::make_temp_dir("factorysim-influx")) {
    http_port_ = ft::pick_free_port();
    rpc_port_ = ft::pick_free_port();
    std::ofstream(dir_ + "/influxdb.conf")
        << "reporting-disabled = true\n"
        << "bind-address = \"127.0.0.1:" << rpc_port_ << "\"\n"
        << "[meta]\n  dir = \"" << dir_ << "/meta\"\n"
        << "[data]\n  dir = \"" << dir_ << "/data\"\n  wal-dir = \"" << dir_ << "/wal\"\n"
        << "  query-log-enabled = false\n"
        << "[monitor]\n  store-enabled = false\n"
        << "[http]\n  bind-address = \"127.0.0.1:" << http_port_ << "\"\n"
        << "  log-enabled = false\n";
    const std::string conf = dir_ + "/influxdb.conf", log = dir_ + "/influxd.log";
    std::vector<std::string> args{"/usr/bin/influxd", "run", "-config", conf};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      throw std::runtime_error("cannot start /usr/bin/influxd (apt-get install influxdb)");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      try {
        if (ft::http_request("127.0.0.1", http_port_, "GET", "/ping").status == 204) break;
      } catch (const std::exception&) {
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("influxd did not answer /ping; log:\n" + read_all(log));
      std::this_thread::sleep_for(100ms);
    }
  }
  ~influx_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }
  int port() const { return http_port_; }
  std::string log() const { return read_all(dir_ + "/influxd.log"); }

  /// POST /write (nanosecond timestamps); returns the HTTP status (204 = written).
  ft::http_response write(const std::string& db, const std::string& lines) const {
    return ft::http_request("127.0.0.1", http_port_, "POST", "/write?db=" + db + "&precision=ns",
                            lines, {{"Content-Type", "text/plain"}});
  }
  /// Runs InfluxQL with the `influx` CLI; returns the rows of the first series as JSON.
  json query(const std::string& db, const std::string& q) const {
    const auto r =
        ft::run_child({"influx", "-host", "127.0.0.1", "-port", std::to_string(http_port_),
                       "-database", db, "-format", "json", "-precision", "ns", "-execute", q});
    if (r.exit_code != 0) throw std::runtime_error("influx " + q + ": " + r.err + r.out);
    return json::parse(r.out);
  }
  /// The single value of a one-row query (column 1, after time).
  json value(const std::string& db, const std::string& q) const {
    const json j = query(db, q);
    return j.at("results").at(0).at("series").at(0).at("values").at(0).at(1);
  }

 private:
  std::string dir_;
  int http_port_ = 0, rpc_port_ = 0;
  pid_t pid_ = -1;
};

TEST(influx_export, the_demo_plants_hour_loads_and_queries_back) {
  influx_server influx;
  const std::string dir = ft::make_temp_dir("factorysim-lp");
  const std::string lp = dir + "/hour.lp", tsv = dir + "/hour.tsv";
  const std::vector<std::string> range{
      "--mode",    "backfill", "--from", "2024-06-01T00:00:00Z", "--to", "2024-06-01T01:00:00Z",
      "--control", "off"};
  auto args = std::vector<std::string>{"run", "demo-plant", "--output", lp, "--format", "influx"};
  args.insert(args.end(), range.begin(), range.end());
  ASSERT_EQ(ft::run_factorysim_child(args).exit_code, 0);
  args = {"run", "demo-plant", "--output", tsv};
  args.insert(args.end(), range.begin(), range.end());
  ASSERT_EQ(ft::run_factorysim_child(args).exit_code, 0);

  ASSERT_EQ(influx.query("_internal", "CREATE DATABASE fs").at("results").size(), 1u);
  const auto w = influx.write("fs", read_all(lp));
  ASSERT_EQ(w.status, 204) << w.body << influx.log();

  // Every reading of the hour, per measurement and per machine tag.
  EXPECT_EQ(influx.value("fs", "SELECT count(power_kw) FROM energy"), 8520);
  EXPECT_EQ(influx.value("fs", "SELECT count(production_count) FROM production"), 8520);
  EXPECT_EQ(influx.value("fs", "SELECT count(seq) FROM environmental"), 8520);
  // Status and event messages depend on the hour's mode changes (micro-stops, changeovers):
  // the TSV capture of the same hour says how many there are, and there must be some.
  const auto in_capture = [&](std::string_view stream) {
    std::istringstream in(read_all(tsv));
    long n = 0;
    for (std::string line; std::getline(in, line);) {
      const auto topic = std::string_view(line).substr(0, line.find('\t'));
      if (topic.ends_with("/" + std::string(stream))) ++n;
    }
    return n;
  };
  const long statuses = in_capture("status"), events = in_capture("events");
  EXPECT_GE(statuses, 14);
  EXPECT_GE(events, 4);
  EXPECT_EQ(influx.value("fs", "SELECT count(seq) FROM status"), statuses);
  EXPECT_EQ(influx.value("fs", "SELECT count(seq) FROM events"), events);
  EXPECT_EQ(influx.value("fs",
                         "SELECT count(power_kw) FROM energy WHERE machine = "
                         "'Compressor-1' AND factory = 'Demo Manufacturing Plant'"),
            3600);
  EXPECT_EQ(influx.value("fs", "SELECT count(power_kw) FROM energy WHERE type = 'pump'"), 120);

  // The first energy reading of Compressor-EU-1, field by field, against its payload.
  std::string first;
  std::istringstream in(read_all(tsv));
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("factory/europe/compressor-1/energy\t")) {
      first = line.substr(line.find('\t') + 1);
      break;
    }
  const json p = json::parse(first);
  const json rows = influx.query(
      "fs",
      "SELECT seq, power_kw, voltage_v, energy_total_kwh FROM energy WHERE machine_id = "
      "'c0000000-0000-0000-0000-000000000006' ORDER BY time LIMIT 1");
  const json row = rows.at("results").at(0).at("series").at(0).at("values").at(0);
  const auto t = factorysim::scenarios::parse_rfc3339(p.at("time").get<std::string>());
  ASSERT_TRUE(t);
  EXPECT_EQ(row.at(0).get<long long>(), t->time_since_epoch().count() * 1'000'000LL);
  EXPECT_EQ(row.at(1), p.at("seq"));
  EXPECT_DOUBLE_EQ(row.at(2).get<double>(), p.at("power_kw").get<double>());
  EXPECT_DOUBLE_EQ(row.at(3).get<double>(), p.at("voltage_v").get<double>());
  EXPECT_DOUBLE_EQ(row.at(4).get<double>(), p.at("energy_total_kwh").get<double>());

  // Field types as documented: seq an integer, power a float, mode a string, running a boolean.
  const json keys = influx.query("fs", "SHOW FIELD KEYS FROM status");
  std::map<std::string, std::string> types;
  for (const auto& v : keys.at("results").at(0).at("series").at(0).at("values"))
    types[v.at(0)] = v.at(1);
  EXPECT_EQ(types.at("seq"), "integer");
  EXPECT_EQ(types.at("current_power_kw"), "float");
  EXPECT_EQ(types.at("operating_mode"), "string");
  EXPECT_EQ(types.at("is_running"), "boolean");
  EXPECT_EQ(influx.value("fs", "SELECT count(signals) FROM events"), events);
  std::filesystem::remove_all(dir);
}

// Names with a space, a comma, an equals sign and a quote: every escape rule, checked by what
// InfluxDB stores.
TEST(influx_export, names_that_need_escaping_arrive_unchanged) {
  influx_server influx;
  const std::string dir = ft::make_temp_dir("factorysim-lp");
  const std::string yaml = dir + "/odd.yaml", lp = dir + "/odd.lp";
  std::ofstream(yaml) << R"(name: odd-names
seed: 7
time: { mode: backfill, from: 2024-06-01T00:00:00Z, to: 2024-06-01T00:01:00Z }
factories:
  - { id: 66666666-6666-6666-6666-666666666666, name: "Plant, Inc. = \"A\" site" }
machines:
  - { id: c6000000-0000-0000-0000-000000000001, name: "Line 1,A=B C", type: motor,
      rated_power_kw: 10, interval: 10s, topic: odd/line-1 }
)";
  const auto r = ft::run_factorysim_child(
      {"run", yaml, "--output", lp, "--format", "influx", "--control", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(influx.query("_internal", "CREATE DATABASE odd").at("results").size(), 1u);
  const auto w = influx.write("odd", read_all(lp));
  ASSERT_EQ(w.status, 204) << w.body << read_all(lp);
  const json tags = influx.query("odd",
                                 "SHOW TAG VALUES FROM energy WITH KEY IN (\"factory\", "
                                 "\"machine\")");
  std::map<std::string, std::string> values;
  for (const auto& v : tags.at("results").at(0).at("series").at(0).at("values"))
    values[v.at(0)] = v.at(1);
  EXPECT_EQ(values.at("factory"), "Plant, Inc. = \"A\" site");
  EXPECT_EQ(values.at("machine"), "Line 1,A=B C");
  EXPECT_EQ(influx.value("odd", "SELECT count(power_kw) FROM energy"), 6);
  std::filesystem::remove_all(dir);
}

}  // namespace
