#pragma once
/// Reading the ingestors' `/metrics` (Prometheus text format 0.0.4) into plain values, and
/// the latency of an interval from two scrapes of a cumulative histogram: the per-second
/// p50/p99 of a bench timeline are quantiles of the bucket differences. Pure.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace factorysim::benchrun {

/// One scrape: every sample by its full name with labels as written
/// (`name{le="0.5"}`), summed over repeated lines.
struct metric_samples {
  std::map<std::string, double> values;
  /// A sample without labels; nullopt when absent.
  std::optional<double> get(const std::string& name) const;
};

/// Parses exposition text; comments and malformed lines are skipped.
metric_samples parse_prometheus_text(std::string_view text);

/// A cumulative histogram: upper bounds (seconds, ascending, +Inf last) and counts <= each.
struct cumulative_histogram {
  std::vector<double> upper_bounds_s;
  std::vector<double> cumulative;
  double sum_s = 0;
  double count = 0;

  /// The observations of (earlier, this]: bucket-wise difference (same bounds expected).
  cumulative_histogram minus(const cumulative_histogram& earlier) const;
  /// Adds another histogram with the same bounds (several ingestors).
  void add(const cumulative_histogram& other);
  /// The q-quantile (0..1) in seconds, linear inside a bucket; nullopt without observations.
  /// Above the last finite bound it answers that bound (the histogram knows no more).
  std::optional<double> quantile_s(double q) const;
  bool empty() const noexcept { return count <= 0; }
};

/// The histogram `name` (its `_bucket`, `_sum`, `_count` series) from a scrape; nullopt when
/// the scrape has no such histogram.
std::optional<cumulative_histogram> histogram_of(const metric_samples& m, const std::string& name);

}  // namespace factorysim::benchrun
