#include "benchrun/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace factorysim::benchrun {

std::optional<double> metric_samples::get(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

namespace {

std::optional<double> parse_number(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  const std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace

metric_samples parse_prometheus_text(std::string_view text) {
  metric_samples m;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    // The name (with labels, which may hold spaces inside quotes) ends at the first space
    // after the closing brace.
    std::size_t name_end = 0;
    if (const auto brace = line.find('{');
        brace != std::string_view::npos && brace < line.find(' ')) {
      const auto close = line.find('}', brace);
      if (close == std::string_view::npos) continue;
      name_end = close + 1;
    } else {
      name_end = line.find(' ');
      if (name_end == std::string_view::npos) continue;
    }
    std::string_view rest = line.substr(name_end);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto space = rest.find(' ');  // an optional timestamp follows
    const auto value = parse_number(rest.substr(0, space));
    if (!value) continue;
    m.values[std::string(line.substr(0, name_end))] += *value;
  }
  return m;
}

cumulative_histogram cumulative_histogram::minus(const cumulative_histogram& earlier) const {
  cumulative_histogram d = *this;
  if (earlier.cumulative.size() != cumulative.size()) return d;
  for (std::size_t i = 0; i < cumulative.size(); ++i)
    d.cumulative[i] = std::max(0.0, cumulative[i] - earlier.cumulative[i]);
  d.sum_s = sum_s - earlier.sum_s;
  d.count = std::max(0.0, count - earlier.count);
  return d;
}

void cumulative_histogram::add(const cumulative_histogram& other) {
  if (cumulative.empty()) {
    *this = other;
    return;
  }
  if (other.cumulative.size() != cumulative.size()) return;
  for (std::size_t i = 0; i < cumulative.size(); ++i) cumulative[i] += other.cumulative[i];
  sum_s += other.sum_s;
  count += other.count;
}

std::optional<double> cumulative_histogram::quantile_s(double q) const {
  if (cumulative.empty()) return std::nullopt;
  const double total = cumulative.back();
  if (total <= 0) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * total;
  double prev_bound = 0, prev_count = 0;
  for (std::size_t i = 0; i < cumulative.size(); ++i) {
    const double bound = upper_bounds_s[i];
    if (cumulative[i] >= rank) {
      if (std::isinf(bound)) return prev_bound;
      const double in_bucket = cumulative[i] - prev_count;
      if (in_bucket <= 0) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / in_bucket;
    }
    prev_bound = std::isinf(bound) ? prev_bound : bound;
    prev_count = cumulative[i];
  }
  return prev_bound;
}

std::optional<cumulative_histogram> histogram_of(const metric_samples& m, const std::string& name) {
  const std::string prefix = name + "_bucket{";
  std::vector<std::pair<double, double>> buckets;
  for (auto it = m.values.lower_bound(prefix); it != m.values.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const auto le = it->first.find("le=\"");
    if (le == std::string::npos) continue;
    const auto end = it->first.find('"', le + 4);
    const auto bound = parse_number(std::string_view(it->first).substr(le + 4, end - le - 4));
    if (bound) buckets.emplace_back(*bound, it->second);
  }
  if (buckets.empty()) return std::nullopt;
  std::sort(buckets.begin(), buckets.end());
  cumulative_histogram h;
  for (const auto& [bound, count] : buckets) {
    h.upper_bounds_s.push_back(bound);
    h.cumulative.push_back(count);
  }
  h.sum_s = m.get(name + "_sum").value_or(0);
  h.count = m.get(name + "_count").value_or(h.cumulative.back());
  return h;
}

}  // namespace factorysim::benchrun
