// Export formats of `run --output FILE --format F` (issue 13): the flat payload reader, JSON
// lines, CSV per stream and InfluxDB line protocol, checked message by message against the
// TSV capture of the golden scenario (the same messages, converted), the documented grammar
// and escaping rules, and determinism (same scenario + seed = same bytes in every format).
#include "sim/export_format.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/file_sink.hpp"
#include "sim/flat_json.hpp"
#include "sim/payload.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = factorysim::sim;
using nlohmann::json;

const fs::path golden_dir = fs::path(FACTORYSIM_SOURCE_DIR) / "tests/sim/golden";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

fs::path temp_dir() {
  char tmpl[] = "/tmp/factorysim-export-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (d == nullptr) throw std::runtime_error("mkdtemp failed");
  return d;
}

/// Runs the golden scenario into `out` in `format`; returns the files written.
std::vector<std::string> run_golden(const fs::path& out, sim::export_format format) {
  auto s = factorysim::scenarios::load_scenario((golden_dir / "engine-golden.yaml").string());
  std::vector<sim::export_machine> machines;
  for (const auto& m : s.machines)
    machines.push_back({m.id, m.name, std::string(factorysim::machines::to_string(m.type)),
                        m.factory_id, s.factories.front().name});
  boost::asio::io_context io;
  std::vector<std::string> paths;
  {
    sim::file_sink sink(out.string(), format, machines);
    sim::engine e(io, std::move(s), sink);
    bool ok = false;
    e.on_finished([&](bool good) { ok = good; });
    e.start();
    io.run();
    EXPECT_TRUE(ok);
    paths = sink.paths();
  }
  return paths;
}

/// The golden capture as (topic, payload) pairs.
std::vector<std::pair<std::string, std::string>> golden_messages() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : lines_of(read_all(golden_dir / "engine-golden.tsv"))) {
    const auto tab = line.find('\t');
    out.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return out;
}

// ------------------------------------------------------------------------------ flat_json

TEST(flat_json, reads_every_kind_with_its_exact_text_and_offset) {
  const std::string p =
      R"({"time":"2024-06-01T00:00:01.000Z","seq":7,"power_kw":41.250,"neg":-0.5e3,)"
      R"("is_running":false,"nothing":null,"signals":["power_kw","a\"b"],"name":"M\u00fcnchen\n"})";
  std::vector<sim::flat_field> f;
  ASSERT_TRUE(sim::parse_flat_json(p, f));
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(f[0].key, "time");
  EXPECT_EQ(f[0].kind, sim::flat_kind::string);
  EXPECT_EQ(f[0].text, "2024-06-01T00:00:01.000Z");
  EXPECT_EQ(p.substr(f[0].offset, f[0].raw.size()), "\"2024-06-01T00:00:01.000Z\"");
  EXPECT_TRUE(f[1].is_integer);
  EXPECT_EQ(f[1].raw, "7");
  EXPECT_FALSE(f[2].is_integer);
  EXPECT_EQ(f[2].raw, "41.250");  // the trailing zero kept: exports write the wire's text
  EXPECT_EQ(f[3].raw, "-0.5e3");
  EXPECT_EQ(f[4].kind, sim::flat_kind::boolean);
  EXPECT_EQ(f[5].kind, sim::flat_kind::null);
  ASSERT_EQ(f[6].items.size(), 2u);
  EXPECT_EQ(f[6].items[1], "a\"b");
  EXPECT_EQ(f[7].text, "M\xc3\xbcnchen\n");
}

TEST(flat_json, rejects_what_is_not_one_flat_object) {
  std::vector<sim::flat_field> f;
  for (const char* bad :
       {"", "[]", "{", R"({"a":1)", R"({"a":{"b":1}})", R"({"a":[1,2]})", R"({"a":1} x)",
        R"({"a":01})", R"({"a":"\x"})", R"({"a":1,})", R"({a:1})", R"({"a":"\ud800"})"})
    EXPECT_FALSE(sim::parse_flat_json(bad, f)) << bad;
  EXPECT_TRUE(sim::parse_flat_json("{}", f));
  EXPECT_TRUE(f.empty());
}

TEST(flat_json, reads_every_golden_payload) {
  std::vector<sim::flat_field> f;
  for (const auto& [topic, payload] : golden_messages()) {
    ASSERT_TRUE(sim::parse_flat_json(payload, f)) << payload;
    EXPECT_EQ(json::parse(payload).size(), f.size()) << payload;
  }
}

// ------------------------------------------------------------------------------ formats

TEST(export_format, names_parse_and_print) {
  for (auto f : {sim::export_format::tsv, sim::export_format::jsonl, sim::export_format::csv,
                 sim::export_format::influx})
    EXPECT_EQ(sim::parse_export_format(sim::to_string(f)), f);
  EXPECT_EQ(sim::parse_export_format("line-protocol"), sim::export_format::influx);
  EXPECT_FALSE(sim::parse_export_format("xml"));
  EXPECT_EQ(sim::stream_of_topic("factory/demo/compressor-1/energy"), "energy");
}

// Every format, twice: the same scenario and seed give the same bytes (issue 13).
TEST(export_format, every_format_is_deterministic) {
  for (auto format : {sim::export_format::tsv, sim::export_format::jsonl, sim::export_format::csv,
                      sim::export_format::influx}) {
    SCOPED_TRACE(std::string(sim::to_string(format)));
    const fs::path a = temp_dir(), b = temp_dir();
    const auto pa = run_golden(a / "out.csv", format);
    const auto pb = run_golden(b / "out.csv", format);
    ASSERT_EQ(pa.size(), pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
      const std::string x = read_all(pa[i]);
      EXPECT_GT(x.size(), 100u) << pa[i];
      EXPECT_EQ(x, read_all(pb[i])) << pa[i];
    }
    fs::remove_all(a);
    fs::remove_all(b);
  }
}

TEST(export_format, tsv_through_the_sink_is_the_golden_file) {
  const fs::path d = temp_dir();
  const auto paths = run_golden(d / "golden.tsv", sim::export_format::tsv);
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(read_all(paths[0]), read_all(golden_dir / "engine-golden.tsv"));
  fs::remove_all(d);
}

TEST(export_format, jsonl_carries_topic_retain_and_the_payload_bytes) {
  const fs::path d = temp_dir();
  const auto paths = run_golden(d / "golden.jsonl", sim::export_format::jsonl);
  const auto lines = lines_of(read_all(paths.at(0)));
  const auto golden = golden_messages();
  ASSERT_EQ(lines.size(), golden.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json j = json::parse(lines[i]);
    EXPECT_EQ(j.at("topic"), golden[i].first);
    EXPECT_EQ(j.at("retain"), golden[i].first.ends_with("/status"));
    // The payload is embedded as it went on the wire, byte for byte.
    const std::string prefix = R"(,"payload":)";
    const auto at = lines[i].find(prefix);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(lines[i].substr(at + prefix.size(), golden[i].second.size()), golden[i].second);
    EXPECT_EQ(lines[i].size(), at + prefix.size() + golden[i].second.size() + 1);
  }
  fs::remove_all(d);
}

// ------------------------------------------------------------------------------------- CSV

/// RFC 4180 reader for the test: one record per line (our cells hold no line breaks).
std::vector<std::string> csv_record(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == ',') {
      cells.push_back(cell);
      cell.clear();
      was_quoted = false;
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  (void)was_quoted;
  return cells;
}

TEST(export_format, csv_path_puts_the_stream_before_the_extension) {
  EXPECT_EQ(sim::csv_path("hour.csv", "energy"), "hour.energy.csv");
  EXPECT_EQ(sim::csv_path("out/hour", "events"), "out/hour.events.csv");
  EXPECT_EQ(sim::csv_path(".csv", "status"), ".csv.status.csv");
}

TEST(export_format, csv_has_one_file_per_stream_and_every_value_of_every_message) {
  const fs::path d = temp_dir();
  const auto paths = run_golden(d / "golden.csv", sim::export_format::csv);
  const std::vector<std::string> expected_paths = {
      (d / "golden.energy.csv").string(), (d / "golden.production.csv").string(),
      (d / "golden.environmental.csv").string(), (d / "golden.status.csv").string(),
      (d / "golden.events.csv").string(), (d / "golden.truth.csv").string()};
  EXPECT_EQ(paths, expected_paths);
  std::map<std::string, std::vector<std::vector<std::string>>> rows;
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& p : paths) {
    const auto lines = lines_of(read_all(p));
    ASSERT_FALSE(lines.empty()) << p;
    const std::string stream = fs::path(p).stem().extension().string().substr(1);
    headers[stream] = csv_record(lines[0]);
    EXPECT_EQ(headers[stream].front(), "topic");
    EXPECT_EQ(headers[stream].back(), "extra");
    for (std::size_t i = 1; i < lines.size(); ++i) rows[stream].push_back(csv_record(lines[i]));
  }
  std::map<std::string, std::size_t> next;
  std::size_t checked = 0;
  for (const auto& [topic, payload] : golden_messages()) {
    const std::string stream(sim::stream_of_topic(topic));
    ASSERT_LT(next[stream], rows[stream].size()) << stream;
    const auto& row = rows[stream][next[stream]++];
    const auto& header = headers[stream];
    ASSERT_EQ(row.size(), header.size());
    EXPECT_EQ(row[0], topic);
    const json j = json::parse(payload);
    std::vector<sim::flat_field> fields;
    ASSERT_TRUE(sim::parse_flat_json(payload, fields));
    for (std::size_t c = 1; c + 1 < header.size(); ++c) {
      const sim::flat_field* f = sim::find_field(fields, header[c]);
      if (f == nullptr) {
        EXPECT_EQ(row[c], "") << header[c];
      } else if (f->kind == sim::flat_kind::array) {
        std::string literal = "{";
        for (std::size_t k = 0; k < f->items.size(); ++k) literal += (k ? "," : "") + f->items[k];
        EXPECT_EQ(row[c], literal + "}");
      } else if (f->kind == sim::flat_kind::string) {
        EXPECT_EQ(row[c], f->text);
      } else {
        EXPECT_EQ(row[c], std::string(f->raw)) << header[c];  // numbers as on the wire
      }
      ++checked;
    }
    EXPECT_EQ(row.back(), "") << "every golden key is a known column";
  }
  for (const auto& [stream, r] : rows) EXPECT_EQ(next[stream], r.size()) << stream;
  EXPECT_GT(checked, 1000u);
  fs::remove_all(d);
}

TEST(export_format, csv_quotes_strings_and_arrays_and_keeps_unknown_keys_in_extra) {
  std::vector<sim::flat_field> f;
  ASSERT_TRUE(sim::parse_flat_json(
      R"({"time":"T","machine_id":"m","shift":"a, \"b\"","signals":["x","y z",""],)"
      R"("future_key":1.50,"production_count":3})",
      f));
  std::string out;
  const auto columns = sim::csv_columns("production");
  sim::append_csv_row(out, columns, "t/production", f);
  const auto cells = csv_record(out.substr(0, out.size() - 1));
  ASSERT_EQ(cells.size(), columns.size() + 2);
  EXPECT_NE(out.find(R"("a, ""b""")"), std::string::npos) << out;  // RFC 4180 doubling
  EXPECT_EQ(cells.back(), R"({"signals":["x","y z",""],"future_key":1.50})");
  // Arrays as PostgreSQL array literals, so COPY ... (FORMAT csv) loads them into text[].
  sim::append_csv_row(out, sim::csv_columns("events"), "t/events", f);
  EXPECT_NE(out.find(R"("{x,""y z"",""""}")"), std::string::npos) << out;
  // An empty string is quoted (PostgreSQL reads an unquoted empty cell as NULL).
  ASSERT_TRUE(sim::parse_flat_json(R"({"time":"T","shift":""})", f));
  out.clear();
  sim::append_csv_row(out, {"time", "shift"}, "t", f);
  EXPECT_EQ(out, "t,T,\"\",\n");
}

TEST(export_format, csv_stream_not_listed_takes_the_keys_of_its_first_message) {
  const fs::path d = temp_dir();
  {
    sim::file_sink sink((d / "x.csv").string(), sim::export_format::csv, {});
    sink.publish(0, "a/b/vibration_fft", R"({"time":"2024-01-01T00:00:00.000Z","bin":3})", false);
    sink.publish(0, "a/b/vibration_fft", R"({"time":"2024-01-01T00:00:01.000Z","bin":4,"n":1})",
                 false);
    bool ok = false;
    sink.async_shutdown(std::chrono::milliseconds(0), [&](bool good) { ok = good; });
    EXPECT_TRUE(ok);
  }
  EXPECT_EQ(read_all(d / "x.vibration_fft.csv"),
            "topic,time,bin,extra\n"
            "a/b/vibration_fft,2024-01-01T00:00:00.000Z,3,\n"
            "a/b/vibration_fft,2024-01-01T00:00:01.000Z,4,\"{\"\"n\"\":1}\"\n");
  std::string energy_header;  // the known streams' files exist from the start, header only
  sim::append_csv_header(energy_header, sim::csv_columns("energy"));
  EXPECT_EQ(read_all(d / "x.energy.csv"), energy_header);
  fs::remove_all(d);
}

TEST(export_format, csv_to_stdout_is_refused) {
  EXPECT_THROW(sim::file_sink("-", sim::export_format::csv, {}), std::invalid_argument);
}

// --------------------------------------------------------------------------- line protocol

// The escaping rules of the InfluxDB 1.x line protocol reference ("Special characters").
TEST(line_protocol, escapes_as_the_reference_says) {
  std::string m, k, s;
  sim::append_lp_measurement(m, "my measurement,x=y");
  EXPECT_EQ(m, R"(my\ measurement\,x=y)");  // = is not special in a measurement
  sim::append_lp_key(k, "a b,c=d\"e");
  EXPECT_EQ(k, R"(a\ b\,c\=d"e)");  // quotes are not special in keys and tag values
  sim::append_lp_string(s, R"(say "hi" \ bye, a=b)");
  EXPECT_EQ(s, R"("say \"hi\" \\ bye, a=b")");
  std::string nl;
  sim::append_lp_key(nl, "two\nlines");
  EXPECT_EQ(nl, R"(two\ lines)");  // no escape exists for a line break: it becomes a space
}

/// A reader of the documented grammar: measurement[,tag=value...] field=value[,...] timestamp,
/// honouring the escapes; returns false if the line does not follow it.
struct lp_point {
  std::string measurement;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> fields;  ///< raw field values (strings unescaped, quoted)
  long long timestamp = 0;
};

bool parse_lp(const std::string& line, lp_point& p) {
  std::size_t i = 0;
  auto read_until = [&](std::string& out, const std::string& stops) {
    while (i < line.size() && stops.find(line[i]) == std::string::npos) {
      if (line[i] == '\\' && i + 1 < line.size() &&
          std::string(", =\"\\").find(line[i + 1]) != std::string::npos) {
        out += line[i + 1];
        i += 2;
      } else {
        out += line[i++];
      }
    }
  };
  read_until(p.measurement, ", ");
  if (p.measurement.empty()) return false;
  while (i < line.size() && line[i] == ',') {
    ++i;
    std::string k, v;
    read_until(k, "=");
    if (i >= line.size() || line[i] != '=') return false;
    ++i;
    read_until(v, ", ");
    if (k.empty() || v.empty()) return false;
    p.tags[k] = v;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  ++i;
  for (;;) {
    std::string k, v;
    read_until(k, "=");
    if (k.empty() || i >= line.size()) return false;
    ++i;
    if (i < line.size() && line[i] == '"') {
      v += '"';
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\'))
          ++i;
        v += line[i++];
      }
      if (i >= line.size()) return false;
      v += '"';
      ++i;
    } else {
      while (i < line.size() && line[i] != ',' && line[i] != ' ') v += line[i++];
      const bool number_ok =
          std::regex_match(v, std::regex(R"(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?i?)"));
      if (!number_ok && v != "true" && v != "false") return false;
    }
    p.fields[k] = v;
    if (i < line.size() && line[i] == ',') {
      ++i;
      continue;
    }
    break;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  ++i;
  const std::string ts = line.substr(i);
  if (ts.empty() || ts.find_first_not_of("0123456789") != std::string::npos) return false;
  p.timestamp = std::stoll(ts);
  return true;
}

TEST(line_protocol, every_golden_message_is_one_point_of_the_documented_grammar) {
  const fs::path d = temp_dir();
  const auto paths = run_golden(d / "golden.lp", sim::export_format::influx);
  const auto lines = lines_of(read_all(paths.at(0)));
  const auto golden = golden_messages();
  ASSERT_EQ(lines.size(), golden.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    lp_point p;
    ASSERT_TRUE(parse_lp(lines[i], p)) << lines[i];
    const json j = json::parse(golden[i].second);
    EXPECT_EQ(p.measurement, sim::stream_of_topic(golden[i].first));
    EXPECT_EQ(p.tags.at("machine_id"), j.at("machine_id"));
    EXPECT_EQ(p.tags.at("factory"), "Golden Works");
    EXPECT_TRUE(p.tags.contains("machine") && p.tags.contains("type") &&
                p.tags.contains("factory_id"));
    EXPECT_EQ(p.fields.size(), j.size() - 2) << lines[i];  // all but time and machine_id
    factorysim::machines::sim_time t{};
    ASSERT_TRUE(sim::parse_time(j.at("time").get<std::string>(), t));
    EXPECT_EQ(p.timestamp, t.time_since_epoch().count() * 1'000'000LL);
    EXPECT_EQ(p.fields.at("seq"), std::to_string(j.at("seq").get<long long>()) + "i");
    for (const auto& [key, value] : j.items()) {
      if (key == "time" || key == "machine_id") continue;
      if (value.is_string()) {
        EXPECT_EQ(p.fields.at(key), "\"" + value.get<std::string>() + "\"");
      } else if (value.is_boolean()) {
        EXPECT_EQ(p.fields.at(key), value.dump());
      } else if (value.is_number_integer()) {
        EXPECT_EQ(p.fields.at(key).back(), 'i') << key;
      } else if (value.is_number_float()) {
        EXPECT_NE(p.fields.at(key).back(), 'i') << key;
      }
    }
  }
  fs::remove_all(d);
}

TEST(line_protocol, a_payload_without_a_time_is_not_a_point) {
  std::vector<sim::flat_field> f;
  ASSERT_TRUE(sim::parse_flat_json(R"({"machine_id":"m","x":1})", f));
  std::string out = "keep";
  EXPECT_FALSE(sim::append_line_protocol(out, "energy", nullptr, f));
  EXPECT_EQ(out, "keep");
  ASSERT_TRUE(sim::parse_flat_json(R"({"time":"2024-01-01T00:00:00.000Z","machine_id":"m"})", f));
  EXPECT_FALSE(sim::append_line_protocol(out, "energy", nullptr, f));  // no field left
  EXPECT_EQ(out, "keep");
}

}  // namespace
