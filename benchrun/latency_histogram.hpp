#pragma once
/// A small log-linear latency histogram for the broker-only reference subscriber, which
/// measures publish-to-received itself: buckets grow by 2 % from 1 µs (so a percentile is
/// within 2 % of the truth) up to 1000 s, plus an exact count, sum and max. A plain value.

#include <cstdint>
#include <optional>
#include <vector>

namespace factorysim::benchrun {

class latency_histogram {
 public:
  latency_histogram();
  /// Records one latency in microseconds (negative values, from clock steps, count as 0).
  void record_us(double latency_us);
  std::uint64_t count() const noexcept { return count_; }
  double max_us() const noexcept { return max_us_; }
  double mean_us() const noexcept;
  /// The q-quantile (0..1) in microseconds: the upper bound of its bucket, capped at max.
  std::optional<double> quantile_us(double q) const;
  /// This minus an earlier copy of the same histogram (for one second of a timeline).
  latency_histogram minus(const latency_histogram& earlier) const;

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double sum_us_ = 0;
  double max_us_ = 0;
};

}  // namespace factorysim::benchrun
