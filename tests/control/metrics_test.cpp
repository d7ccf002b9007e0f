// GET /metrics (issue 4): the Prometheus text exposition format 0.0.4, checked by a parser of
// the format's line grammar written here, and by `promtool check metrics` from Debian's
// prometheus package.
#include "control/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/control/control_fixture.hpp"

namespace {

using namespace factorysim;
using namespace std::chrono_literals;
using test::compressor_id;
using test::control_t0;

/// One sample line, parsed.
struct sample {
  std::string name;
  std::map<std::string, std::string> labels;  ///< values unescaped
  double value = 0;
};

/// What the parser found: families (name -> type) and samples in order.
struct exposition {
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;
  std::vector<sample> samples;

  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
};

/// Parses the text format strictly; throws std::runtime_error("line N: ...") on any violation:
/// metric and label name syntax, label value escapes (only \\, \" and \n), float values,
/// HELP/TYPE at most once per family and before its samples, a family's samples contiguous,
/// no duplicate series, counters named *_total, the text ending in a newline.
exposition parse_exposition(const std::string& text) {
  static const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  static const std::set<std::string> kinds{"counter", "gauge", "histogram", "summary", "untyped"};
  exposition out;
  std::set<std::string> finished;  // families whose samples are over
  std::string current;             // family of the previous line
  std::set<std::string> series;
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("no newline at the end");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  const auto fail = [&](const std::string& why) {
    throw std::runtime_error("line " + std::to_string(n) + ": " + why + ": " + line);
  };
  const auto enter = [&](const std::string& family) {
    if (family != current) {
      if (finished.count(family)) fail("family " + family + " appears again after other families");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (hash != "#") fail("a comment starts with '# '");
      if (keyword != "HELP" && keyword != "TYPE") continue;  // other comments are free text
      if (!std::regex_match(name, metric_name)) fail("bad metric name");
      enter(name);
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (keyword == "TYPE") {
        if (out.types.count(name)) fail("second TYPE line");
        if (!kinds.count(rest)) fail("unknown type " + rest);
        for (const auto& s : out.samples)
          if (s.name == name) fail("TYPE after samples");
        if (rest == "counter" && !name.ends_with("_total")) fail("counter not named *_total");
        out.types[name] = rest;
      } else {
        if (out.helps.count(name)) fail("second HELP line");
        for (std::size_t k = 0; k < rest.size(); ++k)
          if (rest[k] == '\\' &&
              (k + 1 >= rest.size() || (rest[k + 1] != '\\' && rest[k + 1] != 'n')))
            fail("bad escape in HELP");
          else if (rest[k] == '\\')
            ++k;
        out.helps[name] = rest;
      }
      continue;
    }
    sample s;
    std::size_t k = 0;
    while (k < line.size() && line[k] != '{' && line[k] != ' ') ++k;
    s.name = line.substr(0, k);
    if (!std::regex_match(s.name, metric_name)) fail("bad metric name");
    enter(s.name);
    if (!out.types.count(s.name)) fail("sample before its TYPE line");
    std::string key = s.name + "{";
    if (k < line.size() && line[k] == '{') {
      ++k;
      while (true) {
        if (k < line.size() && line[k] == '}') {
          ++k;
          break;
        }
        std::size_t eq = line.find('=', k);
        if (eq == std::string::npos) fail("label without '='");
        const std::string lname = line.substr(k, eq - k);
        if (!std::regex_match(lname, label_name) || lname.starts_with("__")) fail("bad label name");
        k = eq + 1;
        if (k >= line.size() || line[k] != '"') fail("label value not quoted");
        ++k;
        std::string value;
        for (;; ++k) {
          if (k >= line.size()) fail("unterminated label value");
          const char c = line[k];
          if (c == '"') break;
          if (c == '\\') {
            ++k;
            if (k >= line.size()) fail("dangling backslash");
            if (line[k] == '\\')
              value += '\\';
            else if (line[k] == '"')
              value += '"';
            else if (line[k] == 'n')
              value += '\n';
            else
              fail("bad escape in a label value");
          } else {
            value += c;
          }
        }
        ++k;
        if (s.labels.count(lname)) fail("label given twice");
        s.labels[lname] = value;
        if (k < line.size() && line[k] == ',')
          ++k;
        else if (k >= line.size() || line[k] != '}')
          fail("expected ',' or '}' after a label");
      }
    }
    for (const auto& [lk, lv] : s.labels) key += lk + "=" + lv + ",";
    if (!series.insert(key).second) fail("duplicate series");
    if (k >= line.size() || line[k] != ' ') fail("no space before the value");
    std::string rest = line.substr(k + 1);
    std::string value_text = rest.substr(0, rest.find(' '));
    if (rest.find(' ') != std::string::npos) {
      const std::string ts = rest.substr(rest.find(' ') + 1);
      if (!std::regex_match(ts, std::regex("-?[0-9]+"))) fail("bad timestamp");
    }
    if (value_text == "NaN") {
      s.value = std::numeric_limits<double>::quiet_NaN();
    } else if (value_text == "+Inf") {
      s.value = std::numeric_limits<double>::infinity();
    } else if (value_text == "-Inf") {
      s.value = -std::numeric_limits<double>::infinity();
    } else {
      char* end = nullptr;
      s.value = std::strtod(value_text.c_str(), &end);
      if (value_text.empty() || *end != '\0' ||
          !std::regex_match(value_text, std::regex("[-+]?[0-9.eE+-]+")))
        fail("bad value " + value_text);
    }
    if (out.types[s.name] == "counter" && !(s.value >= 0)) fail("negative counter");
    out.samples.push_back(std::move(s));
  }
  return out;
}

TEST(exposition_parser, refuses_what_the_format_forbids) {
  const auto bad = [](const std::string& text) {
    EXPECT_THROW(parse_exposition(text), std::runtime_error) << text;
  };
  // The parser accepts a good text, so the refusals below mean something.
  EXPECT_NO_THROW(parse_exposition(
      "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\\\"\\\\\\n\"} 1\n"));
  bad("a 1\n");                       // no TYPE
  bad("# TYPE a counter\na 1\n");     // counter without _total
  bad("# TYPE a gauge\na 1\na 2\n");  // duplicate series
  bad("# TYPE a gauge\na{l=\"x\"} 1\n# TYPE b gauge\nb 1\na{l=\"y\"} 1\n");  // not contiguous
  bad("# TYPE a gauge\na{l=\"\\x\"} 1\n");                                   // bad escape
  bad("# TYPE a gauge\na{l=x} 1\n");                                         // unquoted
  bad("# TYPE a gauge\na{1l=\"x\"} 1\n");                                    // bad label name
  bad("# TYPE 1a gauge\n1a 1\n");                                            // bad metric name
  bad("# TYPE a gauge\na one\n");                                            // bad value
  bad("# TYPE a gauge\n# TYPE a gauge\na 1\n");                              // TYPE twice
  bad("# TYPE a gauge\na 1");                                                // no final newline
  bad("# TYPE a gauge\na{l=\"x\",l=\"y\"} 1\n");                             // label twice
}

TEST(metrics_values, print_exactly) {
  const auto text = [](double v) {
    std::string s;
    control::append_metric_value(s, v);
    return s;
  };
  EXPECT_EQ(text(0), "0");
  EXPECT_EQ(text(42), "42");
  EXPECT_EQ(text(-3), "-3");
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(1741010400.5), "1741010400.5");
  EXPECT_EQ(std::strtod(text(1.0 / 3.0).c_str(), nullptr), 1.0 / 3.0);
  EXPECT_EQ(text(1e300), "1e+300");
  EXPECT_EQ(text(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(text(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(text(-std::numeric_limits<double>::infinity()), "-Inf");
  std::string label;
  control::append_label_value(label, "a\"b\\c\nd");
  EXPECT_EQ(label, "a\\\"b\\\\c\\nd");
  std::string help;
  control::append_help_text(help, "x\\y\nz \"q\"");
  EXPECT_EQ(help, "x\\\\y\\nz \"q\"");
}

using metrics_test = test::control_fixture;

TEST_F(metrics_test, the_exposition_parses_and_matches_the_engine) {
  make();
  engine->advance_to(control_t0 + 30s);
  const auto id = engine->inject_fault(0, machines::fault_type::air_leak, 0.5, std::nullopt);
  (void)id;
  engine->advance_to(control_t0 + 31s);
  call("GET", "/nope");
  const std::string text = call("GET", "/metrics").body;
  exposition x;
  ASSERT_NO_THROW(x = parse_exposition(text)) << text;

  const auto st = engine->status();
  EXPECT_EQ(x.value("factorysim_steps_total"), static_cast<double>(st.steps));
  EXPECT_EQ(x.value("factorysim_messages_published_total", {{"stream", "energy"}}),
            static_cast<double>(st.published[0]));
  EXPECT_EQ(x.value("factorysim_messages_published_total", {{"stream", "events"}}),
            static_cast<double>(st.published[4]));
  EXPECT_EQ(x.value("factorysim_active_faults"), 1.0);
  EXPECT_EQ(x.value("factorysim_run_state", {{"state", "running"}}), 1.0);
  EXPECT_EQ(x.value("factorysim_run_state", {{"state", "paused"}}), 0.0);
  EXPECT_EQ(x.value("factorysim_simulated_time_seconds"),
            static_cast<double>(engine->sim_now().time_since_epoch().count()) / 1000.0);
  EXPECT_EQ(x.value("factorysim_info", {{"scenario", "control-test"}, {"mode", "accelerated"}}),
            1.0);
  EXPECT_EQ(x.value("factorysim_control_responses_total", {{"code", "404"}}), 1.0);

  // Per machine: the label value round-trips through the escaping (quote and backslash).
  const auto m = engine->machine(0);
  const std::map<std::string, std::string> comp{{"machine_id", compressor_id},
                                                {"machine", "Comp \"A\" \\ 1"}};
  EXPECT_EQ(x.value("factorysim_machine_active_faults", comp), 1.0);
  EXPECT_EQ(x.value("factorysim_machine_interval_seconds", comp), 1.0);
  EXPECT_EQ(x.value("factorysim_machine_power_kw", comp), m.last->energy.power_kw);
  EXPECT_EQ(x.value("factorysim_machine_energy_kwh_total", comp), m.energy_total_kwh);
  auto with_stream = comp;
  with_stream["stream"] = "energy";
  EXPECT_EQ(x.value("factorysim_machine_messages_published_total", with_stream), 31.0);
  // Every family has HELP and TYPE.
  for (const auto& [name, type] : x.types) EXPECT_TRUE(x.helps.count(name)) << name;
  for (const auto& s : x.samples) EXPECT_TRUE(x.types.count(s.name)) << s.name;
}

/// Runs `promtool check metrics` on `text`; returns its exit status and output.
std::pair<int, std::string> promtool_check(const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto in = dir / ("factorysim-metrics-" + std::to_string(::getpid()) + ".txt");
  const auto out = dir / ("factorysim-metrics-" + std::to_string(::getpid()) + ".out");
  std::ofstream(in) << text;
  const std::string cmd =
      "promtool check metrics < " + in.string() + " > " + out.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream o(out);
  std::stringstream ss;
  ss << o.rdbuf();
  std::filesystem::remove(in);
  std::filesystem::remove(out);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

TEST_F(metrics_test, promtool_accepts_the_exposition) {
  // promtool comes from Debian's prometheus package (scripts/setup.sh installs it); without it
  // this test fails rather than skips.
  ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
      << "promtool not found: apt-get install prometheus (scripts/setup.sh)";
  // promtool is not a yes-man: a counter without _total and a broken line are refused.
  EXPECT_NE(promtool_check("# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n").first, 0);
  EXPECT_NE(promtool_check("# HELP a x\n# TYPE a counter\na 1\n").first, 0);
  make();
  engine->advance_to(control_t0 + 20s);
  engine->inject_fault(0, machines::fault_type::spike, 0.5, 5s);
  engine->advance_to(control_t0 + 22s);
  const std::string text = call("GET", "/metrics").body;
  const auto [rc, output] = promtool_check(text);
  EXPECT_EQ(rc, 0) << output << "\n" << text;
  EXPECT_EQ(output, "") << "promtool lint findings";
}

}  // namespace
