#include "benchrun/compare.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "benchrun/runner.hpp"

namespace factorysim::benchrun {

using json = nlohmann::json;

double parse_tolerance(const std::string& text) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !(v >= 0) || !std::isfinite(v))
    throw bench_usage_error("--tolerance must be a percentage such as 5%, got \"" + text + "\"");
  return v / 100.0;
}

namespace {

/// The value at a /-separated path, or nullptr.
const json* at_path(const json& j, const std::string& path) {
  const json* cur = &j;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const auto slash = path.find('/', pos);
    const std::string key =
        path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return cur;
}

void check_report(const json& r, const std::string& which) {
  if (!r.is_object() || r.value("schema", "").rfind("factorysim-bench/", 0) != 0 ||
      !r.contains("results") || !r["results"].is_object())
    throw bench_usage_error(
        which + ": not a factorysim bench report (no \"schema\": \"factorysim-bench/1\")");
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 100 || v == std::floor(v) ? "%.0f" : "%.2f", v);
  return buf;
}

}  // namespace

compare_result compare_reports(const json& old_report, const json& new_report, double tolerance) {
  check_report(old_report, "OLD");
  check_report(new_report, "NEW");
  struct figure {
    const char* name;
    const char* path;
    int better;  ///< +1 higher is better (gated), -1 lower is better (gated), 0 shown only
  };
  const figure figures[] = {
      {"committed rows/s", "results/throughput/committed_rows_per_s", +1},
      {"received msg/s", "results/throughput/received_per_s", +1},
      {"published msg/s", "results/throughput/published_per_s", 0},
      {"max sustainable msg/s", "results/max_sustainable/rate_per_s", +1},
      {"p50 publish->commit ms", "results/latency_ms/publish_to_committed/p50", 0},
      {"p99 publish->commit ms", "results/latency_ms/publish_to_committed/p99", -1},
      {"p99.9 publish->commit ms", "results/latency_ms/publish_to_committed/p999", 0},
      {"p99 publish->received ms", "results/latency_ms/publish_to_received/p99", -1},
      {"lost", "results/accounting/lost", 0},
      {"end to end / broker only", "results/ratio_to_reference/committed_rows_per_s", 0},
  };
  compare_result out;
  std::ostringstream t;
  char line[256];
  std::snprintf(line, sizeof line, "%-26s %14s %14s %9s  %s\n", "figure", "old", "new", "change",
                "");
  t << line;
  int compared = 0;
  for (const auto& f : figures) {
    const json* a = at_path(old_report, f.path);
    const json* b = at_path(new_report, f.path);
    if (!a || !b || !a->is_number() || !b->is_number()) continue;
    const double va = a->get<double>(), vb = b->get<double>();
    const double change = va != 0 ? (vb - va) / std::abs(va) : (vb == 0 ? 0 : INFINITY);
    std::string verdict;
    if (f.better != 0) {
      ++compared;
      const bool worse = f.better > 0 ? change < -tolerance : change > tolerance;
      verdict = worse ? "REGRESSION" : "ok";
      out.regression = out.regression || worse;
    }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%+.1f%%", 100 * change);
    std::snprintf(line, sizeof line, "%-26s %14s %14s %9s  %s\n", f.name, fmt(va).c_str(),
                  fmt(vb).c_str(), std::isfinite(change) ? pct : "n/a", verdict.c_str());
    t << line;
  }
  if (compared == 0)
    throw bench_usage_error("the reports share no throughput or p99 figure to compare");
  std::snprintf(
      line, sizeof line, "tolerance %.1f%%: %s\n", 100 * tolerance,
      out.regression ? "REGRESSION (throughput fell or p99 rose beyond it)" : "no regression");
  t << line;
  out.table = t.str();
  return out;
}

compare_result compare_report_files(const std::string& old_file, const std::string& new_file,
                                    double tolerance) {
  const auto load = [](const std::string& path) {
    std::ifstream in(path);
    if (!in) throw bench_usage_error("cannot read " + path);
    try {
      return json::parse(in);
    } catch (const json::exception& e) {
      throw bench_usage_error(path + ": not JSON: " + e.what());
    }
  };
  const json a = load(old_file), b = load(new_file);
  try {
    return compare_reports(a, b, tolerance);
  } catch (const bench_usage_error& e) {
    std::string msg = e.what();
    if (msg.rfind("OLD", 0) == 0) msg = old_file + msg.substr(3);
    if (msg.rfind("NEW", 0) == 0) msg = new_file + msg.substr(3);
    throw bench_usage_error(msg);
  }
}

std::string summary_text(const json& report) {
  std::ostringstream s;
  const json& r = report.at("results");
  const auto num = [&](const char* path) -> std::string {
    const json* v = at_path(report, path);
    return v && v->is_number() ? fmt(v->get<double>()) : std::string("-");
  };
  s << "bench: " << (report.value("complete", false) ? "complete" : "INCOMPLETE") << ", "
    << r.value("stop_reason", "") << "; measured " << num("results/measured_s") << " s\n";
  s << "bench: throughput published " << num("results/throughput/published_per_s")
    << " msg/s, received " << num("results/throughput/received_per_s") << " msg/s, committed "
    << num("results/throughput/committed_rows_per_s") << " rows/s\n";
  for (const char* key : {"publish_to_committed", "publish_to_received"}) {
    const std::string base = std::string("results/latency_ms/") + key;
    if (!at_path(report, base)) continue;
    s << "bench: " << key << " ms p50 " << num((base + "/p50").c_str()) << " p90 "
      << num((base + "/p90").c_str()) << " p99 " << num((base + "/p99").c_str()) << " p99.9 "
      << num((base + "/p999").c_str()) << " max " << num((base + "/max").c_str()) << "\n";
  }
  s << "bench: published " << num("results/accounting/published") << " readings, lost "
    << num("results/accounting/lost") << ", duplicates " << num("results/accounting/duplicates")
    << ", reordered " << num("results/accounting/reordered") << "\n";
  const json& sql = r.at("sql_check");
  if (sql.value("ran", false))
    s << "bench: SQL check " << (sql.value("agrees", false) ? "agrees" : "DISAGREES")
      << (sql.value("compared_with_ingestor", false) ? " with the ingestor's counters"
                                                     : " (no ingestor counters to compare)")
      << ": " << num("results/sql_check/stored_rows") << " rows stored of "
      << num("results/sql_check/published_rows") << " published, "
      << num("results/sql_check/lost_rows") << " lost, " << num("results/sql_check/duplicate_rows")
      << " duplicated\n";
  if (const json* m = at_path(report, "results/max_sustainable/rate_per_s"); m && m->is_number())
    s << "bench: max sustainable " << fmt(m->get<double>()) << " rows/s at p99 "
      << num("results/max_sustainable/p99_ms") << " ms (SLO "
      << num("results/max_sustainable/slo_ms") << " ms)\n";
  if (at_path(report, "results/reference"))
    s << "bench: reference (broker only, same load): received "
      << num("results/reference/throughput/received_per_s") << " msg/s, p99 publish->received "
      << num("results/reference/latency_ms/publish_to_received/p99")
      << " ms; end to end / reference: " << num("results/ratio_to_reference/committed_rows_per_s")
      << " (committed rows), " << num("results/ratio_to_reference/received_per_s")
      << " (received)\n";
  for (const auto& e : r.value("errors", json::array()))
    s << "bench: error: " << e.get<std::string>() << "\n";
  return s.str();
}

}  // namespace factorysim::benchrun
