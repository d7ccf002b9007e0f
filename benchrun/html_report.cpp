#include "benchrun/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace factorysim::benchrun {

using json = nlohmann::json;

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, std::abs(v) >= 100 ? "%.0f" : "%.2f", v);
  return b;
}

std::string cell(const json& v) {
  if (v.is_number()) return num(v.get<double>());
  if (v.is_null()) return "–";
  if (v.is_string()) return escape(v.get<std::string>());
  return escape(v.dump());
}

struct series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
};

/// A line chart: x and y axes with min/max labels, one <path> per series (points as M/L).
std::string line_chart(const std::string& id, const std::string& title, const std::string& y_unit,
                       const std::vector<series>& all, bool log_x = false) {
  const double w = 720, h = 270, left = 64, right = 16, top = 42, bottom = 36;
  double x0 = INFINITY, x1 = -INFINITY, y1 = 0;
  for (const auto& s : all)
    for (const auto& [x, y] : s.points) {
      const double xv = log_x ? std::log10(x) : x;
      x0 = std::min(x0, xv);
      x1 = std::max(x1, xv);
      y1 = std::max(y1, y);
    }
  std::ostringstream o;
  o << "<figure><svg id=\"" << id << "\" class=\"chart\" viewBox=\"0 0 " << w << " " << h
    << "\" width=\"" << w << "\" height=\"" << h << "\" xmlns=\"http://www.w3.org/2000/svg\">";
  o << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << escape(title) << "</text>";
  o << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\"" << w - right << "\" y2=\""
    << h - bottom << "\" stroke=\"#888\"/><line x1=\"" << left << "\" y1=\"" << top << "\" x2=\""
    << left << "\" y2=\"" << h - bottom << "\" stroke=\"#888\"/>";
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > 0)) y1 = 1;
  const auto px = [&](double x) {
    return left + ((log_x ? std::log10(x) : x) - x0) / (x1 - x0) * (w - left - right);
  };
  const auto py = [&](double y) { return h - bottom - y / y1 * (h - top - bottom); };
  o << "<text x=\"4\" y=\"" << top + 4 << "\" class=\"axis\">" << num(y1) << " " << escape(y_unit)
    << "</text>";
  o << "<text x=\"4\" y=\"" << h - bottom << "\" class=\"axis\">0</text>";
  if (std::isfinite(x0)) {
    o << "<text x=\"" << left << "\" y=\"" << h - 18 << "\" class=\"axis\">"
      << (log_x ? "p" + num(100 * (1 - std::pow(10, -x0))) : num(x0) + " s") << "</text>";
    o << "<text x=\"" << w - right - 60 << "\" y=\"" << h - 18 << "\" class=\"axis\">"
      << (log_x ? "p" + num(100 * (1 - std::pow(10, -x1))) : num(x1) + " s") << "</text>";
  }
  double legend_x = left;  // legend on its own line under the title
  for (const auto& s : all) {
    if (s.points.empty()) continue;
    o << "<path class=\"series\" data-points=\"" << s.points.size() << "\" fill=\"none\" stroke=\""
      << s.color << "\" stroke-width=\"1.5\" d=\"";
    bool first = true;
    for (const auto& [x, y] : s.points) {
      char b[64];
      std::snprintf(b, sizeof b, "%s%.1f %.1f ", first ? "M" : "L", px(x), py(y));
      o << b;
      first = false;
    }
    o << "\"/>";
    o << "<text x=\"" << legend_x << "\" y=\"32\" fill=\"" << s.color << "\" class=\"axis\">"
      << escape(s.name) << "</text>";
    legend_x += 9.0 * static_cast<double>(s.name.size()) + 16;
  }
  o << "</svg></figure>\n";
  return o.str();
}

void add_point(series& s, double t, const json& v) {
  if (v.is_number()) s.points.emplace_back(t, v.get<double>());
}

}  // namespace

std::string render_html(const json& report) {
  const json& r = report.at("results");
  const json& m = report.at("manifest");
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>factorysim bench: "
    << escape(m.value("/scenario/name"_json_pointer, std::string("?"))) << "</title><style>"
    << "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}"
    << "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}"
    << "td.l,th.l{text-align:left}.title{font-size:14px;font-weight:bold}.axis{font-size:11px}"
    << ".bad{color:#b00;font-weight:bold}</style></head><body>\n";
  o << "<h1>factorysim bench</h1><p>" << escape(m.value("factorysim", std::string())) << " — "
    << (report.value("complete", false) ? "complete" : "<span class=\"bad\">incomplete</span>")
    << ", stopped by " << escape(r.value("stop_reason", std::string())) << ".</p>\n";

  // Summary table.
  o << "<h2>Results</h2><table><tr><th class=\"l\">figure</th><th>value</th></tr>";
  const auto row = [&](const std::string& name, const json& v) {
    o << "<tr><td class=\"l\">" << escape(name) << "</td><td>" << cell(v) << "</td></tr>";
  };
  const json& tp = r.value("throughput", json::object());
  row("published msg/s", tp.value("published_per_s", json()));
  row("received msg/s", tp.value("received_per_s", json()));
  row("committed rows/s", tp.value("committed_rows_per_s", json()));
  if (r.contains("reference") && r["reference"].is_object()) {
    row("broker only (reference) msg/s",
        r["reference"].value("/throughput/received_per_s"_json_pointer, json()));
    row("end to end / broker only",
        r.value("/ratio_to_reference/committed_rows_per_s"_json_pointer, json()));
  }
  if (r.contains("max_sustainable") && r["max_sustainable"].is_object()) {
    row("max sustainable rows/s", r["max_sustainable"].value("rate_per_s", json()));
    row("p99 at that rate, ms", r["max_sustainable"].value("p99_ms", json()));
  }
  o << "</table>\n";

  // Rates and latency over time.
  series published{"published/s", "#1f77b4", {}}, received{"received/s", "#2ca02c", {}},
      committed{"committed/s", "#d62728", {}}, target{"target/s", "#999999", {}};
  series p50{"p50 ms", "#1f77b4", {}}, p99{"p99 ms", "#d62728", {}};
  for (const auto& p : r.value("timeline", json::array())) {
    const double t = p.value("t_s", 0.0);
    add_point(target, t, p.value("target_rate_per_s", json()));
    add_point(published, t, p.value("published_per_s", json()));
    add_point(received, t, p.value("received_per_s", json()));
    add_point(committed, t, p.value("committed_per_s", json()));
    const json& lat = p.value("latency_ms", json::object());
    const json& l = lat.contains("publish_to_committed")  ? lat["publish_to_committed"]
                    : lat.contains("publish_to_received") ? lat["publish_to_received"]
                                                          : json();
    if (l.is_object()) {
      add_point(p50, t, l.value("p50", json()));
      add_point(p99, t, l.value("p99", json()));
    }
  }
  o << "<h2>Over time</h2>\n"
    << line_chart("rates", "Rates per second", "msg/s", {target, published, received, committed})
    << line_chart("latency", "Latency of each second (publish to commit, or to the subscriber)",
                  "ms", {p50, p99});

  // Percentile plot: x = 1/(1-q) on a log scale, as HdrHistogram plots do.
  o << "<h2>Latency percentiles</h2>\n";
  std::vector<series> pct;
  const char* colors[] = {"#d62728", "#2ca02c", "#9467bd"};
  int ci = 0;
  o << "<table><tr><th class=\"l\">latency "
       "(ms)</th><th>count</th><th>p50</th><th>p90</th><th>p99</th>"
       "<th>p99.9</th><th>max</th><th>mean</th></tr>";
  const json latencies = r.value("latency_ms", json::object());
  for (const auto& [name, l] : latencies.items()) {
    o << "<tr><td class=\"l\">" << escape(name) << "</td>";
    for (const char* k : {"count", "p50", "p90", "p99", "p999", "max", "mean"})
      o << "<td>" << cell(l.value(k, json())) << "</td>";
    o << "</tr>";
    series s{name, colors[ci++ % 3], {}};
    for (const auto& [k, q] :
         {std::pair{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}}) {
      const json v = l.value(k, json());
      if (v.is_number()) s.points.emplace_back(1 / (1 - q), v.get<double>());
    }
    pct.push_back(s);
  }
  o << "</table>\n" << line_chart("percentiles", "Latency by percentile", "ms", pct, true);

  // Loss.
  const json& acc = r.value("accounting", json::object());
  const json& sql = r.value("sql_check", json::object());
  o << "<h2>Loss accounting</h2><table><tr><th "
       "class=\"l\">source</th><th>published</th><th>stored/received</th>"
       "<th>lost</th><th>duplicates</th><th>reordered</th></tr><tr><td class=\"l\">"
    << cell(acc.value("source", json())) << "</td><td>" << cell(acc.value("published", json()))
    << "</td><td>" << cell(acc.contains("stored") ? acc["stored"] : acc.value("received", json()))
    << "</td><td>" << cell(acc.value("lost", json())) << "</td><td>"
    << cell(acc.value("duplicates", json())) << "</td><td>" << cell(acc.value("reordered", json()))
    << "</td></tr></table>\n";
  if (sql.value("ran", false))
    o << "<p>SQL check: "
      << (sql.value("agrees", false) ? "agrees" : "<span class=\"bad\">disagrees</span>")
      << (sql.value("compared_with_ingestor", false) ? " with the ingestor's counters" : "")
      << ".</p>\n";
  const json streams = acc.value("streams", json::array());
  if (!streams.empty()) {
    o << "<table><tr><th class=\"l\">machine</th><th class=\"l\">stream</th><th>published</th>"
         "<th>lost</th><th>duplicates</th></tr>";
    for (const auto& s : streams)
      o << "<tr><td class=\"l\">" << cell(s.value("machine_id", json())) << "</td><td class=\"l\">"
        << cell(s.value("stream", json())) << "</td><td>" << cell(s.value("published", json()))
        << "</td><td>" << cell(s.contains("db_lost") ? s["db_lost"] : s.value("lost", json()))
        << "</td><td>"
        << cell(s.contains("db_duplicates") ? s["db_duplicates"] : s.value("duplicates", json()))
        << "</td></tr>";
    o << "</table>\n";
  } else {
    o << "<p>No stream lost, duplicated or reordered anything.</p>\n";
  }

  // Resources and manifest.
  o << "<h2>Resources</h2><table><tr><th class=\"l\">process</th><th>CPU % mean</th><th>CPU % "
       "max</th><th>peak RSS MiB</th></tr>";
  const json resources = r.value("resources", json::object());
  for (const auto& [role, v] : resources.items())
    o << "<tr><td class=\"l\">" << escape(role) << "</td><td>"
      << cell(v.value("cpu_percent_mean", json())) << "</td><td>"
      << cell(v.value("cpu_percent_max", json())) << "</td><td>"
      << cell(v.value("peak_rss_mib", json())) << "</td></tr>";
  o << "</table>\n<h2>Manifest</h2><pre>" << escape(m.dump(2)) << "</pre>\n</body></html>\n";
  return o.str();
}

}  // namespace factorysim::benchrun
