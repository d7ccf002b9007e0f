// Issue 9: the views of a measurement snapshot (status line, Prometheus text, summary JSON)
// and the pure HTTP handling of --metrics, without sockets.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ingest/ingest_status.hpp"
#include "ingest/metrics_server.hpp"

namespace factorysim::ingest {
namespace {

ingest_snapshot measured_snapshot() {
  ingest_snapshot s;
  s.received = 1010;
  s.inserted[0] = 990;
  s.messages[0] = 1000;
  s.rejects[0] = 3;
  s.queued = 7;
  s.stamped = 1000;
  for (int i = 1; i <= 1000; ++i) {
    s.publish_to_received.record(i * 1000);  // 1 .. 1000 ms
    s.publish_to_committed.record(i * 1000 + 5000);
    s.send_delay.record(i);
  }
  stream_accounting a;
  uuid_bytes id{};
  id.fill(0xab);
  for (std::int64_t q : {1, 2, 5, 3, 3}) a.observe(id, stream::energy, q);
  s.accounting = a.totals();
  s.streams = a.figures();
  return s;
}

TEST(metrics_view, status_line_shows_p99_and_seq_accounting_so_far) {
  const auto s = measured_snapshot();
  const std::string line = format_status_line(s, ingest_snapshot{}, 1.0, "");
  const auto number_after = [&](const std::string& label) {
    const auto at = line.find(label);
    EXPECT_NE(at, std::string::npos) << line;
    return at == std::string::npos ? 0.0 : std::stod(line.substr(at + label.size()));
  };
  EXPECT_NEAR(number_after("p99 received "), 990, 990 * 0.005) << line;
  EXPECT_NEAR(number_after(" ms committed "), 995, 995 * 0.005) << line;
  EXPECT_NE(line.find("lost 1 dup 1 reord 1"), std::string::npos) << line;
  // Nothing measured: nothing shown.
  EXPECT_EQ(format_status_line(ingest_snapshot{}, ingest_snapshot{}, 1.0, "").find("p99"),
            std::string::npos);
}

// Issue 11: the MANTIS layer's narrow rows are counted in every view, apart from the EnMS rows.
TEST(metrics_view, narrow_rows_are_counted_in_status_line_summary_and_json) {
  ingest_snapshot before;
  before.narrow = true;
  before.narrow_rows = 100;
  ingest_snapshot now = before;
  now.inserted[0] = 10;
  now.narrow_rows = 100 + 70;
  const std::string line = format_status_line(now, before, 2.0, "");
  EXPECT_NE(line.find(" truth 0 sensor_raw 35 |"), std::string::npos) << line;
  EXPECT_NE(line.find("new rows 10 "), std::string::npos) << line;
  EXPECT_NE(format_summary(now).find("(10 new rows, 170 narrow rows)"), std::string::npos)
      << format_summary(now);
  EXPECT_EQ(nlohmann::json::parse(render_summary_json(now)).at("narrow_rows"), 170);
  // Without the layer the line and the summary keep their EnMS-only form.
  EXPECT_EQ(format_status_line(ingest_snapshot{}, ingest_snapshot{}, 1.0, "").find("sensor_raw"),
            std::string::npos);
  EXPECT_EQ(format_summary(ingest_snapshot{}).find("narrow"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(render_summary_json(ingest_snapshot{})).at("narrow_rows"), 0);
}

std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    m[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return m;
}

TEST(metrics_view, prometheus_text_has_the_contract_names_and_cumulative_buckets) {
  const auto s = measured_snapshot();
  const std::string text = render_prometheus(s);
  const auto m = samples(text);
  EXPECT_EQ(m.at("factorysim_ingest_received_messages_total"), 1010);
  EXPECT_EQ(m.at("factorysim_ingest_committed_rows_total"), 990);
  EXPECT_EQ(m.at("factorysim_ingest_lost_messages_total"), 1);
  EXPECT_EQ(m.at("factorysim_ingest_duplicate_messages_total"), 1);
  EXPECT_EQ(m.at("factorysim_ingest_reordered_messages_total"), 1);
  EXPECT_EQ(m.at("factorysim_ingest_rejected_messages_total"), 3);
  EXPECT_EQ(m.at("factorysim_ingest_queue_messages"), 7);
  EXPECT_NE(text.find("# TYPE factorysim_ingest_queue_messages gauge"), std::string::npos);
  for (const std::string h :
       {"factorysim_ingest_publish_to_received_seconds",
        "factorysim_ingest_publish_to_committed_seconds", "factorysim_ingest_send_delay_seconds"}) {
    EXPECT_NE(text.find("# TYPE " + h + " histogram"), std::string::npos) << h;
    EXPECT_EQ(m.at(h + "_count"), 1000) << h;
    EXPECT_EQ(m.at(h + "_bucket{le=\"+Inf\"}"), 1000) << h;
    double previous = 0;
    for (const auto& [k, v] : m)
      if (k.rfind(h + "_bucket{le=\"", 0) == 0 && k.find("+Inf") == std::string::npos) {
        // std::map orders the le labels as text, so compare each with +Inf only.
        EXPECT_LE(v, 1000) << k;
        previous = std::max(previous, v);
      }
    EXPECT_GT(previous, 0) << h;
  }
  // 1..1000 ms uniform: 500 are <= 0.5 s and 1000 <= 1 s; a bucket straddling the bound is
  // left out, so up to 0.78 % of the bound below it may be missing, never more counted.
  const double half = m.at("factorysim_ingest_publish_to_received_seconds_bucket{le=\"0.5\"}");
  EXPECT_LE(half, 500);
  EXPECT_GE(half, 500 - 500.0 / 128);
  const double all = m.at("factorysim_ingest_publish_to_received_seconds_bucket{le=\"1\"}");
  EXPECT_LE(all, 1000);
  EXPECT_GE(all, 1000 - 1000.0 / 128);
  EXPECT_EQ(m.at("factorysim_ingest_publish_to_received_seconds_bucket{le=\"300\"}"), 1000);
  EXPECT_DOUBLE_EQ(m.at("factorysim_ingest_publish_to_received_seconds_sum"), 500.5);
}

TEST(metrics_view, summary_json_has_the_contract_structure) {
  const auto j = nlohmann::json::parse(render_summary_json(measured_snapshot()));
  EXPECT_EQ(j.at("received"), 1010);
  EXPECT_EQ(j.at("committed_rows"), 990);
  EXPECT_EQ(j.at("lost"), 1);
  EXPECT_EQ(j.at("duplicates"), 1);
  EXPECT_EQ(j.at("reordered"), 1);
  EXPECT_EQ(j.at("rejected"), 3);
  for (const std::string name :
       {"publish_to_received_ms", "publish_to_committed_ms", "send_delay_ms"}) {
    const auto& l = j.at("latency").at(name);
    for (const char* k : {"count", "p50", "p90", "p99", "p999", "max", "mean"})
      EXPECT_TRUE(l.contains(k)) << name << ' ' << k;
    EXPECT_EQ(l.at("count"), 1000);
    const auto& h = j.at("histograms").at(name);
    ASSERT_EQ(h.at("lower_bounds_us").size(), h.at("counts").size());
    std::uint64_t total = 0;
    for (const auto& c : h.at("counts")) total += c.get<std::uint64_t>();
    EXPECT_EQ(total, 1000u) << name;
  }
  const auto& r = j.at("latency").at("publish_to_received_ms");
  EXPECT_NEAR(r.at("p50").get<double>(), 500, 500 * 0.005);
  EXPECT_NEAR(r.at("p99").get<double>(), 990, 990 * 0.005);
  EXPECT_DOUBLE_EQ(r.at("max").get<double>(), 1000);
  EXPECT_DOUBLE_EQ(r.at("mean").get<double>(), 500.5);
  ASSERT_EQ(j.at("streams").size(), 1u);
  const auto& st = j.at("streams")[0];
  EXPECT_EQ(st.at("machine_id"), "abababab-abab-abab-abab-abababababab");
  EXPECT_EQ(st.at("stream"), "energy");
  EXPECT_EQ(st.at("received"), 5);
  EXPECT_EQ(st.at("first_seq"), 1);
  EXPECT_EQ(st.at("last_seq"), 5);
  EXPECT_EQ(st.at("lost"), 1);
  EXPECT_EQ(st.at("duplicates"), 1);
  EXPECT_EQ(st.at("reordered"), 1);
}

TEST(metrics_http, get_metrics_renders_and_everything_else_is_a_json_4xx) {
  int rendered = 0;
  const std::function<std::string()> render = [&] {
    ++rendered;
    return std::string("x 1\n");
  };
  auto r = handle_metrics_request("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", render);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "x 1\n");
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  r = handle_metrics_request("GET /metrics?x=1 HTTP/1.0\r\n\r\n", render);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(rendered, 2);

  r = handle_metrics_request("GET / HTTP/1.1\r\n\r\n", render);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body).at("error"), "not found");
  r = handle_metrics_request("POST /metrics HTTP/1.1\r\n\r\n", render);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET, HEAD");
  EXPECT_TRUE(nlohmann::json::parse(r.body).contains("reason"));
  for (const char* bad :
       {"", "GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics FTP/1\r\n\r\n"}) {
    r = handle_metrics_request(bad, render);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.content_type, "application/json");
  }
  EXPECT_EQ(rendered, 2);  // never rendered for a refused request

  const std::string wire = serialize({405, "application/json", "{}", "GET, HEAD"}, false);
  EXPECT_EQ(wire.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(wire.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(serialize({200, "text/plain", "abc", ""}, true).find("abc"), std::string::npos);
}

TEST(metrics_http, listen_addresses_parse_with_their_port) {
  auto a = parse_listen_address("127.0.0.1:9108");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9108);
  a = parse_listen_address("[::1]:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  for (const char* bad : {"", "9108", ":9108", "host:", "host:65536", "host:12x", "::1:80", "[]:1"})
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
}

}  // namespace
}  // namespace factorysim::ingest
